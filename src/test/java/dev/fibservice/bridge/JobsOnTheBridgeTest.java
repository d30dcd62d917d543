package dev.fibservice.bridge;

import dev.fibservice.TestNode;
import dev.fibservice.net.Raw;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.DataInputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A TCP-bridge client follows a job it submitted through its events (register jobs.events.<id>, then read the job once:
 * nothing is missed), cancels and retries it on the bus; the all-jobs address and a malformed id stay refused, and
 * registrations are capped (bridge.maxHandlersPerConnection). Real MariaDB, real sockets.
 */
class JobsOnTheBridgeTest {

  @RegisterExtension
  static final TestNode node = TestNode.withDatabase("bridge_jobs", Map.of("bridge.enabled", "true", "bridge.port", "0",
    "jobs.pollMs", "50", "bridge.maxHandlersPerConnection", "3"));

  private static JsonObject send(Socket socket, DataInputStream in, String address, JsonObject body) throws Exception {
    Raw.sendFrame(socket, new JsonObject().put("type", "send").put("address", address).put("replyAddress", "r-" + address)
      .put("body", body));
    return next(in, "r-" + address);
  }

  /** The next frame for {@code address}, collecting the events that arrive meanwhile. */
  private static final List<JsonObject> events = new ArrayList<>();

  private static JsonObject next(DataInputStream in, String address) throws Exception {
    while (true) {
      JsonObject frame = Raw.readFrame(in);
      if (frame == null) {
        throw new AssertionError("closed while waiting for " + address);
      }
      if (address.equals(frame.getString("address")) || "err".equals(frame.getString("type"))
        && frame.getString("address") == null) {
        return frame;
      }
      events.add(frame);
    }
  }

  @Test
  void aClientFollowsItsJobByItsEventsAndCancelsAndRetriesItOnTheBus() throws Exception {
    events.clear();
    try (Socket socket = Raw.connect(node.service().bridgePort())) {
      DataInputStream in = new DataInputStream(socket.getInputStream());
      JsonObject submitted = send(socket, in, "jobs.submit", new JsonObject().put("n", 300).put("delayMs", 600_000));
      assertEquals("SCHEDULED", submitted.getJsonObject("body").getString("status"), submitted.encode());
      String id = submitted.getJsonObject("body").getString("id");
      String address = "jobs.events." + id;
      Raw.sendFrame(socket, new JsonObject().put("type", "register").put("address", address));
      // then read it once: from here on every change arrives as an event
      assertEquals("SCHEDULED", send(socket, in, "jobs.status", new JsonObject().put("id", id)).getJsonObject("body")
        .getString("status"));
      assertEquals("CANCELLED", send(socket, in, "jobs.cancel", new JsonObject().put("id", id)).getJsonObject("body")
        .getString("status"));
      JsonObject retried = send(socket, in, "jobs.retry", new JsonObject().put("id", id));
      assertEquals("PENDING", retried.getJsonObject("body").getString("status"), retried.encode());
      JsonObject again = send(socket, in, "jobs.retry", new JsonObject().put("id", id));
      assertEquals(409, again.getInteger("failureCode"), again.encode());
      while (events.stream().noneMatch(e -> "DONE".equals(e.getJsonObject("body").getString("status")))) {
        events.add(Raw.readFrame(in));
      }
      List<String> statuses = events.stream().filter(e -> address.equals(e.getString("address")))
        .map(e -> e.getJsonObject("body")).filter(b -> !b.containsKey("progress")).map(b -> b.getString("status"))
        .toList();
      assertEquals(List.of("CANCELLED", "PENDING", "RUNNING", "DONE"), statuses, events.toString());
      assertEquals(id, events.get(events.size() - 1).getJsonObject("body").getString("id"));
    }
  }

  @Test
  void anIdempotencyKeyInTheFramesHeadersMakesOneJob() throws Exception {
    events.clear();
    try (Socket socket = Raw.connect(node.service().bridgePort())) {
      DataInputStream in = new DataInputStream(socket.getInputStream());
      JsonObject frame = new JsonObject().put("type", "send").put("address", "jobs.submit").put("replyAddress", "k")
        .put("headers", new JsonObject().put("idempotency-key", "bridge-key-1"))
        .put("body", new JsonObject().put("n", 310).put("delayMs", 600_000));
      Raw.sendFrame(socket, frame);
      String first = next(in, "k").getJsonObject("body").getString("id");
      Raw.sendFrame(socket, frame);
      assertEquals(first, next(in, "k").getJsonObject("body").getString("id"), "a second job for the same key");
      Raw.sendFrame(socket, frame.copy().put("body", new JsonObject().put("n", 311)));
      assertEquals(409, next(in, "k").getInteger("failureCode"));
      send(socket, in, "jobs.cancel", new JsonObject().put("id", first));
    }
  }

  @Test
  void theAllJobsAddressAndMalformedIdsAreRefusedAndRegistrationsCapped() throws Exception {
    events.clear();
    try (Socket socket = Raw.connect(node.service().bridgePort())) {
      DataInputStream in = new DataInputStream(socket.getInputStream());
      for (String address : List.of("jobs.events", "jobs.events.ABC", "jobs.events.0123456789abcdef0123456789abcdef0",
        "jobs.events.*")) {
        Raw.sendFrame(socket, new JsonObject().put("type", "register").put("address", address));
        JsonObject refused = Raw.readFrame(in);
        assertEquals("err", refused.getString("type"), address + ": " + refused.encode());
        assertTrue(refused.getString("message", refused.getString("body", "")).contains("access_denied"),
          address + ": " + refused.encode());
      }
      for (int i = 0; i < 3; i++) {
        Raw.sendFrame(socket, new JsonObject().put("type", "register").put("address", "jobs.events."
          + "0123456789abcdef0123456789abcde" + i));
      }
      Raw.sendFrame(socket, new JsonObject().put("type", "register").put("address",
        "jobs.events.0123456789abcdef0123456789abcdef"));
      JsonObject capped = Raw.readFrame(in);
      assertEquals("err", capped.getString("type"), capped.encode());
      assertTrue(capped.encode().contains("bridge.maxHandlersPerConnection"), capped.encode());
    }
  }
}
