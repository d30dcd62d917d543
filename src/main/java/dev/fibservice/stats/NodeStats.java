package dev.fibservice.stats;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/**
 * Cheap live counters of one node for the page and {@code GET /stats}: requests per HTTP instance and
 * computations per worker. Each instance or worker registers once at start and then only increments
 * its own {@link LongAdder} (lock-free); the snapshot is built when someone asks. Independent of the
 * Prometheus metrics on purpose: a handful of numbers, no registry.
 */
public final class NodeStats {

  /** Orders "http-2" before "http-10": by the text before the last number, then by that number. */
  private static final Comparator<Counter> BY_NAME = Comparator
    .comparing((Counter c) -> c.name.replaceAll("\\d+$", ""))
    .thenComparingLong(c -> trailingNumber(c.name));

  private final long startedNanos = System.nanoTime();
  private final long startedAtMillis = System.currentTimeMillis();
  private final List<Counter> http = new CopyOnWriteArrayList<>();
  private final List<Counter> workers = new CopyOnWriteArrayList<>();
  /** In a cluster: computations each worker, wherever it runs, did for this node's front ends, by its name. */
  private final Map<String, Counter> computedFor = new ConcurrentHashMap<>();

  /** One counted thing: its name, where it runs (event loop or lane) and its count. */
  public static final class Counter {
    private final String name;
    private final String where;
    private final LongAdder count = new LongAdder();

    private Counter(String name, String where) {
      this.name = name;
      this.where = where;
    }

    public void increment() {
      count.increment();
    }

    public long count() {
      return count.sum();
    }
  }


  /** Registers an HTTP verticle instance, e.g. {@code http-2} on {@code vert.x-eventloop-thread-1}. */
  public Counter httpInstance(String name, String eventLoop) {
    Counter counter = new Counter(name, eventLoop);
    http.add(counter);
    return counter;
  }

  /** Registers a worker, e.g. {@code host-42/heavy-2} in lane {@code heavy}. */
  public Counter worker(String name, String lane) {
    Counter counter = new Counter(name, lane);
    workers.add(counter);
    return counter;
  }

  /**
   * A worker (the {@code worker} of a reply, {@code <node>/<lane>-<i>}) computed one request of this node's front
   * ends. Counted by the front from the replies, so that a front whose workers run on other members sees them.
   */
  public void computedFor(String worker) {
    if (worker != null) {
      computedFor.computeIfAbsent(worker, name -> new Counter(name, lane(name))).increment();
    }
  }

  /**
   * {@code [{"worker","member","lane","computations"}]}: what each worker computed for this node's front ends, from
   * the replies (in a cluster; empty for a node alone, whose own workers are in {@link #toJson()}).
   */
  public JsonArray computedForJson() {
    JsonArray json = new JsonArray();
    for (Counter c : sorted(new ArrayList<>(computedFor.values()))) {
      int slash = c.name.lastIndexOf('/');
      json.add(new JsonObject().put("worker", c.name).put("member", slash > 0 ? c.name.substring(0, slash) : c.name)
        .put("lane", c.where).put("computations", c.count()));
    }
    return json;
  }

  /** The lane in a worker's name: {@code host-42/heavy-2} is heavy. */
  private static String lane(String worker) {
    String tail = worker.substring(worker.lastIndexOf('/') + 1);
    int dash = tail.lastIndexOf('-');
    return dash > 0 ? tail.substring(0, dash) : tail;
  }

  public long uptimeMillis() {
    return (System.nanoTime() - startedNanos) / 1_000_000;
  }

  /** {"startedAt", "uptimeMs", "http":[{"instance","eventLoop","requests"}], "workers":[{"worker","lane","computations"}]}. */
  public JsonObject toJson() {
    JsonArray httpJson = new JsonArray();
    for (Counter c : sorted(http)) {
      httpJson.add(new JsonObject().put("instance", c.name).put("eventLoop", c.where).put("requests", c.count()));
    }
    JsonArray workerJson = new JsonArray();
    for (Counter c : sorted(workers)) {
      workerJson.add(new JsonObject().put("worker", c.name).put("lane", c.where).put("computations", c.count()));
    }
    return new JsonObject()
      .put("startedAt", startedAtMillis)
      .put("uptimeMs", uptimeMillis())
      .put("http", httpJson)
      .put("workers", workerJson);
  }

  private static List<Counter> sorted(List<Counter> counters) {
    List<Counter> copy = new ArrayList<>(counters);
    copy.sort(BY_NAME);
    return copy;
  }

  private static long trailingNumber(String name) {
    int i = name.length();
    while (i > 0 && Character.isDigit(name.charAt(i - 1))) {
      i--;
    }
    return i == name.length() || name.length() - i > 18 ? -1 : Long.parseLong(name.substring(i));
  }
}
