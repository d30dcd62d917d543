package dev.fibservice.compute;

import dev.fibservice.api.Addresses;
import dev.fibservice.cluster.ComputeMembers;
import dev.fibservice.config.Settings;
import dev.fibservice.math.Algorithm;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * When the front's compute client tries another member, and when it does not: on the event bus of one Vert.x, with
 * members that answer, stay silent, refuse, have no gateway or leave, as the test decides.
 */
@ExtendWith(VertxExtension.class)
class ComputeClientTest {

  /** Light: microseconds of work, so a silent member is given fib.attemptTimeoutMs only. */
  private static final FibRequest LIGHT = new FibRequest(10, Algorithm.DOUBLING);
  /** Heavy: it may rightly run for long, so only its member leaving makes it run elsewhere. */
  private static final FibRequest HEAVY = new FibRequest(5_000_000, Algorithm.DOUBLING);
  private static final Settings SETTINGS = Settings.defaults().with(Map.of("fib.retries", "2",
    "fib.attemptTimeoutMs", "100", "fib.timeoutMs", "60000"));

  /** Members in a fixed order: the first not tried yet and not avoided is the next one. */
  private static final class Members implements ComputeMembers {
    final List<String> ids;
    final Map<String, Long> avoided = new ConcurrentHashMap<>();
    final List<Consumer<String>> leftListeners = new CopyOnWriteArrayList<>();

    Members(String... ids) {
      this.ids = List.of(ids);
    }

    @Override
    public String pick(Set<String> tried) {
      String fallback = null;
      for (String id : ids) {
        if (!avoided.containsKey(id)) {
          if (!tried.contains(id)) {
            return id;
          }
          fallback = fallback == null ? id : fallback;
        }
      }
      return fallback;
    }

    @Override
    public void avoid(String memberId, long millis) {
      avoided.put(memberId, millis);
    }

    @Override
    public void onMemberLeft(Consumer<String> listener) {
      leftListeners.add(listener);
    }

    /** As the membership reports it: on a thread of its own. */
    void leave(String id) {
      new Thread(() -> leftListeners.forEach(l -> l.accept(id)), "membership").start();
    }
  }

  /** What one member's gateway received (the messages, to answer later or never). */
  private static final class Gateway {
    final List<Message<JsonObject>> received = new CopyOnWriteArrayList<>();
  }

  /** A member's gateway, on its own address: {@code answer} decides what it does with each request. */
  private static Future<Gateway> gateway(Vertx vertx, String member, Consumer<Message<JsonObject>> answer) {
    Gateway gateway = new Gateway();
    return vertx.eventBus().<JsonObject>consumer(Addresses.computeOn(member), m -> {
      gateway.received.add(m);
      answer.accept(m);
    }).completion().map(gateway);
  }

  private static Consumer<Message<JsonObject>> replies(String member) {
    return m -> m.reply(new JsonObject().put("value", "55").put("worker", member));
  }

  /** Creates a client on an event loop of its own, as a front verticle does, and computes there. */
  private static Future<JsonObject> compute(Vertx vertx, Settings settings, ComputeMembers members, FibRequest request) {
    Promise<JsonObject> result = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> ComputeClient.create(vertx, settings, members)
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
      .compose(v -> compute(vertx, SETTINGS, null, LIGHT))
      .onComplete(test.succeeding(reply -> test.verify(() -> {
        assertEquals("55", reply.getString("value"));
        answered.flag();
      })));
  }

  @Test
  void aMemberWithoutAGatewayIsAvoidedAndTheNextAnswers(Vertx vertx, VertxTestContext test) {
    Members members = new Members("a", "b");
    gateway(vertx, "b", replies("b"))
      .compose(b -> compute(vertx, SETTINGS, members, HEAVY).map(reply -> {
        test.verify(() -> {
          assertEquals("b", reply.getString("worker"));
          assertEquals(1, b.received.size());
          assertEquals(Set.of("a"), members.avoided.keySet(), "a answered NO_HANDLERS: avoided for a while");
        });
        return reply;
      }))
      .onComplete(test.succeedingThenComplete());
  }

