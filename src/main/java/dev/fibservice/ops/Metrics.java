package dev.fibservice.ops;

import dev.fibservice.math.Algorithm;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.util.internal.PlatformDependent;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The node's metrics: Vert.x's own (event bus, pools, JVM), the HTTP server's (recorded by the HTTP verticles,
 * see {@code HttpMetrics}) and ours, in one Prometheus registry per node. Labels are bounded: route templates, algorithms, lanes, statuses;
 * never raw paths, addresses or names. When metrics are off, every meter here is a no-op and Vert.x
 * runs without its metrics SPI.
 */
public final class Metrics {

  /**
   * JVM meters of Micrometer's binders whose Prometheus names {@code promtool check metrics} warns about (units
   * abbreviated in the name, a gauge named {@code _count}); {@link #baseUnitJvmMeters} registers them again, in seconds
   * and under a name of its own.
   */
  private static final Set<String> RENAMED_JVM_METERS = Set.of("jvm.compilation.time", "process.cpu.time",
    "system.cpu.count");

  /**
   * Micrometer's defaults put exemplars on every series that has one, histograms' {@code _count} too, which the
   * OpenMetrics parser of Prometheus 2.x (Debian's 2.42) refuses, failing the whole scrape: exemplars here go on
   * counters and histogram buckets only, as OpenMetrics 1.0 has them.
   */
  private static final PrometheusConfig EXEMPLARS_WHERE_PROMETHEUS_TAKES_THEM = new PrometheusConfig() {
    @Override
    public String get(String key) {
      return null;
    }

    @Override
    public Properties prometheusProperties() {
      Properties properties = PrometheusConfig.super.prometheusProperties();
      properties.setProperty("io.prometheus.exporter.exemplarsOnAllMetricTypes", "false");
      return properties;
    }
  };

  private final PrometheusMeterRegistry prometheus;
  private final MeterRegistry registry;
  private final Map<Algorithm, Timer> computeTimers = new EnumMap<>(Algorithm.class);
  private final Counter rejected;
  private final Counter timedOut;
  private final Counter tcpLines;
  private final AtomicLong tcpConnections = new AtomicLong();
  private final Map<String, AtomicLong> jobs = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> jobDepth = new ConcurrentHashMap<>();
  private final AtomicLong oldestPendingJobMs = new AtomicLong();
  private final Timer jobRuns;
  private final Map<String, Counter> jobAttempts = new ConcurrentHashMap<>();
  private final Counter deadLetters;

  /** Every status of a job ({@code fib_jobs}). */
  private static final List<String> JOB_STATUSES =
    List.of("PENDING", "SCHEDULED", "RETRY_WAIT", "RUNNING", "DONE", "FAILED", "CANCELLED");
  /** The statuses of {@code fib_jobs_depth}: those that wait or run. */
  private static final List<String> JOB_QUEUE_STATUSES = List.of("PENDING", "SCHEDULED", "RETRY_WAIT", "RUNNING");
  /** How an attempt of a job ends ({@code fib_jobs_attempts_total}). */
  public static final List<String> JOB_OUTCOMES =
    List.of("DONE", "FAILED", "TIMEOUT", "LOST", "ERROR", "CANCELLED", "GIVEN_BACK");

