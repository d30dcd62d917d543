package dev.fibservice.bridge;

import dev.fibservice.Eventually;
import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import dev.fibservice.compute.Admission;
import dev.fibservice.net.Raw;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The TCP event-bus bridge against clients that flood, pipeline, repeat ids, hoard connections or cancel others. */
class BridgeTest {

  private FibService service;

  private void start(Map<String, String> overrides) throws Exception {
    Map<String, String> all = new HashMap<>(Map.of("bridge.enabled", "true", "bridge.port", "0"));
    all.putAll(overrides);
    service = TestNodes.start(all);
  }

  @AfterEach
  void stop() throws Exception {
    TestNodes.stop(service);
  }

  private Socket connect() throws IOException {
    return Raw.connect(service.bridgePort());
  }

  private Admission admission() {
    return service.node().admission();
  }

  @Test
  void aClientThatFloodsPingsAndNeverReadsIsNoLongerRead() throws Exception {
    start(Map.of());
    long cap = 256L << 20;
    byte[] ping = Raw.frame(new JsonObject().put("type", "ping"));
    ByteArrayOutputStream batch = new ByteArrayOutputStream();
    for (int i = 0; i < 1000; i++) {
      batch.write(ping);
    }
    byte[] pings = batch.toByteArray();
    try (Socket socket = new Socket()) {
      socket.setReceiveBufferSize(16 * 1024);
      socket.setSendBufferSize(64 * 1024);
      socket.connect(new InetSocketAddress("127.0.0.1", service.bridgePort()));
      socket.setSoTimeout(30_000);
      AtomicLong written = new AtomicLong();
      AtomicBoolean stop = new AtomicBoolean();
      byte[] chunk = pings;
      Thread writer = new Thread(() -> {
        try {
          OutputStream out = socket.getOutputStream();
          while (!stop.get() && written.get() < cap) {
            out.write(chunk);
            written.addAndGet(chunk.length);
          }
        } catch (IOException e) {
          written.set(-1);
        }
      }, "ping-flood");
      writer.start();
      // the outcome: the client's writes stall (the server stopped reading it), long before the cap
      long[] seen = {-2, 0};
      Eventually.within(Duration.ofSeconds(60), Duration.ofMillis(100), () -> {
        long now = written.get();
        seen[1] = now == seen[0] ? seen[1] + 1 : 0;
        seen[0] = now;
        return seen[1] >= 10 || now >= cap;
      });
      long stalledAt = written.get();
      System.out.println("ping flood: the client's writes stalled after " + (stalledAt >> 10) + " KiB");
      assertTrue(stalledAt > 0 && stalledAt < 64L << 20, "the bridge kept reading a client that does not read its"
        + " pongs: " + (stalledAt >> 20) + " MiB written");
      stop.set(true);
      // reading again, the client gets a pong for every ping it sent, and the server reads the rest
      DataInputStream in = new DataInputStream(socket.getInputStream());
      long pongs = 0;
      while (writer.isAlive() || pongs < written.get() / ping.length) {
        JsonObject pong = Raw.readFrame(in);
        assertNotNull(pong, "closed after " + pongs + " pongs");
        assertEquals("pong", pong.getString("type"));
        pongs++;
        if (!writer.isAlive() && pongs == written.get() / ping.length) {
          break;
        }
      }
      writer.join(30_000);
      assertEquals(written.get() / ping.length, pongs);
    }
  }