  @Test
  void theCallsOfAMemberThatLeavesRunElsewhere(Vertx vertx, VertxTestContext test) {
    Members members = new Members("a", "b");
    Checkpoint retried = test.checkpoint();
    // a takes the heavy computation and never answers; once it is in, a leaves the cluster
    gateway(vertx, "a", m -> members.leave("a"))
      .compose(a -> gateway(vertx, "b", replies("b")).compose(b -> compute(vertx, SETTINGS, members, HEAVY)
        .onComplete(test.succeeding(reply -> test.verify(() -> {
          assertEquals("b", reply.getString("worker"));
          assertEquals(1, a.received.size());
          assertEquals(1, b.received.size());
          // a's late answer changes nothing: the call has its answer
          a.received.get(0).reply(new JsonObject().put("value", "55").put("worker", "a"));
          retried.flag();
        })))));
  }

  @Test
  void aSilentMemberGetsALightCallForTheAttemptTimeoutOnly(Vertx vertx, VertxTestContext test) {
    Members members = new Members("a", "b");
    gateway(vertx, "a", m -> { })
      .compose(a -> gateway(vertx, "b", replies("b")).compose(b -> compute(vertx, SETTINGS, members, LIGHT)
        .map(reply -> {
          test.verify(() -> {
            assertEquals("b", reply.getString("worker"));
            assertEquals(1, a.received.size(), "a was asked first");
            assertTrue(members.avoided.isEmpty(), "a silent member is not avoided: it is alive");
          });
          return reply;
        })))
      .onComplete(test.succeedingThenComplete());
  }

  @Test
  void aHeavyCallIsNotRetriedForBeingSlow(Vertx vertx, VertxTestContext test) {
    Members members = new Members("a", "b");
    Checkpoint stillOnA = test.checkpoint();
    Checkpoint done = test.checkpoint();
    gateway(vertx, "a", m -> { }).onComplete(test.succeeding(a -> gateway(vertx, "b", replies("b"))
      .onComplete(test.succeeding(b -> {
        compute(vertx, SETTINGS, members, HEAVY).onComplete(test.succeeding(reply -> test.verify(() -> {
          assertEquals("b", reply.getString("worker"));
          done.flag();
        })));
        // ten attempt timeouts later the heavy call still waits on a; only a leaving sends it to b
        vertx.setTimer(1000, t -> {
          test.verify(() -> {
            assertEquals(1, a.received.size());
            assertEquals(0, b.received.size(), "a heavy computation was started twice");
          });
          stillOnA.flag();
          members.leave("a");
        });
      }))));
  }

  @Test
  void aGatewaysAnswerIsFinalEvenAFailure(Vertx vertx, VertxTestContext test) {
    Members members = new Members("a", "b");
    gateway(vertx, "a", m -> m.fail(503, "busy: 256 computations are already queued or running on this node"))
      .compose(a -> gateway(vertx, "b", replies("b")).compose(b -> compute(vertx, SETTINGS, members, LIGHT)
        .recover(e -> {
          test.verify(() -> {
            ReplyException re = assertInstanceOf(ReplyException.class, e);
            assertEquals(ReplyFailure.RECIPIENT_FAILURE, re.failureType());
            assertEquals(503, re.failureCode());
            assertEquals(0, b.received.size(), "a refusal is not retried elsewhere");
          });
          return Future.succeededFuture();
        })))
      .onComplete(test.succeedingThenComplete());
  }

  @Test
  void retriesAreBoundedByFibRetries(Vertx vertx, VertxTestContext test) {
    Settings oneRetry = SETTINGS.with(Map.of("fib.retries", "1"));
    Members members = new Members("a", "c", "b");
    List<String> failures = new ArrayList<>();
    gateway(vertx, "b", replies("b"))
      .compose(b -> compute(vertx, oneRetry, members, LIGHT).recover(e -> {
        test.verify(() -> {
          assertEquals(0, b.received.size(), "a and c were tried, and that was all fib.retries = 1 allows");
          assertEquals(Set.of("a", "c"), members.avoided.keySet());
          assertTrue(e.getMessage().contains("no Fibonacci worker is available in the cluster"), e.getMessage());
          failures.add(e.getMessage());
        });
        return Future.succeededFuture();
      }))
      .compose(v -> compute(vertx, SETTINGS, new Members(), LIGHT).recover(e -> {
        test.verify(() -> assertTrue(e.getMessage().contains("no Fibonacci worker is available"), e.getMessage()));
        failures.add(e.getMessage());
        return Future.succeededFuture();
      }))
      .onComplete(test.succeeding(v -> test.verify(() -> {
        assertEquals(2, failures.size());
        assertNull(new Members().pick(Set.of()));
        test.completeNow();
      })));
  }
}
