package dev.fibservice.compute;

import dev.fibservice.api.Addresses;
import dev.fibservice.config.Settings;
import dev.fibservice.math.Algorithm;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The front's compute client on a node that runs alone: one request to fib.compute with the request and cancel ids.
 * In a cluster it is the client library's FibClient, whose member choice and retries {@code FibClientTest} covers.
 */
@ExtendWith(VertxExtension.class)
class ComputeClientTest {

  private static final FibRequest LIGHT = new FibRequest(10, Algorithm.DOUBLING);
  private static final Settings SETTINGS = Settings.defaults().with(Map.of("fib.timeoutMs", "60000"));

  /** Creates a client on an event loop of its own, as a front verticle does, and computes there. */
  private static Future<JsonObject> compute(Vertx vertx, Settings settings, FibRequest request) {
    Promise<JsonObject> result = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> ComputeClient.create(vertx, settings, null)
      .compute(request, "request-1", "cancel-1").onComplete(result));
    return result.future();
  }

  @Test
  void aloneItIsOneRequestToFibCompute(Vertx vertx, VertxTestContext test) {
    Checkpoint asked = test.checkpoint();
    Checkpoint answered = test.checkpoint();
    vertx.eventBus().<JsonObject>consumer(Addresses.FIB_COMPUTE, m -> {
      test.verify(() -> {
        assertEquals(LIGHT.toJson(), m.body());
        assertEquals("request-1", m.headers().get(Addresses.REQUEST_ID_HEADER));
        assertEquals("cancel-1", m.headers().get(Addresses.CANCEL_ID_HEADER));
      });
      asked.flag();
      m.reply(new JsonObject().put("value", "55"));
    }).completion()
      .compose(v -> compute(vertx, SETTINGS, LIGHT))
      .onComplete(test.succeeding(reply -> test.verify(() -> {
        assertEquals("55", reply.getString("value"));
        answered.flag();
      })));
  }
}