  private Metrics(boolean enabled, boolean exemplars) {
    // with tracing on, a latency histogram's buckets carry the trace id of a request they counted (OpenMetrics scrapes)
    prometheus = !enabled ? null : exemplars ? new PrometheusMeterRegistry(EXEMPLARS_WHERE_PROMETHEUS_TAKES_THEM,
      new PrometheusRegistry(), Clock.SYSTEM, new Exemplars()) : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry = enabled ? prometheus : new CompositeMeterRegistry();
    if (enabled) {
      // before Vert.x binds its JVM meters: a filter applies to meters registered after it
      prometheus.config().meterFilter(MeterFilter.deny(id -> RENAMED_JVM_METERS.contains(id.getName())));
      baseUnitJvmMeters(prometheus);
    }
    for (Algorithm a : Algorithm.values()) {
      computeTimers.put(a, Timer.builder("fib_compute").description("Time to compute F(n) and its digits")
        .tag("algorithm", a.wireName()).publishPercentileHistogram().register(registry));
    }
    rejected = Counter.builder("fib_rejected").description("Computations refused: the lane was full (503)")
      .register(registry);
    timedOut = Counter.builder("fib_timed_out").description("Computations past fib.timeoutMs (504)").register(registry);
    tcpLines = Counter.builder("fib_tcp_lines").description("TCP lines answered").register(registry);
    Gauge.builder("fib_tcp_connections", tcpConnections, AtomicLong::get).description("TCP connections open")
      .register(registry);
    FunctionCounter.builder("fib_event_loop_blocked", BlockedThreadCounter.class,
        c -> BlockedThreadCounter.eventLoopBlocked())
      .description("Times Vert.x reported an event loop blocked (process-wide)").register(registry);
    // Netty's buffers off the heap that it allocates without a Cleaner, so the JVM's own count (jvm_buffer_memory_used
    // _bytes{id="direct"}) misses them; -1 when Netty does not count them (then the JVM's count has them)
    Gauge.builder("fib_netty_direct_memory", PlatformDependent::usedDirectMemory).baseUnit("bytes")
      .description("Memory off the heap that Netty holds for buffers it allocated without a Cleaner (-1: not counted"
        + " here, see jvm_buffer_memory_used_bytes{id=\"direct\"})").register(registry);
    for (String status : JOB_STATUSES) {
      AtomicLong count = new AtomicLong();
      jobs.put(status, count);
      Gauge.builder("fib_jobs", count, AtomicLong::get).description("Background jobs by status")
        .tag("status", status.toLowerCase(java.util.Locale.ROOT)).register(registry);
    }
    for (String status : JOB_QUEUE_STATUSES) {
      for (int priority = 0; priority <= 9; priority++) {
        AtomicLong count = new AtomicLong();
        jobDepth.put(status + priority, count);
        Gauge.builder("fib_jobs_depth", count, AtomicLong::get)
          .description("Background jobs that wait or run, by status and priority (the same on every job runner of a"
            + " cluster: aggregate with max)")
          .tag("status", status.toLowerCase(java.util.Locale.ROOT)).tag("priority", String.valueOf(priority))
          .register(registry);
      }
    }
    Gauge.builder("fib_jobs_oldest_pending", oldestPendingJobMs, ms -> ms.get() / 1000.0).baseUnit("seconds")
      .description("How long the PENDING background job that became runnable first has waited for a runner (0: none"
        + " waits); the same on every job runner of a cluster, which share the database").register(registry);
    jobRuns = Timer.builder("fib_jobs_run").description("Run time of the background jobs this runner finished (DONE)")
      .publishPercentileHistogram().register(registry);
    for (String outcome : JOB_OUTCOMES) {
      jobAttempts.put(outcome, Counter.builder("fib_jobs_attempts").description("Attempts of background jobs that"
        + " ended on this member, by outcome").tag("outcome", outcome.toLowerCase(java.util.Locale.ROOT))
        .register(registry));
    }
    deadLetters = Counter.builder("fib_jobs_dead_letters").description("Background jobs this member found out of"
      + " attempts or failed for good (FAILED): dead letters, re-runnable with POST /jobs/{id}/retry").register(registry);
  }

