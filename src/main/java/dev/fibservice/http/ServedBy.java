package dev.fibservice.http;

import dev.fibservice.stats.NodeStats;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;

/**
 * In front of the router of one HTTP instance: counts its requests (for /stats) and names it and its
 * event loop in two response headers, so the page can show which instance served each request without
 * changing any JSON. The header values are built once per instance: per request it is one increment
 * and two header puts.
 */
final class ServedBy implements Handler<HttpServerRequest> {

  static final CharSequence X_SERVED_BY = HttpHeaders.createOptimized("X-Served-By");
  static final CharSequence X_EVENT_LOOP = HttpHeaders.createOptimized("X-Event-Loop");

  private final Handler<HttpServerRequest> next;
  private final NodeStats.Counter requests;
  private final CharSequence instance;
  private final CharSequence eventLoop;

  /** To be created in the verticle's start(), on its own event loop (whose thread it names). */
  ServedBy(NodeStats stats, String instance, Handler<HttpServerRequest> next) {
    String thread = Thread.currentThread().getName();
    this.next = next;
    this.requests = stats.httpInstance(instance, thread);
    this.instance = HttpHeaders.createOptimized(instance);
    this.eventLoop = HttpHeaders.createOptimized(thread);
  }

  @Override
  public void handle(HttpServerRequest request) {
    requests.increment();
    request.response().putHeader(X_SERVED_BY, instance).putHeader(X_EVENT_LOOP, eventLoop);
    next.handle(request);
  }
}
