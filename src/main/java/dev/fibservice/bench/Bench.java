package dev.fibservice.bench;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.transport.Transport;

import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * The load generator. {@link #run(BenchOptions)} is the programmatic entry point (used by the {@code bench} command and
 * by benchmark harnesses): it validates the options, refuses non-loopback targets (after DNS resolution, before any
 * connection) unless allowed, runs an optional warm-up and the measurement on its own {@link Vertx} instance (native
 * transport when available, one worker verticle per event loop) and closes it before returning.
 *
 * <p>Blocking: call it from a plain thread (a test, a main method), never from an event loop.
 */
public final class Bench {

  /** Time given to workers to hand back their numbers, and to Vert.x to close, after a cut-off. */
  private static final long GRACE_NANOS = TimeUnit.SECONDS.toNanos(10);

  private Bench() {
  }

  /**
   * Runs a load test and returns its result.
   *
   * @throws BenchUsageException for invalid options, an unresolvable host or a refused (non-loopback) target
   */
  public static BenchResult run(BenchOptions options) {
    return run(options, System.err);
  }

  /** Like {@link #run(BenchOptions)}, with the progress bar (if enabled and a console is attached) on {@code progressOut}. */
  public static BenchResult run(BenchOptions options, PrintStream progressOut) {
    BenchOptions.Plan plan = options.validate();
    InetAddress address = resolveAndCheck(plan.target().host(), plan.allowRemote());
    boolean showProgress = plan.progress() && progressOut != null && System.console() != null;
    return new Bench.Run(plan, address, showProgress ? progressOut : null).execute();
  }

  /**
   * Resolves {@code host} and checks that every address it resolves to is loopback (127.0.0.0/8 or ::1), unless
   * remote targets are allowed. Returns the address to connect to, so the check and the connection use the same
   * address (no second lookup).
   */
  static InetAddress resolveAndCheck(String host, boolean allowRemote) {
    InetAddress[] all;
    try {
      all = InetAddress.getAllByName(host);
    } catch (UnknownHostException e) {
      throw new BenchUsageException("cannot resolve host '" + host + "' of the target");
    }
    if (!allowRemote) {
      for (InetAddress a : all) {
        if (!isLoopback(a)) {
          String resolved = Arrays.stream(all).map(InetAddress::getHostAddress).collect(Collectors.joining(", "));
          throw new BenchUsageException("refusing to load non-loopback target '" + host + "' (resolves to " + resolved
            + "); only 127.0.0.0/8 and ::1 are allowed unless --allow-remote is given");
        }
      }
    }
    return all[0];
  }

  private static boolean isLoopback(InetAddress a) {
    // InetAddress#isLoopbackAddress: 127.0.0.0/8 for IPv4 (IPv4-mapped IPv6 addresses arrive as Inet4Address), ::1 for IPv6
    return a.isLoopbackAddress();
  }

  /** One run: owns the Vert.x instance. */
  private static final class Run {

    private final BenchOptions.Plan plan;
    private final InetAddress address;
    private final PrintStream progressOut;
    private final long hardDeadline;

    Run(BenchOptions.Plan plan, InetAddress address, PrintStream progressOut) {
      this.plan = plan;
      this.address = address;
      this.progressOut = progressOut;
      this.hardDeadline = System.nanoTime() + plan.maxDuration().toNanos();
    }

