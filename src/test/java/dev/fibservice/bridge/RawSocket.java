package dev.fibservice.bridge;

import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A raw WebSocket client of the SockJS bridge's plain WebSocket transport ({@code /eventbus/websocket}: one JSON frame
 * per message, no SockJS framing), on a Vert.x of its own: it sends what the official client never would.
 */
final class RawSocket implements AutoCloseable {

  private final Vertx vertx = Vertx.vertx();
  private final BlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
  private final WebSocket socket;
  private volatile boolean closed;

  private RawSocket(int port, String path, String origin) throws Exception {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(path);
    if (origin != null) {
      options.addHeader("Origin", origin);
    }
    WebSocketClient client = vertx.createWebSocketClient();
    WebSocket ws;
    try {
      // the handlers are set on the socket's event loop as it opens: the server may write (and close) at once
      ws = client.connect(options).onSuccess(open -> {
        // this transport writes the bridge's frames as binary messages, the JSON as it is
        open.textMessageHandler(text -> frames.add(new JsonObject(text)));
        open.binaryMessageHandler(bytes -> frames.add(new JsonObject(bytes)));
        open.closeHandler(v -> closed = true);
      }).await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      vertx.close();
      throw e;
    }
    socket = ws;
  }

  /** Connects to the raw WebSocket transport of the bridge at /eventbus, with this Origin header (or none). */
  static RawSocket open(int port, String origin) throws Exception {
    return new RawSocket(port, "/eventbus/websocket", origin);
  }

  void send(JsonObject frame) {
    socket.writeTextMessage(frame.encode()).await();
  }

  void sendText(String text) {
    socket.writeTextMessage(text).await();
  }

  /** A send with a replyAddress, as the official client makes it. */
  void send(String address, String replyAddress, Object body) {
    send(new JsonObject().put("type", "send").put("address", address).put("replyAddress", replyAddress)
      .put("body", body));
  }

  /** The next frame (waits at most 30 s; a hang guard). */
  JsonObject next() throws InterruptedException {
    JsonObject frame = frames.poll(30, TimeUnit.SECONDS);
    if (frame == null) {
      throw new AssertionError("no frame within 30 s");
    }
    return frame;
  }

  /** The next frame for this address, skipping pushes of other addresses. */
  JsonObject next(String address) throws InterruptedException {
    while (true) {
      JsonObject frame = next();
      if (address.equals(frame.getString("address"))) {
        return frame;
      }
    }
  }

  /** Stops reading: what the server writes stays in its queue and the sockets' buffers. */
  void pause() {
    socket.pause();
  }

  boolean closed() {
    return closed;
  }

  WebSocket socket() {
    return socket;
  }

  @Override
  public void close() throws Exception {
    try {
      if (!closed) {
        socket.close().await(10, TimeUnit.SECONDS);
      }
    } catch (Exception e) {
      // already closed by the server
    } finally {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
  }
}