  /**
   * jvm_compilation_seconds_total, process_cpu_seconds_total (the Prometheus clients' own name for it) and
   * system_cpus, for the three meters that {@link #RENAMED_JVM_METERS} drops.
   */
  private static void baseUnitJvmMeters(MeterRegistry registry) {
    CompilationMXBean compilation = ManagementFactory.getCompilationMXBean();
    if (compilation != null && compilation.isCompilationTimeMonitoringSupported()) {
      FunctionCounter.builder("jvm.compilation", compilation, c -> c.getTotalCompilationTime() / 1e3)
        .baseUnit("seconds").tag("compiler", compilation.getName())
        .description("The approximate accumulated elapsed time spent in compilation").register(registry);
    }
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean hotspot) {
      FunctionCounter.builder("process.cpu", hotspot, b -> b.getProcessCpuTime() / 1e9).baseUnit("seconds")
        .description("CPU time used by the Java virtual machine process").register(registry);
    }
    Gauge.builder("system.cpus", Runtime.getRuntime(), Runtime::availableProcessors)
      .description("The number of processors available to the Java virtual machine").register(registry);
  }

  public static Metrics create(boolean enabled) {
    return new Metrics(enabled, false);
  }

  /** @param exemplars whether histograms take the current trace id as exemplar (tracing is on) */
  public static Metrics create(boolean enabled, boolean exemplars) {
    return new Metrics(enabled, exemplars);
  }

  public boolean enabled() {
    return prometheus != null;
  }

  /**
   * Makes Vert.x report into this registry (event bus, pools, JVM). Its HTTP server metrics are off: the HTTP
   * verticles record cheaper ones of their own.
   */
  public VertxOptions apply(VertxOptions options) {
    if (enabled()) {
      options.setMetricsOptions(new MicrometerMetricsOptions()
        .setEnabled(true)
        .setJvmMetricsEnabled(true)
        .addDisabledMetricsCategory(MetricsDomain.HTTP_SERVER));
    }
    return options;
  }

  /** Where meters go: the Prometheus registry, or a registry that keeps nothing when metrics are off. */
  public MeterRegistry registry() {
    return registry;
  }

  public MicrometerMetricsFactory factory() {
    return new MicrometerMetricsFactory(prometheus);
  }

  public PrometheusMeterRegistry prometheus() {
    return prometheus;
  }

  public void computed(Algorithm algorithm, long micros) {
    computeTimers.get(algorithm).record(micros, TimeUnit.MICROSECONDS);
  }

  public void rejected() {
    rejected.increment();
  }

  public void timedOut() {
    timedOut.increment();
  }

  public void tcpLine() {
    tcpLines.increment();
  }

  public void tcpConnection(int delta) {
    tcpConnections.addAndGet(delta);
  }

  /** A gauge read from elsewhere (in-flight per lane, ...), tagged by a bounded value. */
  public void gauge(String name, String description, String tagKey, String tagValue, Supplier<Number> value) {
    Gauge.builder(name, value).description(description).tag(tagKey, tagValue).register(registry);
  }

  /** The latest wait of the oldest PENDING job, in milliseconds (the job runner refreshes it). */
  public void oldestPendingJob(long millis) {
    oldestPendingJobMs.set(millis);
  }

  /** The latest job counts by status (the job runner refreshes them). */
  public void jobs(Map<String, Long> byStatus) {
    jobs.forEach((status, count) -> count.set(byStatus.getOrDefault(status, 0L)));
  }

  /** The latest counts of jobs that wait or run, keyed by status and priority ("PENDING5"). */
  public void jobDepth(Map<String, Long> byStatusAndPriority) {
    jobDepth.forEach((key, count) -> count.set(byStatusAndPriority.getOrDefault(key, 0L)));
  }

  /** An attempt of a job ended here, with this outcome (one of {@link #JOB_OUTCOMES}). */
  public void jobAttempt(String outcome) {
    Counter counter = jobAttempts.get(outcome);
    if (counter != null) {
      counter.increment();
    }
  }

  /** A job finished DONE here after running this long. */
  public void jobRun(long micros) {
    jobRuns.record(micros, TimeUnit.MICROSECONDS);
  }

  /** A job went FAILED here: out of attempts, or failed for good. */
  public void deadLetter() {
    deadLetters.increment();
  }
}
