package dev.fibservice;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The start's wait for the warm-ups ({@code fib.warmupWaitMs}): it ends with them, or when its bound passes. */
class WarmupWaitTest {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close().await();
  }

  @Test
  void endsWithTheWarmups() throws Exception {
    Promise<Void> warmup = Promise.promise();
    Future<Boolean> waited = MainVerticle.waitAtMost(vertx, warmup.future(), 60_000);
    vertx.setTimer(50, t -> warmup.complete());
    assertTrue(waited.await(10, TimeUnit.SECONDS), "ended by the warm-up, long before its bound");
  }

  @Test
  void aFailedWarmupEndsItToo() throws Exception {
    Promise<Void> warmup = Promise.promise();
    Future<Boolean> waited = MainVerticle.waitAtMost(vertx, warmup.future(), 60_000);
    warmup.fail("the engine warm-up failed");
    assertTrue(waited.await(10, TimeUnit.SECONDS));
  }

  @Test
  void endsWhenItsBoundPasses() throws Exception {
    Future<Boolean> waited = MainVerticle.waitAtMost(vertx, Promise.promise().future(), 100);
    assertFalse(waited.await(10, TimeUnit.SECONDS), "a warm-up that never ends holds the start up 100 ms, no more");
  }

  @Test
  void zeroDoesNotWait() {
    Future<Boolean> waited = MainVerticle.waitAtMost(vertx, Promise.promise().future(), 0);
    assertTrue(waited.isComplete());
    assertFalse(waited.result());
  }
}
