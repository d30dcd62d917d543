package dev.fibservice.bench;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How the load tool reads HTTP/1.1 off the wire: every way a response can be framed (length, chunks, until close), a
 * server that closes keep-alive connections, interim and bodiless responses, and a server that speaks no HTTP at all.
 * Raw sockets answer with exact bytes, so a parser that lost its place in the stream shows as errors or wrong counts.
 */
class HttpWireTest {

  /** A loopback server that answers every request head it reads with fixed bytes; counts connections and requests. */
  static final class RawServer implements AutoCloseable {
    final ServerSocket socket;
    final byte[] response;
    final boolean closeAfterEach;
    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger requests = new AtomicInteger();
    private final Thread acceptor;

    RawServer(String response, boolean closeAfterEach) throws IOException {
      this.socket = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
      this.response = response.getBytes(StandardCharsets.ISO_8859_1);
      this.closeAfterEach = closeAfterEach;
      this.acceptor = new Thread(this::acceptLoop, "raw-http-acceptor");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    String url(String path) {
      return "http://127.0.0.1:" + socket.getLocalPort() + path;
    }

    private void acceptLoop() {
      while (!socket.isClosed()) {
        try {
          Socket s = socket.accept();
          connections.incrementAndGet();
          Thread t = new Thread(() -> serve(s), "raw-http-conn");
          t.setDaemon(true);
          t.start();
        } catch (IOException e) {
          return;
        }
      }
    }

    private void serve(Socket s) {
      try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
        s.setSoTimeout(10_000);
        int matched = 0;
        int b;
        while ((b = in.read()) >= 0) {
          // a request head ends with CRLF CRLF (the tool's GETs carry no body)
          matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
          if (matched == 4) {
            matched = 0;
            requests.incrementAndGet();
            out.write(response);
            out.flush();
            if (closeAfterEach) {
              return;
            }
          }
        }
      } catch (IOException e) {
        // the client went away: nothing to do
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  private static BenchResult run(String url, int requests, int concurrency) {
    return Bench.run(new BenchOptions().target(url).requests(requests).concurrency(concurrency)
      .timeout(Duration.ofSeconds(5)).maxDuration(Duration.ofSeconds(60)));
  }

  @Test
  void contentLengthBodiesAreCountedToTheByte() throws Exception {
    String response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world";
    try (RawServer server = new RawServer(response, false)) {
      BenchResult r = run(server.url("/x"), 200, 4);
      assertEquals(200, r.completed());
      assertEquals(Map.of(), r.errors());
      assertEquals(200L * response.length(), r.bytes());
      assertTrue(server.connections.get() <= 4, "keep-alive: at most one connection per request in flight, saw "
        + server.connections.get());
    }
  }

  @Test
  void chunkedBodiesWithExtensionsAndTrailersEndWhereTheyEnd() throws Exception {
    String response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      + "5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\n";
    try (RawServer server = new RawServer(response, false)) {
      BenchResult r = run(server.url("/chunked"), 150, 3);
      assertEquals(150, r.completed());
      assertEquals(Map.of(), r.errors());
      assertEquals(150L * response.length(), r.bytes());
      assertTrue(server.connections.get() <= 3, "connections: " + server.connections.get());
    }
  }

  @Test
  void chunkedResponsesOfAVertxServerSplitAcrossWrites() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      HttpServer http = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
        .requestHandler(req -> {
          req.response().setChunked(true).write("first ");
          vertx.setTimer(1, id -> req.response().write("second ").onComplete(v -> req.response().end("end")));
        });
      http.listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      BenchResult r = run("http://127.0.0.1:" + http.actualPort() + "/", 100, 5);
      assertEquals(100, r.completed());
      assertEquals(Map.of(), r.errors());
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aBodyWithoutLengthEndsWithItsConnection() throws Exception {
    String response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end";
    try (RawServer server = new RawServer(response, true)) {
      BenchResult r = run(server.url("/"), 40, 2);
      assertEquals(40, r.completed());
      assertEquals(Map.of(), r.errors());
      assertEquals(40L * response.length(), r.bytes());
      assertEquals(40, server.connections.get());
    }
  }

  @Test
  void aKeepAliveConnectionTheServerClosesIsReplacedWithoutErrors() throws Exception {
    String response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    try (RawServer server = new RawServer(response, true)) {
      BenchResult r = run(server.url("/"), 60, 3);
      assertEquals(60, r.completed());
      assertEquals(Map.of(), r.errors());
      assertEquals(60, server.connections.get());
    }
  }

  @Test
  void interimAndBodilessResponses() throws Exception {
    for (String response : new String[] {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
      "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"}) {
      try (RawServer server = new RawServer(response, false)) {
        BenchResult r = run(server.url("/"), 30, 1);
        assertEquals(30, r.completed(), response);
        assertEquals(Map.of(), r.errors(), response);
        assertEquals(1, server.connections.get(), response);
      }
    }
  }

  @Test
  void headResponsesCarryNoBodyWhateverTheirLength() throws Exception {
    String response = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
    try (RawServer server = new RawServer(response, false)) {
      BenchResult r = Bench.run(new BenchOptions().target(server.url("/")).method("HEAD").requests(50).concurrency(2)
        .timeout(Duration.ofSeconds(5)));
      assertEquals(50, r.completed());
      assertEquals(Map.of(), r.errors());
      assertTrue(server.connections.get() <= 2, "connections: " + server.connections.get());
    }
  }

  @Test
  void aServerThatSpeaksNoHttpGivesErrorsNotAHang() throws Exception {
    try (RawServer server = new RawServer("SSH-2.0-OpenSSH_9.2\r\n\r\n", false)) {
      BenchResult r = run(server.url("/"), 20, 2);
      assertEquals(0, r.completed());
      assertEquals(Map.of("other", 20L), r.errors());
    }
  }

  @Test
  void statusErrorsAreCountedByStatusAndKeepTheConnection() throws Exception {
    String response = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy";
    try (RawServer server = new RawServer(response, false)) {
      BenchResult r = run(server.url("/"), 30, 1);
      assertEquals(Map.of("status 503", 30L), r.errors());
      assertEquals(1, server.connections.get());
    }
  }

  @Test
  void theRequestIsEncodedOnceAsTheWireExpects() {
    BenchOptions.Plan plan = new BenchOptions().target("http://localhost:8080/fib?n=3").method("post")
      .header("X-Test", "yes").body("{}").keepAlive(false).validate();
    assertEquals("POST /fib?n=3 HTTP/1.1\r\nHost: localhost:8080\r\nX-Test: yes\r\nContent-Length: 2\r\n"
      + "Connection: close\r\n\r\n{}", new String(HttpWorker.encodeRequest(plan), StandardCharsets.ISO_8859_1));
    BenchOptions.Plan own = new BenchOptions().target("http://127.0.0.1/").header("Host", "example").validate();
    assertEquals("GET / HTTP/1.1\r\nHost: example\r\n\r\n",
      new String(HttpWorker.encodeRequest(own), StandardCharsets.ISO_8859_1));
  }
}
