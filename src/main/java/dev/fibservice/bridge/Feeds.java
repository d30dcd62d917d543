package dev.fibservice.bridge;

import dev.fibservice.api.Addresses;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.Json;

import java.util.function.Consumer;

/**
 * What a bridge client's permitted {@code register} subscribes to, the same for the TCP and the SockJS bridge:
 * {@code fib.stats}, this node's counters once a second; {@code jobs.events.<id>}, one job's events as the jobs
 * publish them (cluster-wide).
 */
final class Feeds {

  private Feeds() {
  }

  /**
   * Subscribes {@code sink} (each push's JSON body, encoded) to a permitted address, on the caller's context.
   *
   * @return what ends the subscription
   */
  static Runnable subscribe(Vertx vertx, StatsFeed feed, String address, Consumer<String> sink) {
    if (Addresses.FIB_STATS.equals(address)) {
      StatsFeed.Subscription subscription = feed.subscribe(sink);
      return subscription::cancel;
    }
    MessageConsumer<Object> consumer = vertx.eventBus().consumer(address, m -> sink.accept(Json.encode(m.body())));
    return consumer::unregister;
  }
}
