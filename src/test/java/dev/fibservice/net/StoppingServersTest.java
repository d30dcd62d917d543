package dev.fibservice.net;

import dev.fibservice.Eventually;
import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A node that stops (SIGTERM: {@link FibService#stop}) with TCP line, TCP bridge and SockJS (WebSocket) connections
 * open: each answers what it had taken, then closes, and an idle one closes at once. Before, such a connection held the
 * stop until the end of shutdown.graceMs and was then cut with its answers unsent: every front with such a client took
 * its whole grace period to leave, and a rolling upgrade waited that long at every front.
 */
class StoppingServersTest {

  /** Far longer than this test takes: a stop that waits it out fails the join below. */
  private static final int GRACE_MS = 120_000;

  private FibService service;

  @AfterEach
  void stopNode() throws Exception {
    TestNodes.stop(service);
  }

  @Test
  void openConnectionsAnswerWhatTheyTookAndCloseWithoutWaitingOutTheGracePeriod() throws Exception {
    service = TestNodes.start(Map.of("bridge.enabled", "true", "bridge.port", "0",
      "shutdown.graceMs", String.valueOf(GRACE_MS), "fib.timeoutMs", "600000"));
    try (Socket idleLine = Raw.connect(service.tcpPort()); Socket busyLine = Raw.connect(service.tcpPort());
         Socket idleBridge = Raw.connect(service.bridgePort()); Socket busyBridge = Raw.connect(service.bridgePort())) {
      for (Socket s : new Socket[] {idleLine, busyLine, idleBridge, busyBridge}) {
        s.setSoTimeout(90_000);
      }
      // the connections are in use: each has had an answer
      Raw.send(idleLine, "10\n");
      assertEquals("55\n", new String(idleLine.getInputStream().readNBytes(3), StandardCharsets.US_ASCII));
      DataInputStream idleFrames = new DataInputStream(idleBridge.getInputStream());
      Raw.sendFrame(idleBridge, new JsonObject().put("type", "ping"));
      assertEquals("pong", Raw.readFrame(idleFrames).getString("type"));
      // seconds of work in flight on the other two when the stop begins
      Frames idleSockJs = Frames.open(service.httpPort());
      Frames busySockJs = Frames.open(service.httpPort());
      idleSockJs.send(Raw.compute("s0", null, new JsonObject().put("n", 10)));
      assertEquals("55", idleSockJs.next().getJsonObject("body").getString("value"));
      Raw.send(busyLine, "38 recursive\n");
      Raw.sendFrame(busyBridge, Raw.compute("r1", null, new JsonObject().put("n", 38).put("algorithm", "recursive")));
      busySockJs.send(Raw.compute("s1", null, new JsonObject().put("n", 38).put("algorithm", "recursive")));
      Eventually.within(Duration.ofSeconds(30), () -> service.node().admission().inFlight() == 3);
      Thread stop = new Thread(() -> service.stop(), "test-stop");
      stop.start();

      assertEquals("39088169\n", new String(Raw.readToEnd(busyLine), StandardCharsets.US_ASCII),
        "the line in flight is answered, then the connection closes");
      DataInputStream busyFrames = new DataInputStream(busyBridge.getInputStream());
      JsonObject reply = Raw.readFrame(busyFrames);
      assertEquals("r1", reply.getString("address"), reply.encode());
      assertEquals("39088169", reply.getJsonObject("body").getString("value"));
      assertNull(Raw.readFrame(busyFrames), "the bridge connection closes after its reply");
      JsonObject sockJsReply = busySockJs.next();
      assertEquals("s1", sockJsReply.getString("address"), sockJsReply.encode());
      assertEquals("39088169", sockJsReply.getJsonObject("body").getString("value"));
      busySockJs.awaitClose();
      assertEquals(0, Raw.readToEnd(idleLine).length, "the idle line connection is closed");
      assertNull(Raw.readFrame(idleFrames), "the idle bridge connection is closed");
      idleSockJs.awaitClose();
      stop.join(60_000);
      assertFalse(stop.isAlive(), "the stop waited for connections with nothing in flight (shutdown.graceMs "
        + GRACE_MS + ")");
      service = null;
    }
  }

  /** A SockJS client on the raw WebSocket transport: the frames it gets, and the server's close. */
  private static final class Frames implements WebSocket.Listener {
    private final BlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final StringBuilder text = new StringBuilder();
    private final ByteArrayOutputStream binary = new ByteArrayOutputStream();
    private WebSocket socket;

    static Frames open(int port) throws Exception {
      Frames f = new Frames();
      f.socket = HttpClient.newHttpClient().newWebSocketBuilder()
        .buildAsync(URI.create("ws://127.0.0.1:" + port + "/eventbus/websocket"), f).get(30, TimeUnit.SECONDS);
      return f;
    }

    void send(JsonObject frame) throws Exception {
      socket.sendText(frame.encode(), true).get(30, TimeUnit.SECONDS);
    }

    JsonObject next() throws InterruptedException {
      JsonObject frame = frames.poll(90, TimeUnit.SECONDS);
      assertNotNull(frame, "no SockJS frame within 90 s");
      return frame;
    }

    void awaitClose() throws Exception {
      closed.get(90, TimeUnit.SECONDS);
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        frames.add(new JsonObject(text.toString()));
        text.setLength(0);
      }
      ws.request(1);
      return null;
    }

    /** This transport writes the bridge's frames as binary messages, the JSON as it is. */
    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
      byte[] bytes = new byte[data.remaining()];
      data.get(bytes);
      binary.writeBytes(bytes);
      if (last) {
        frames.add(new JsonObject(binary.toString(StandardCharsets.UTF_8)));
        binary.reset();
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
      closed.complete(status);
      // the closing handshake, as a browser completes it
      return ws.sendClose(WebSocket.NORMAL_CLOSURE, "");
    }
  }
}
