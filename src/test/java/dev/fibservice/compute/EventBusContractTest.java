package dev.fibservice.compute;

import dev.fibservice.Eventually;
import dev.fibservice.api.Addresses;
import dev.fibservice.FibService;
import dev.fibservice.TestNodes;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The public {@code fib.compute} contract, as another service on the event bus sees it. */
class EventBusContractTest {

  private static FibService service;
  private static EventBus bus;

  @BeforeAll
  static void startNode() throws Exception {
    service = TestNodes.start(Map.of());
    bus = service.vertx().eventBus();
  }

  @AfterAll
  static void stopNode() throws Exception {
    TestNodes.stop(service);
  }

  @Test
  void computes() throws Exception {
    Message<JsonObject> reply = bus.<JsonObject>request(Addresses.FIB_COMPUTE,
      new JsonObject().put("n", 50).put("algorithm", "iterative")).await();
    JsonObject body = reply.body();
    assertEquals(50, body.getInteger("n"));
    assertEquals("iterative", body.getString("algorithm"));
    assertEquals("12586269025", body.getString("value"));
    assertEquals(11, body.getInteger("digits"));
    assertTrue(body.getLong("computeMicros") >= 0);
    assertTrue(body.getString("worker").startsWith("test/"));
  }

  @Test
  void algorithmIsOptional() throws Exception {
    JsonObject body = bus.<JsonObject>request(Addresses.FIB_COMPUTE, new JsonObject().put("n", 93)).await().body();
    assertEquals("doubling", body.getString("algorithm"));
    assertEquals("12200160415121876738", body.getString("value"));
  }

  @Test
  void malformedBodiesGet400() {
    assertFails(400, "body must be a JSON object", "30");
    assertFails(400, "body must be a JSON object", new JsonArray().add(30));
    assertFails(400, "body must be a JSON object", 30);
    assertFails(400, "n is missing", new JsonObject());
    assertFails(400, "n must be a JSON integer, got 'abc'", new JsonObject().put("n", "abc"));
    assertFails(400, "n must be a JSON integer, got 1.0E99", new JsonObject().put("n", 1e99));
    assertFails(400, "n must be a JSON integer, got 2.5", new JsonObject().put("n", 2.5));
    assertFails(400, "n must not be negative", new JsonObject().put("n", -7));
    assertFails(400, "above the limit of algorithm recursive (n <= 45, fib.maxN.recursive)", new JsonObject().put("n", 46).put("algorithm", "recursive"));
    assertFails(400, "unknown algorithm 'quantum'", new JsonObject().put("n", 4).put("algorithm", "quantum"));
    assertFails(400, "algorithm must be a string", new JsonObject().put("n", 4).put("algorithm", new JsonObject()));
  }

  @Test
  void cancelWithGarbageIsIgnored() throws Exception {
    bus.publish(Addresses.FIB_CANCEL, "nonsense");
    bus.publish(Addresses.FIB_CANCEL, new JsonObject().put("id", 42));
    bus.publish(Addresses.FIB_CANCEL, new JsonObject().put("id", "no-such-job"));
    assertEquals("55", bus.<JsonObject>request(Addresses.FIB_COMPUTE, new JsonObject().put("n", 10)).await().body()
      .getString("value"));
  }

  @Test
  void cancelNamesTheCancelIdNeverTheRequestId() throws Exception {
    // recursive fib(60) never ends by itself: a cancelled one fails with 499, the other at its deadline with 504
    FibService node = TestNodes.start(Map.of("fib.maxN.recursive", "60", "fib.timeoutMs", "3000"));
    try {
      EventBus other = node.vertx().eventBus();
      JsonObject forever = new JsonObject().put("n", 60).put("algorithm", "recursive");
      var kept = other.request(Addresses.FIB_COMPUTE, forever, new DeliveryOptions()
        .addHeader(Addresses.REQUEST_ID_HEADER, "shared").addHeader(Addresses.CANCEL_ID_HEADER, "cancel-a"));
      var cancelled = other.request(Addresses.FIB_COMPUTE, forever, new DeliveryOptions()
        .addHeader(Addresses.REQUEST_ID_HEADER, "b").addHeader(Addresses.CANCEL_ID_HEADER, "cancel-b"));
      Admission admission = node.node().admission();
      Eventually.within(Duration.ofSeconds(15), () -> admission.inFlight() >= 2);
      assertEquals(2, admission.inFlight());
      other.publish(Addresses.FIB_CANCEL, new JsonObject().put("id", "shared"));
      other.publish(Addresses.FIB_CANCEL, new JsonObject().put("id", "cancel-b"));
      assertEquals(499, failureCode(cancelled));
      assertEquals(504, failureCode(kept), "cancelled by its x-request-id");
    } finally {
      TestNodes.stop(node);
    }
  }

  private static int failureCode(io.vertx.core.Future<?> request) {
    Throwable t = assertThrows(Throwable.class, request::await);
    if (t instanceof CompletionException) {
      t = t.getCause();
    }
    return assertInstanceOf(ReplyException.class, t).failureCode();
  }

  private static void assertFails(int code, String message, Object body) {
    Throwable t = assertThrows(Throwable.class, () -> bus.request(Addresses.FIB_COMPUTE, body).await());
    if (t instanceof CompletionException) {
      t = t.getCause();
    }
    ReplyException e = assertInstanceOf(ReplyException.class, t);
    assertEquals(code, e.failureCode(), e.getMessage());
    assertTrue(e.getMessage().contains(message), () -> "'" + e.getMessage() + "' should contain '" + message + "'");
  }
}