  @Test
  void theInFlightCapHoldsWhateverIdsTheClientSends() throws Exception {
    start(Map.of("bridge.maxInFlightPerConnection", "8", "fib.maxInFlight", "1000"));
    int frames = 400;
    try (Socket flood = connect(); Socket other = connect()) {
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      for (int i = 0; i < frames; i++) {
        // one id for all: the cap counts the server's entries, not the client's ids
        all.write(Raw.frame(Raw.compute("r" + i, "same", new JsonObject().put("n", 27).put("algorithm", "recursive"))));
      }
      AtomicInteger replies = new AtomicInteger();
      AtomicInteger maxInFlight = new AtomicInteger();
      AtomicBoolean done = new AtomicBoolean();
      Thread sampler = new Thread(() -> {
        try {
          // at most 60 s of samples, a millisecond apart
          for (int i = 0; i < 60_000 && !done.get(); i++) {
            maxInFlight.accumulateAndGet(admission().inFlight(false), Math::max);
            Thread.sleep(1);
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "in-flight-sampler");
      sampler.start();
      AtomicInteger wrong = new AtomicInteger();
      Thread reader = new Thread(() -> {
        try {
          DataInputStream in = new DataInputStream(flood.getInputStream());
          for (int i = 0; i < frames; i++) {
            JsonObject reply = Raw.readFrame(in);
            if (reply == null || !"196418".equals(reply.getJsonObject("body", new JsonObject()).getString("value"))) {
              wrong.incrementAndGet();
            }
            replies.incrementAndGet();
          }
        } catch (IOException e) {
          wrong.incrementAndGet();
        }
      }, "flood-reader");
      reader.start();
      flood.getOutputStream().write(all.toByteArray());
      Eventually.within(Duration.ofSeconds(15), () -> replies.get() >= 10);
      // another client is answered meanwhile, not after the flood
      Raw.sendFrame(other, Raw.compute("mine", "same", new JsonObject().put("n", 26).put("algorithm", "recursive")));
      JsonObject mine = Raw.readFrame(new DataInputStream(other.getInputStream()));
      int floodRepliesThen = replies.get();
      assertEquals("121393", mine.getJsonObject("body").getString("value"), mine.encode());
      reader.join(60_000);
      done.set(true);
      sampler.join(10_000);
      System.out.println("in flight at most " + maxInFlight.get() + "; the other client was answered after "
        + floodRepliesThen + " of the flood's " + frames + " replies");
      assertEquals(frames, replies.get());
      assertEquals(0, wrong.get());
      assertTrue(floodRepliesThen < frames, "the other client waited for the whole flood");
      // the flood's 8 plus the other client's one
      assertTrue(maxInFlight.get() <= 9, "in flight: " + maxInFlight.get() + " (bridge.maxInFlightPerConnection = 8)");
    }
  }

  @Test
  void connectionsAreCapped() throws Exception {
    start(Map.of("bridge.maxConnections", "2"));
    try (Socket a = connect(); Socket b = connect()) {
      assertPong(a);
      assertPong(b);
      try (Socket c = connect()) {
        DataInputStream in = new DataInputStream(c.getInputStream());
        JsonObject refused = Raw.readFrame(in);
        assertEquals("err", refused.getString("type"));
        assertTrue(refused.getString("message").contains("too many connections (2, bridge.maxConnections)"),
          refused.encode());
        assertNull(Raw.readFrame(in), "closed after the error");
      }
      a.close();
      // once one is closed, a new connection is served (the server notices the close shortly after)
      boolean served = Eventually.within(Duration.ofSeconds(10), Duration.ofMillis(100), () -> {
        try (Socket d = connect()) {
          Raw.sendFrame(d, new JsonObject().put("type", "ping"));
          return "pong".equals(Raw.readFrame(new DataInputStream(d.getInputStream())).getString("type"));
        }
      });
      assertTrue(served);
    }
  }

  @Test
  void lengthPrefixesZeroAndOneSayWhatIsWrong() throws Exception {
    start(Map.of());
    for (byte[] bytes : new byte[][] {{0, 0, 0, 0}, {0, 0, 0, 1, '{'}}) {
      try (Socket socket = connect()) {
        socket.getOutputStream().write(bytes);
        DataInputStream in = new DataInputStream(socket.getInputStream());
        JsonObject error = Raw.readFrame(in);
        assertEquals("frame_too_small: a frame holds a JSON object, at least 2 bytes ({}), this one announced "
          + bytes[3], error.getString("message"));
        assertNull(Raw.readFrame(in), "closed after the error");
      }
    }
  }

  @Test
  void aConnectionCancelsOnlyItsOwnRequests() throws Exception {
    // recursive fib(60) never ends by itself: the victim's ends at its deadline (504), a cancelled one with 499
    start(Map.of("fib.maxN.recursive", "60", "fib.timeoutMs", "5000"));
    JsonObject forever = new JsonObject().put("n", 60).put("algorithm", "recursive");
    try (Socket victim = connect(); Socket attacker = connect()) {
      Raw.sendFrame(victim, Raw.compute("v", "victim", forever));
      awaitInFlight(1);
      Raw.sendFrame(attacker, new JsonObject().put("type", "publish").put("address", "fib.cancel")
        .put("body", new JsonObject().put("id", "victim")));
      // the attacker's own request under the same id, then its own cancel: that one it may cancel
      Raw.sendFrame(attacker, Raw.compute("a", "victim", forever));
      awaitInFlight(2);
      Raw.sendFrame(attacker, new JsonObject().put("type", "publish").put("address", "fib.cancel")
        .put("body", new JsonObject().put("id", "victim")));
      JsonObject own = Raw.readFrame(new DataInputStream(attacker.getInputStream()));
      assertEquals("a", own.getString("address"), own.encode());
      assertEquals(499, own.getInteger("failureCode"), own.encode());
      JsonObject theirs = Raw.readFrame(new DataInputStream(victim.getInputStream()));
      assertEquals("v", theirs.getString("address"), theirs.encode());
      assertEquals(504, theirs.getInteger("failureCode"), "another connection cancelled it: " + theirs.encode());
    }
  }

  @Test
  void theSharedPermissionTableHoldsHereToo() throws Exception {
    start(Map.of());
    try (Socket socket = connect()) {
      DataInputStream in = new DataInputStream(socket.getInputStream());
      // an internal address: refused, and the connection stays open
      Raw.sendFrame(socket, new JsonObject().put("type", "send").put("address", "fib.worker.heavy")
        .put("replyAddress", "w").put("body", new JsonObject().put("n", 5)));
      assertEquals("access_denied", Raw.readFrame(in).getString("message"));
      // jobs.status answers, here 503 since the database is off
      Raw.sendFrame(socket, new JsonObject().put("type", "send").put("address", "jobs.status")
        .put("replyAddress", "j").put("body", new JsonObject().put("id", "nope")));
      JsonObject jobs = Raw.readFrame(in);
      assertEquals("j", jobs.getString("address"), jobs.encode());
      assertEquals(503, jobs.getInteger("failureCode"), jobs.encode());
      // fib.stats pushes while registered
      Raw.sendFrame(socket, new JsonObject().put("type", "register").put("address", "fib.stats"));
      JsonObject push = Raw.readFrame(in);
      assertEquals("message", push.getString("type"), push.encode());
      assertEquals("fib.stats", push.getString("address"), push.encode());
      assertEquals("test", push.getJsonObject("body").getString("node"), push.encode());
      assertTrue(push.getJsonObject("body").containsKey("requestsPerSecond"), push.encode());
      assertEquals(1, service.statsFeed().subscribers());
      Raw.sendFrame(socket, new JsonObject().put("type", "unregister").put("address", "fib.stats"));
      Eventually.await("no subscriber left", Duration.ofSeconds(15), () -> service.statsFeed().subscribers() == 0);
      // a register of anything else is refused
      Raw.sendFrame(socket, new JsonObject().put("type", "register").put("address", "jobs.cancelled"));
      JsonObject refused = Raw.readFrame(in);
      while ("fib.stats".equals(refused.getString("address"))) {
        refused = Raw.readFrame(in); // a push already on its way when it unregistered
      }
      assertEquals("access_denied", refused.getString("message"), refused.encode());
      assertPong(socket);
    }
  }

  private void awaitInFlight(int n) throws Exception {
    Eventually.within(Duration.ofSeconds(15), () -> admission().inFlight() == n);
    assertEquals(n, admission().inFlight());
  }

  private static void assertPong(Socket socket) throws IOException {
    Raw.sendFrame(socket, new JsonObject().put("type", "ping"));
    assertEquals("pong", Raw.readFrame(new DataInputStream(socket.getInputStream())).getString("type"));
  }
}
