package dev.fibservice.http;

import dev.fibservice.stats.NodeStats;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;

/**
 * The requests of one HTTP instance: counts them (for /stats) and names it and its event loop in two
 * response headers, so the page can show which instance served each request without changing any JSON.
 * The header values are built once per instance: per request it is one increment and two header puts.
 * The /hello fast path only counts: its response carries no more than nginx's.
 */
final class ServedBy {

  static final CharSequence X_SERVED_BY = HttpHeaders.createOptimized("X-Served-By");
  static final CharSequence X_EVENT_LOOP = HttpHeaders.createOptimized("X-Event-Loop");

  private final NodeStats.Counter requests;
  private final CharSequence instance;
  private final CharSequence eventLoop;

  /** To be created in the verticle's start(), on its own event loop (whose thread it names). */
  ServedBy(NodeStats stats, String instance) {
    String thread = Thread.currentThread().getName();
    this.requests = stats.httpInstance(instance, thread);
    this.instance = HttpHeaders.createOptimized(instance);
    this.eventLoop = HttpHeaders.createOptimized(thread);
  }

  /** One more request of this instance. */
  void count() {
    requests.increment();
  }

  /** Names the instance and its event loop on this response. */
  void name(HttpServerResponse response) {
    response.putHeader(X_SERVED_BY, instance).putHeader(X_EVENT_LOOP, eventLoop);
  }
}
