package dev.fibservice.http;

import dev.fibservice.ops.Metrics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.internal.http.HttpServerRequestInternal;
import io.vertx.core.internal.http.HttpServerRequestWrapper;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The HTTP server's metrics, recorded by the HTTP verticles themselves instead of by Vert.x's metrics SPI:
 * {@code fib_http_server_requests_seconds{route,method,code}} (count, sum and max), and gauges of the requests
 * and connections in progress. Vert.x's own HTTP server metrics build a Micrometer id and look meters up in the
 * registry several times per request, a large part of what a small request costs; here a request costs one lookup
 * in this instance's own map (one event loop, no locks) and one timer update. Labels stay bounded: the route
 * template (never the raw path), the method and the status.
 */
final class HttpMetrics {

  /** The route label of a request no route matched (404, 405). */
  static final String UNMATCHED = "unmatched";

  private record Key(String route, HttpMethod method, int status) {
  }

  /** The buckets of the /fib latency histogram: from a table lookup's answer to a huge computation's. */
  private static final Duration[] FIB_BUCKETS = Stream.of(0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0,
    250.0, 500.0, 1e3, 2.5e3, 5e3, 10e3, 30e3, 60e3).map(ms -> Duration.ofNanos((long) (ms * 1_000_000))).toArray(Duration[]::new);

  private final MeterRegistry registry;
  private final boolean enabled;
  private final Map<Key, Timer> timers = new HashMap<>();
  /** /fib by status (the index), light lane and heavy lane: looked up without boxing the status. */
  private final Timer[] lightFibTimers = new Timer[600];
  private final Timer[] heavyFibTimers = new Timer[600];
  private final LongAdder active;

  private HttpMetrics(MeterRegistry registry, boolean enabled, LongAdder active) {
    this.registry = registry;
    this.enabled = enabled;
    this.active = active;
  }

  /**
   * The metrics of one HTTP verticle instance; the gauges are the node's, shared by its instances.
   *
   * @param active          the node's count of HTTP requests in progress
   * @param openConnections the node's count of open HTTP connections
   */
  static HttpMetrics create(Metrics metrics, LongAdder active, Supplier<Number> openConnections) {
    MeterRegistry registry = metrics.registry();
    if (metrics.enabled()) {
      // registering an existing gauge again returns the first one: both read the node's shared values
      Gauge.builder("fib_http_server_active_requests", active, LongAdder::sum)
        .description("HTTP requests received and not yet answered").register(registry);
      Gauge.builder("fib_http_server_active_connections", openConnections)
        .description("HTTP connections open").register(registry);
    }
    return new HttpMetrics(registry, metrics.enabled(), active);
  }

  boolean enabled() {
    return enabled;
  }

  void started() {
    if (enabled) {
      active.increment();
    }
  }

  /** A request whose response has ended, or whose connection closed first (then counted with the status set so far). */
  void ended(String route, HttpMethod method, int status, long startNanos) {
    if (enabled) {
      active.decrement();
      record(route, method, status, startNanos);
    }
  }

  /** A request answered on the spot (the /hello fast path): never counted as in progress. */
  void record(String route, HttpMethod method, int status, long startNanos) {
    if (enabled) {
      record(timer(route, method, status), startNanos);
    }
  }

  /**
   * A /fib request answered: {@code fib_http_fib_requests_seconds{lane,code}}, a histogram (buckets from 0.5 ms to
   * 60 s), from its handler to its answer, by lane: what the light requests' p99 alert reads. Recorded while the
   * request's span is current, so that with tracing on a bucket's exemplar is the trace of a request it counted.
   */
  void fib(boolean light, int status, long startNanos) {
    if (!enabled || status < 100 || status > 599) {
      return;
    }
    Timer[] timers = light ? lightFibTimers : heavyFibTimers;
    Timer timer = timers[status];
    if (timer == null) {
      timer = Timer.builder("fib_http_fib_requests")
        .description("/fib requests by lane (light: cheap computations, heavy: the rest) and status: time from the"
          + " route's handler to the answer")
        .tag("lane", light ? "light" : "heavy").tag("code", Integer.toString(status))
        .serviceLevelObjectives(FIB_BUCKETS)
        .register(registry);
      timers[status] = timer;
    }
    record(timer, startNanos);
  }

  /** A request of a timer got from {@link #timer} (null when the metrics are off: nothing is recorded). */
  static void record(Timer timer, long startNanos) {
    if (timer != null) {
      timer.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
    }
  }

  /** The timer of one route, method and status, for a caller that keeps it; null when the metrics are off. */
  Timer timer(String route, HttpMethod method, int status) {
    if (!enabled) {
      return null;
    }
    Key key = new Key(route, method, status);
    Timer timer = timers.get(key);
    if (timer == null) {
      timer = Timer.builder("fib_http_server_requests")
        .description("HTTP requests by route template, method and status: time from the request's head to the end"
          + " of its response")
        .tag("route", route).tag("method", method.name()).tag("code", Integer.toString(status))
        .register(registry);
      timers.put(key, timer);
    }
    return timer;
  }

  /**
   * The request as the router sees it, remembering the first named route it matched (the template, e.g.
   * {@code /fib/:n}): the router reports each route it enters to {@link HttpServerRequest#routed}.
   */
  static final class Routed extends HttpServerRequestWrapper {
    private String route;

    Routed(HttpServerRequest request) {
      super((HttpServerRequestInternal) request);
    }

    @Override
    public HttpServerRequest routed(String name) {
      if (route == null && name != null) {
        route = name;
      }
      return super.routed(name);
    }

    /** The route template, or {@link #UNMATCHED}. */
    String route() {
      return route == null ? UNMATCHED : route;
    }
  }
}
