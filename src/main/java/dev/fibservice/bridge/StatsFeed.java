package dev.fibservice.bridge;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The {@code fib.stats} pushes of one node: once a second, this node's live counters (as {@code GET /stats} has them)
 * plus requests per second, to every bridge client registered on this node, and only while there is one. One per
 * node, on a context of its own; the bridges of every event loop subscribe and unsubscribe from theirs.
 */
public final class StatsFeed extends VerticleBase {

  /** How often a push is made. */
  public static final long EVERY_MS = 1000;

  private final Supplier<JsonObject> snapshot;
  /** Only touched on this verticle's context. */
  private final Set<Subscription> subscriptions = new LinkedHashSet<>();
  private final AtomicInteger subscribed = new AtomicInteger();
  private final AtomicLong pushes = new AtomicLong();
  private long timer = -1;
  private long lastRequests = -1;
  private long lastNanos;

  /** @param snapshot this node's live counters, as {@code GET /stats} has them (without {@code servedBy}) */
  public StatsFeed(Supplier<JsonObject> snapshot) {
    this.snapshot = snapshot;
  }

  /** A client's registration; {@link #cancel()} ends it. */
  public final class Subscription {
    private final Context context;
    private final Consumer<String> sink;

    private Subscription(Context context, Consumer<String> sink) {
      this.context = context;
      this.sink = sink;
    }

    /** No more pushes to this client; call it when it unregisters or its connection closes. */
    public void cancel() {
      context().runOnContext(v -> {
        if (subscriptions.remove(this)) {
          subscribed.decrementAndGet();
          if (subscriptions.isEmpty()) {
            vertx.cancelTimer(timer);
            timer = -1;
            lastRequests = -1;
          }
        }
      });
    }
  }

  /**
   * Pushes to {@code sink}, on the caller's context, the encoded JSON of each push from now on, until the subscription
   * is cancelled. Call it on the event loop of the connection that registered.
   */
  public Subscription subscribe(Consumer<String> sink) {
    Subscription subscription = new Subscription(Vertx.currentContext(), sink);
    context().runOnContext(v -> {
      subscriptions.add(subscription);
      subscribed.incrementAndGet();
      if (timer == -1) {
        timer = vertx.setPeriodic(EVERY_MS, t -> push());
      }
    });
    return subscription;
  }

  /** Clients registered on this node now. */
  public int subscribers() {
    return subscribed.get();
  }

  /** Pushes made since start (each to every client then registered). */
  public long pushes() {
    return pushes.get();
  }

  @Override
  public Future<?> start() {
    return Future.succeededFuture();
  }

  private Context context() {
    return context;
  }

  private void push() {
    JsonObject stats = snapshot.get();
    long now = System.nanoTime();
    long requests = requests(stats.getJsonArray("http"));
    if (lastRequests >= 0 && now > lastNanos) {
      double perSecond = (requests - lastRequests) * 1e9 / (now - lastNanos);
      stats.put("requestsPerSecond", Math.round(perSecond * 10) / 10.0);
    } else {
      stats.put("requestsPerSecond", 0.0);
    }
    lastRequests = requests;
    lastNanos = now;
    String body = stats.encode();
    pushes.incrementAndGet();
    for (Subscription s : subscriptions) {
      s.context.runOnContext(v -> s.sink.accept(body));
    }
  }

  /** HTTP requests this node served since start: the sum over its instances. */
  private static long requests(JsonArray http) {
    long sum = 0;
    if (http != null) {
      for (int i = 0; i < http.size(); i++) {
        sum += http.getJsonObject(i).getLong("requests", 0L);
      }
    }
    return sum;
  }
}
