package dev.fibservice.compute;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Identical work done once: who starts it, who joins, who leaves, who cancels it, and where each hears the end. */
class SingleFlightTest {

  private final Vertx vertx = Vertx.vertx();
  private final AtomicInteger joined = new AtomicInteger();
  private final SingleFlight<Integer, String> flights = new SingleFlight<>(joined::incrementAndGet);
  private final List<Promise<String>> started = new CopyOnWriteArrayList<>();
  private final AtomicInteger cancelled = new AtomicInteger();

  @AfterEach
  void close() throws Exception {
    vertx.close().await();
  }

  private SingleFlight.Work<String> work(Integer key) {
    Promise<String> promise = Promise.promise();
    started.add(promise);
    return new SingleFlight.Work<>() {
      @Override
      public Future<String> outcome() {
        return promise.future();
      }

      @Override
      public void cancel() {
        cancelled.incrementAndGet();
      }
    };
  }

  /** Runs {@code action} on {@code context} and waits for its result. */
  private static <T> T on(Context context, Supplier<T> action) throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    context.runOnContext(v -> result.complete(action.get()));
    return result.get(10, TimeUnit.SECONDS);
  }

  @Test
  void oneStartsTheOthersJoinAndEachHearsTheEndOnItsOwnContext() throws Exception {
    Context a = vertx.getOrCreateContext();
    Context b = vertx.getOrCreateContext();
    List<Context> heardOn = new CopyOnWriteArrayList<>();
    SingleFlight<Integer, String>.Caller first = on(a, () -> flights.join(7, this::work));
    SingleFlight<Integer, String>.Caller second = on(b, () -> flights.join(7, this::work));
    first.outcome().onComplete(ar -> heardOn.add(Vertx.currentContext()));
    second.outcome().onComplete(ar -> heardOn.add(Vertx.currentContext()));
    assertFalse(first.joined());
    assertTrue(second.joined());
    assertEquals(1, started.size());
    assertEquals(1, joined.get());
    assertEquals(2, flights.callers(7));
    started.get(0).complete("13"); // from a thread of no context, as a worker's reply may come
    assertEquals("13", first.outcome().await(10, TimeUnit.SECONDS));
    assertEquals("13", second.outcome().await(10, TimeUnit.SECONDS));
    dev.fibservice.Eventually.await("both heard", java.time.Duration.ofSeconds(10), () -> heardOn.size() == 2);
    assertTrue(heardOn.containsAll(List.of(a, b)), heardOn.toString());
    assertEquals(0, flights.inFlight());
    on(a, () -> flights.join(7, this::work));
    assertEquals(2, started.size(), "after the end, the next caller starts anew");
  }

  @Test
  void aCallerLeavesAloneAndTheLastOneCancelsTheWork() throws Exception {
    Context a = vertx.getOrCreateContext();
    SingleFlight<Integer, String>.Caller first = on(a, () -> flights.join(7, this::work));
    SingleFlight<Integer, String>.Caller second = on(a, () -> flights.join(7, this::work));
    RuntimeException gone = new RuntimeException("gone");
    assertTrue(on(a, () -> flights.leave(first, gone)));
    assertSame(gone, first.outcome().cause());
    assertEquals(0, cancelled.get(), "the other still waits for it");
    assertFalse(on(a, () -> flights.leave(first, gone)), "once only");
    assertTrue(on(a, () -> flights.leave(second, gone)));
    assertEquals(1, cancelled.get(), "nobody is left");
    assertEquals(0, flights.inFlight());
    started.get(0).complete("late");
    assertSame(gone, second.outcome().cause(), "a late end changes nothing for those who left");
    on(a, () -> flights.join(7, this::work));
    assertEquals(2, started.size(), "the next caller does not join the cancelled work");
  }

  @Test
  void aStartThatFailsFailsItsCallersAndLeavesNothingBehind() throws Exception {
    Context a = vertx.getOrCreateContext();
    SingleFlight<Integer, String>.Caller refused = on(a, () -> flights.join(7, key -> {
      throw new IllegalStateException("busy");
    }));
    assertEquals("busy", refused.outcome().cause().getMessage());
    assertEquals(0, flights.inFlight());
    SingleFlight<Integer, String>.Caller next = on(a, () -> flights.join(7, this::work));
    assertFalse(next.joined());
  }
}
