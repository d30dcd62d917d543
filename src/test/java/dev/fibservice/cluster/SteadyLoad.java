package dev.fibservice.cluster;

import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A steady stream of light ({@code /fib/20?algorithm=recursive}) and heavy ({@code /fib/26?algorithm=recursive},
 * about a millisecond of work) requests through a front, from a few client threads that each send one request
 * after the other, alternating. Every outcome is kept: when it ended, how long it took, which worker member
 * answered (the node in the reply's "worker"), or why it failed. Bounded: each request by its timeout, the whole
 * stream by {@code maxSeconds} and {@code maxRequests}.
 */
final class SteadyLoad implements AutoCloseable {

  static final String LIGHT = "/fib/20?algorithm=recursive";
  static final String HEAVY = "/fib/26?algorithm=recursive";

  /** One finished request: end time (System.nanoTime()), latency, the answering node (null when it failed). */
  record Outcome(long endNanos, long micros, String node, String failure) {
  }

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
    .connectTimeout(Duration.ofSeconds(5)).build();
  private final String base;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
  private final Map<String, Integer> failures = new ConcurrentHashMap<>();
  private final AtomicInteger total = new AtomicInteger();
  private final AtomicLong slowestMicros = new AtomicLong();
  private final List<Thread> threads = new ArrayList<>();

  SteadyLoad(String host, int port, int threadCount, long maxSeconds, int maxRequests, Duration requestTimeout) {
    this(host, port, List.of(LIGHT, HEAVY), threadCount, maxSeconds, maxRequests, requestTimeout);
  }

  /** The same with other paths, taken in turn. */
  SteadyLoad(String host, int port, List<String> paths, int threadCount, long maxSeconds, int maxRequests,
             Duration requestTimeout) {
    this.base = "http://" + host + ":" + port;
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(maxSeconds);
    for (int t = 0; t < threadCount; t++) {
      int seed = t;
      Thread thread = new Thread(() -> {
        int i = seed;
        while (running.get() && System.nanoTime() < until && total.get() < maxRequests) {
          String path = paths.get(i++ % paths.size());
          long start = System.nanoTime();
          String node = null;
          String failure = null;
          try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(requestTimeout)
              .build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
              String worker = new JsonObject(r.body()).getString("worker");
              node = worker.substring(0, worker.indexOf('/'));
            } else {
              failure = r.statusCode() + " " + r.body();
            }
          } catch (Exception e) {
            failure = e.toString();
          }
          long end = System.nanoTime();
          long micros = TimeUnit.NANOSECONDS.toMicros(end - start);
          slowestMicros.accumulateAndGet(micros, Math::max);
          outcomes.add(new Outcome(end, micros, node, failure));
          if (failure != null) {
            failures.merge(failure.length() > 200 ? failure.substring(0, 200) : failure, 1, Integer::sum);
          }
          total.incrementAndGet();
        }
      }, "steady-load-" + t);
      thread.setDaemon(true);
      thread.start();
      threads.add(thread);
    }
  }

  int total() {
    return total.get();
  }

  /** Waits (at most {@code seconds}) until {@code count} more requests than now have finished; false if not. */
  boolean awaitMore(int count, long seconds) throws InterruptedException {
    int target = total.get() + count;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (total.get() < target && System.nanoTime() < deadline && running.get()) {
      Thread.sleep(10);
    }
    return total.get() >= target;
  }

  /** Failures by what they said, with their counts. */
  Map<String, Integer> failures() {
    return Map.copyOf(failures);
  }

  long slowestMicros() {
    return slowestMicros.get();
  }

  /** Replies from {@code node} that ended in [from, to) (System.nanoTime()). */
  long answeredBy(String node, long from, long to) {
    return outcomes.stream().filter(o -> node.equals(o.node()) && o.endNanos() >= from && o.endNanos() < to).count();
  }

  /** The first reply from {@code node} that ended at or after {@code from}, or -1. */
  long firstAnswerBy(String node, long from) {
    return outcomes.stream().filter(o -> node.equals(o.node()) && o.endNanos() >= from)
      .mapToLong(Outcome::endNanos).min().orElse(-1);
  }

  /** Failed requests that ended in [from, to). */
  long failed(long from, long to) {
    return outcomes.stream().filter(o -> o.failure() != null && o.endNanos() >= from && o.endNanos() < to).count();
  }

  /** Requests that ended in [from, to), and the slowest of them in µs. */
  long[] window(long from, long to) {
    long count = 0;
    long slowest = 0;
    for (Outcome o : outcomes) {
      if (o.endNanos() >= from && o.endNanos() < to) {
        count++;
        slowest = Math.max(slowest, o.micros());
      }
    }
    return new long[] {count, slowest};
  }

  void stop() throws InterruptedException {
    running.set(false);
    for (Thread t : threads) {
      t.join(TimeUnit.SECONDS.toMillis(60));
    }
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }
}
