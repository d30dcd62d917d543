package dev.fibservice.compute;

import dev.fibservice.config.ConfigException;
import dev.fibservice.config.Settings;
import dev.fibservice.math.Algorithm;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.util.internal.PlatformDependent;
import io.vertx.core.json.JsonObject;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * What a node does so that identical heavy requests cost one computation: the {@link ResultCache} of finished results
 * and, with {@code fib.singleFlight} on, the computations in flight that identical requests join instead of starting
 * their own, on the front (before the event bus) and in the gateway (requests from every front). Both apply to
 * {@code doubling} on the heavy lane only: {@code recursive} and {@code iterative} exist to burn CPU (load scenarios,
 * tests), and a light result costs microseconds, less than keeping it would. One per node, shared by its fronts,
 * gateways and heavy workers.
 */
public final class Results {

  /** Where a look-up or a join happens: a front (before the event bus) or a gateway (on the computing side). */
  public enum Side {
    FRONT, GATEWAY;

    String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private final ResultCache cache;
  private final boolean singleFlight;
  private final Map<Side, LongAdder> hits = new EnumMap<>(Side.class);
  private final Map<Side, LongAdder> misses = new EnumMap<>(Side.class);
  private final Map<Side, LongAdder> coalesced = new EnumMap<>(Side.class);
  private final SingleFlight<Integer, JsonObject> front;
  private final SingleFlight<Integer, ComputeResult> gateway;

  public Results(long cacheBytes, boolean singleFlight) {
    this.cache = new ResultCache(cacheBytes);
    this.singleFlight = singleFlight;
    for (Side side : Side.values()) {
      hits.put(side, new LongAdder());
      misses.put(side, new LongAdder());
      coalesced.put(side, new LongAdder());
    }
    this.front = new SingleFlight<>(coalesced.get(Side.FRONT)::increment);
    this.gateway = new SingleFlight<>(coalesced.get(Side.GATEWAY)::increment);
  }

  /** From fib.cacheBytes and fib.singleFlight. */
  public static Results from(Settings settings) {
    return new Results(settings.getLong(Settings.FIB_CACHE_BYTES), settings.getBoolean(Settings.FIB_SINGLE_FLIGHT));
  }

  /**
   * fib.cacheBytes within what this JVM may hold off the heap: at most half of it, so that the network's own buffers
   * keep the rest (the cache's memory counts against the same limit: -XX:MaxDirectMemorySize, by default the heap's
   * maximum).
   *
   * @throws ConfigException naming the key, its value and the limit
   */
  public static void checkFits(Settings settings) {
    long bytes = settings.getLong(Settings.FIB_CACHE_BYTES);
    long offHeap = PlatformDependent.maxDirectMemory();
    if (bytes > offHeap / 2) {
      throw new ConfigException(Settings.FIB_CACHE_BYTES.name() + ": " + bytes + " is more than half of what this JVM"
        + " may hold off the heap (" + offHeap + " bytes: -XX:MaxDirectMemorySize, by default the maximum heap size,"
        + " -Xmx); lower it, or raise that");
    }
  }

  /** Neither cache nor single-flight: every request computes. */
  public static Results off() {
    return new Results(0, false);
  }

  /** Whether the request is of the kind kept and shared: doubling on the heavy lane. */
  public static boolean heavyDoubling(FibRequest request) {
    return request.algorithm() == Algorithm.DOUBLING && !request.light();
  }

  /** Whether a result of this request is kept in the cache. */
  public boolean cached(FibRequest request) {
    return cache.on() && heavyDoubling(request);
  }

  /** Whether fib.singleFlight is on. */
  public boolean singleFlight() {
    return singleFlight;
  }

  /** Whether identical requests in flight at once share one computation. */
  public boolean coalesced(FibRequest request) {
    return singleFlight && heavyDoubling(request);
  }

  /** The cached F(n), counted as a hit or miss of {@code side}, with a reference for the caller; or null. */
  public CachedResult lookUp(Side side, int n) {
    CachedResult hit = cache.acquire(n);
    (hit != null ? hits : misses).get(side).increment();
    return hit;
  }

  public ResultCache cache() {
    return cache;
  }

  SingleFlight<Integer, JsonObject> front() {
    return front;
  }

  SingleFlight<Integer, ComputeResult> gateway() {
    return gateway;
  }

  public long hits(Side side) {
    return hits.get(side).sum();
  }

  public long misses(Side side) {
    return misses.get(side).sum();
  }

  /** Requests that joined a computation already in flight instead of starting one. */
  public long coalesced(Side side) {
    return coalesced.get(side).sum();
  }

  /**
   * fib_cache_hits_total{side}, fib_cache_misses_total{side}, fib_coalesced_total{side}, fib_cache_evictions_total,
   * fib_cache_bytes, fib_cache_entries (the computations themselves are fib_compute_seconds_count{algorithm}).
   */
  public void register(MeterRegistry registry) {
    for (Side side : Side.values()) {
      FunctionCounter.builder("fib_cache_hits", this, r -> r.hits(side))
        .description("Heavy doubling requests answered from the result cache").tag("side", side.label())
        .register(registry);
      FunctionCounter.builder("fib_cache_misses", this, r -> r.misses(side))
        .description("Heavy doubling requests that found no cached result").tag("side", side.label())
        .register(registry);
      FunctionCounter.builder("fib_coalesced", this, r -> r.coalesced(side))
        .description("Requests that joined an identical computation in flight instead of starting one")
        .tag("side", side.label()).register(registry);
    }
    FunctionCounter.builder("fib_cache_evictions", cache, ResultCache::evictions)
      .description("Results evicted from the cache to keep it within fib.cacheBytes").register(registry);
    Gauge.builder("fib_cache_bytes", cache, ResultCache::bytes).baseUnit("bytes")
      .description("Bytes the cached results take (at most fib.cacheBytes)").register(registry);
    Gauge.builder("fib_cache_entries", cache, ResultCache::entries)
      .description("Results in the cache").register(registry);
  }
}
