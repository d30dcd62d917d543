package dev.fibservice.net;

import dev.fibservice.Eventually;
import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A node that stops (SIGTERM: {@link FibService#stop}) with TCP line and bridge connections open: each answers what
 * it had taken, then closes, and an idle one closes at once. Before, such a connection held the stop until the end of
 * shutdown.graceMs and was then cut with its answers unsent: every front with a TCP client took its whole grace
 * period to leave, and a rolling upgrade waited that long at every front.
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
      Raw.send(busyLine, "38 recursive\n");
      Raw.sendFrame(busyBridge, Raw.compute("r1", null, new JsonObject().put("n", 38).put("algorithm", "recursive")));
      Eventually.within(Duration.ofSeconds(30), () -> service.node().admission().inFlight() == 2);
      Thread stop = new Thread(() -> service.stop(), "test-stop");
      stop.start();

      assertEquals("39088169\n", new String(Raw.readToEnd(busyLine), StandardCharsets.US_ASCII),
        "the line in flight is answered, then the connection closes");
      DataInputStream busyFrames = new DataInputStream(busyBridge.getInputStream());
      JsonObject reply = Raw.readFrame(busyFrames);
      assertEquals("r1", reply.getString("address"), reply.encode());
      assertEquals("39088169", reply.getJsonObject("body").getString("value"));
      assertNull(Raw.readFrame(busyFrames), "the bridge connection closes after its reply");
      assertEquals(0, Raw.readToEnd(idleLine).length, "the idle line connection is closed");
      assertNull(Raw.readFrame(idleFrames), "the idle bridge connection is closed");
      stop.join(60_000);
      assertFalse(stop.isAlive(), "the stop waited for connections with nothing in flight (shutdown.graceMs "
        + GRACE_MS + ")");
      service = null;
    }
  }
}
