package dev.fibservice.net;

import dev.fibservice.Eventually;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DuplexChannel;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Guards what {@link Wire} takes from Vert.x's internals (an upgrade of Vert.x or Netty that changes them fails
 * here): the Netty channel behind a socket and an HTTP connection, the half-closure option, our handlers in the
 * pipeline where they must be, and the end of the stream arriving behind the data of a paused socket.
 */
@ExtendWith(VertxExtension.class)
class WireTest {

  @Test
  void aSocketAllowsHalfClosureAndEndsBehindItsData(Vertx vertx) throws Exception {
    CompletableFuture<Boolean> installed = new CompletableFuture<>();
    CompletableFuture<Channel> channel = new CompletableFuture<>();
    CompletableFuture<NetSocket> accepted = new CompletableFuture<>();
    StringBuilder received = new StringBuilder();
    CompletableFuture<String> ended = new CompletableFuture<>();
    NetServer server = vertx.createNetServer().connectHandler(socket -> {
      installed.complete(Wire.allowHalfClose(socket));
      channel.complete(Wire.channel(socket));
      // paused from the start: the data and the FIN wait in Vert.x's queues, the FIN's event does not
      socket.pause();
      socket.handler(data -> received.append(data.toString(StandardCharsets.UTF_8)));
      socket.endHandler(v -> {
        if (Wire.halfClosed(socket)) {
          ended.complete(received.toString());
          socket.end(Buffer.buffer("got " + received));
        }
      });
      accepted.complete(socket);
    }).listen(0, "127.0.0.1").await();
    try (Socket client = Raw.connect(server.actualPort())) {
      Raw.send(client, "half");
      client.shutdownOutput();
      assertTrue(installed.get(30, TimeUnit.SECONDS), "the socket's channel cannot be reached");
      Channel ch = channel.get(30, TimeUnit.SECONDS);
      assertEquals(Boolean.TRUE, ch.config().getOption(ChannelOption.ALLOW_HALF_CLOSURE));
      List<String> names = ch.pipeline().names();
      assertTrue(names.indexOf(Wire.INPUT_END) >= 0 && names.indexOf(Wire.INPUT_END) < names.indexOf(Wire.VERTX_HANDLER),
        "pipeline: " + names);
      // the FIN has come while the socket is paused; the connection stays open
      Eventually.within(Duration.ofSeconds(5), () -> ((DuplexChannel) ch).isInputShutdown());
      assertTrue(ch.isActive());
      assertFalse(ended.isDone(), "the end came before the data it follows");
      accepted.get().resume();
      assertEquals("half", ended.get(30, TimeUnit.SECONDS));
      assertEquals("got half", new String(Raw.readToEnd(client), StandardCharsets.UTF_8));
    }
  }

  @Test
  void anHttpConnectionGetsTheGuardedDecoderAndTheGuard(Vertx vertx) throws Exception {
    CompletableFuture<Boolean> installed = new CompletableFuture<>();
    CompletableFuture<Object> decoder = new CompletableFuture<>();
    CompletableFuture<Object> halfClosure = new CompletableFuture<>();
    CompletableFuture<List<String>> pipeline = new CompletableFuture<>();
    HttpServerOptions options = new HttpServerOptions().setHttp2ClearTextEnabled(false);
    HttpServer server = vertx.createHttpServer(options).connectionHandler((HttpConnection connection) -> {
      installed.complete(Wire.guardHttp(connection, options, guards(vertx)));
      Channel ch = Wire.channel(connection);
      decoder.complete(ch == null ? null : ch.pipeline().get(Wire.HTTP_DECODER));
      halfClosure.complete(ch == null ? null : ch.config().getOption(ChannelOption.ALLOW_HALF_CLOSURE));
      pipeline.complete(ch == null ? List.of() : ch.pipeline().names());
    }).requestHandler(request -> request.response().end("ok")).listen(0, "127.0.0.1").await();
    try (Socket client = Raw.connect(server.actualPort())) {
      Raw.send(client, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      client.shutdownOutput();
      List<Raw.HttpReply> replies = Raw.httpReplies(Raw.readToEnd(client));
      assertEquals("ok", replies.get(0).body());
      assertTrue(installed.get(30, TimeUnit.SECONDS), "the connection's channel cannot be reached");
      assertInstanceOf(GuardedRequestDecoder.class, decoder.get(30, TimeUnit.SECONDS));
      assertEquals(Boolean.TRUE, halfClosure.get(30, TimeUnit.SECONDS));
      List<String> names = pipeline.get(30, TimeUnit.SECONDS);
      assertTrue(names.indexOf(Wire.HTTP_DECODER) >= 0 && names.indexOf(Wire.HTTP_DECODER) < names.indexOf(Wire.HTTP_GUARD)
        && names.indexOf(Wire.HTTP_GUARD) < names.indexOf(Wire.VERTX_HANDLER), "pipeline: " + names);
    }
  }

  @Test
  void aSocketWritesStraightToItsChannelAndStillHoldsBackWhenTheClientDoesNotRead(Vertx vertx) throws Exception {
    CompletableFuture<Boolean> direct = new CompletableFuture<>();
    CompletableFuture<String> writer = new CompletableFuture<>();
    CompletableFuture<Long> written = new CompletableFuture<>();
    CompletableFuture<Boolean> drained = new CompletableFuture<>();
    Buffer chunk = Buffer.buffer("x".repeat(64 * 1024));
    NetServer server = vertx.createNetServer().connectHandler(socket -> {
      direct.complete(Wire.writeDirect(socket));
      writer.complete(outboundQueue(socket));
      long bytes = 0;
      // the client reads nothing yet: the socket must say it is full long before 256 MB
      while (!socket.writeQueueFull() && bytes < 256L * 1024 * 1024) {
        socket.write(chunk);
        bytes += chunk.length();
      }
      written.complete(bytes);
      socket.drainHandler(v -> {
        drained.complete(true);
        socket.end();
      });
    }).listen(0, "127.0.0.1").await();
    try (Socket client = Raw.connect(server.actualPort())) {
      assertTrue(direct.get(30, TimeUnit.SECONDS), "the socket's writer cannot be replaced");
      assertEquals("DirectOutboundMessageQueue", writer.get(30, TimeUnit.SECONDS));
      long bytes = written.get(30, TimeUnit.SECONDS);
      assertTrue(bytes < 256L * 1024 * 1024, "never full");
      assertFalse(drained.isDone());
      assertEquals(bytes, Raw.readToEnd(client).length, "every byte written before the drain, in one piece");
      assertTrue(drained.get(30, TimeUnit.SECONDS));
    }
  }

  /** The simple name of the class Vert.x writes a connection's messages through. */
  private static String outboundQueue(NetSocket socket) {
    try {
      java.lang.reflect.Field field = io.vertx.core.net.impl.VertxConnection.class
        .getDeclaredField("outboundMessageQueue");
      field.setAccessible(true);
      return field.get(socket).getClass().getSimpleName();
    } catch (ReflectiveOperationException e) {
      return e.toString();
    }
  }

  /** Guards whose sweep never ticks within a test and whose reports go nowhere. */
  static HttpGuards guards(Vertx vertx) {
    return new HttpGuards(new TimeoutSweep(vertx, 3_600_000), 10_000, 60_000, new HttpGuards.Listener() {
      @Override
      public void failed(HttpConnection connection, Throwable failure) {
      }

      @Override
      public void closed(HttpConnection connection) {
      }
    });
  }
}