    BenchResult execute() {
      Vertx vertx = Vertx.builder()
        .with(new VertxOptions()
          .setPreferNativeTransport(true)
          .setEventLoopPoolSize(plan.threads())
          .setWorkerPoolSize(1)
          .setInternalBlockingPoolSize(1))
        .build();
      try {
        String transport = vertx.isNativeTransportEnabled() && Transport.nativeTransport() != null
          ? Transport.nativeTransport().name() : "nio";
        List<Worker> workers = createWorkers();
        Iterator<Worker> it = workers.iterator();
        await(vertx.deployVerticle(it::next, new DeploymentOptions()
          .setThreadingModel(ThreadingModel.EVENT_LOOP)
          .setInstances(workers.size())), hardDeadline);

        boolean cutOff = false;
        if (!plan.warmup().isZero()) {
          Phase warm = newPhase("warmup", workers.size(), -1, plan.warmup().toNanos());
          cutOff = runPhase(warm, workers);
        }
        long start;
        long end;
        Stats total = new Stats();
        if (!cutOff) {
          Phase measure = newPhase("bench", workers.size(), plan.requests(),
            plan.duration() == null ? -1 : plan.duration().toNanos());
          cutOff = runPhase(measure, workers);
          start = measure.startNanos;
          end = cutOff ? System.nanoTime() : measure.endNanos();
          for (Worker w : workers) {
            total.add(collect(w));
          }
        } else {
          start = end = System.nanoTime();
        }
        return new BenchResult(plan, transport, total, Math.max(0, end - start) / 1e9, cutOff);
      } finally {
        try {
          vertx.close().toCompletionStage().toCompletableFuture().get(GRACE_NANOS, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException ignore) {
          // closing is best effort: every socket of this instance is ours and the run is over
        }
      }
    }

    private List<Worker> createWorkers() {
      int w = plan.threads();
      SocketAddress server = SocketAddress.inetSocketAddress(plan.target().port(), address.getHostAddress());
      List<Worker> workers = new ArrayList<>(w);
      for (int i = 0; i < w; i++) {
        int cap = share(plan.concurrency(), w, i);
        int conns = share(plan.connections(), w, i);
        workers.add(plan.tcp()
          ? new TcpWorker(i, plan, server, cap, conns)
          : new HttpWorker(i, plan, server, cap, conns));
      }
      return workers;
    }

    private static int share(int total, int parts, int i) {
      return total / parts + (i < total % parts ? 1 : 0);
    }

    private Phase newPhase(String name, int workers, long requests, long durationNanos) {
      return plan.rate() > 0
        ? Phase.fixedRate(name, workers, plan.rate(), requests, durationNanos)
        : Phase.closedLoop(name, workers, requests, durationNanos);
    }

    /** Runs a phase to its end; returns true when it had to be cut off at the hard deadline. */
    private boolean runPhase(Phase phase, List<Worker> workers) {
      Progress progress = progressOut == null ? null
        : new Progress(phase.name, workers, phase.requests, TimeUnit.NANOSECONDS.toMillis(phase.durationNanos),
          progressOut);
      try {
        phase.startNanos = System.nanoTime();
        for (Worker w : workers) {
          w.context().runOnContext(v -> w.startPhase(phase));
        }
        try {
          phase.done.get(Math.max(0, hardDeadline - System.nanoTime()), TimeUnit.NANOSECONDS);
          return false;
        } catch (TimeoutException e) {
          for (Worker w : workers) {
            w.context().runOnContext(v -> w.abort());
          }
          try {
            phase.done.get(GRACE_NANOS, TimeUnit.NANOSECONDS);
          } catch (TimeoutException stillRunning) {
            throw new IllegalStateException("load workers did not stop after the --max-duration cut-off");
          }
          return true;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      } catch (ExecutionException e) {
        throw new IllegalStateException(e.getCause());
      } finally {
        if (progress != null) {
          progress.close();
        }
      }
    }

    /** A copy of the worker's numbers, taken on its event loop. */
    private Stats collect(Worker w) {
      CompletableFuture<Stats> f = new CompletableFuture<>();
      w.context().runOnContext(v -> f.complete(w.stats.copy()));
      try {
        return f.get(GRACE_NANOS, TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      } catch (ExecutionException | TimeoutException e) {
        throw new IllegalStateException("could not collect the results of worker " + w.index, e);
      }
    }

    private static <T> T await(Future<T> f, long deadline) {
      try {
        return f.toCompletionStage().toCompletableFuture()
          .get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      } catch (ExecutionException e) {
        throw new IllegalStateException("could not start the load workers: " + e.getCause(), e.getCause());
      } catch (TimeoutException e) {
        throw new IllegalStateException("could not start the load workers before --max-duration");
      }
    }
  }
}
