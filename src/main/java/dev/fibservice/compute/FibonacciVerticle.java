package dev.fibservice.compute;

import dev.fibservice.api.ServiceError;
import dev.fibservice.math.Fibonacci;
import dev.fibservice.ops.Metrics;
import dev.fibservice.ops.Traces;
import dev.fibservice.stats.NodeStats;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Scope;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.util.concurrent.CancellationException;

/**
 * Does the maths, and nothing else, on a worker thread (deployed with ThreadingModel.WORKER). It only
 * takes computations the {@link ComputeGateway} (or the job runner) of this node has admitted, from a node-local
 * address.
 */
public final class FibonacciVerticle extends VerticleBase {

  /** Failure code for a computation stopped because its requester gave up or its deadline passed. */
  public static final int CANCELLED = 499;

  private static final Logger log = LoggerFactory.getLogger(FibonacciVerticle.class);

  private final String address;
  private final String name;
  private final Metrics metrics;
  private final NodeStats stats;
  /** CPU niceness of this lane's threads (heavy maths yields the cores to the event loops); 0 = as is. */
  private final int nice;
  /** Where heavy doubling results are kept for the requests that ask again (see {@link Results}). */
  private final Results results;
  private NodeStats.Counter done;

  /**
   * @param address the lane's node-local address
   * @param name    what replies show in "worker": node and worker, e.g. {@code host-42/heavy-2}
   * @param stats   the node's live counters, where this worker counts its computations
   * @param nice    the CPU niceness for this lane's threads (0 = unchanged)
   * @param results the node's result cache, which this worker fills ({@link Results#off()} for one that does not)
   */
  public FibonacciVerticle(String address, String name, Metrics metrics, NodeStats stats, int nice, Results results) {
    this.address = address;
    this.name = name;
    this.metrics = metrics;
    this.stats = stats;
    this.nice = nice;
    this.results = results;
  }

  @Override
  public Future<?> start() {
    if (nice > 0) {
      Niceness.forEngine(nice);
    }
    // the lane is the last part of the address: fib.worker.light -> light
    done = stats.worker(name, address.substring(address.lastIndexOf('.') + 1));
    return vertx.eventBus().<Computation>localConsumer(address, this::compute).completion();
  }

  private void compute(Message<Computation> message) {
    Niceness.apply(nice);
    Computation computation = message.body();
    FibRequest request = computation.request();
    // one request's log lines carry its id, on the front and here on the worker; with tracing on, its trace too
    MDC.put("requestId", computation.id());
    Traces.end(computation.queued());
    Span span = Traces.startUnder(computation.traceParent(), "fib.compute", SpanKind.INTERNAL);
    Scope scope = Traces.enter(span);
    ComputeResult result = null;
    int failure = 0;
    String why = null;
    try {
      if (computation.cancelled()) {
        throw new CancellationException("cancelled before start");
      }
      long start = System.nanoTime();
      String digits = Fibonacci.digits(request.algorithm(), request.n(), computation.cancellation());
      long micros = (System.nanoTime() - start) / 1000;
      metrics.computed(request.algorithm(), micros);
      done.increment();
      if (span != null) {
        span.setAttribute("fib.algorithm", request.algorithm().wireName());
        span.setAttribute("fib.n", request.n());
        span.setAttribute("fib.digits", digits.length());
        span.setAttribute("fib.worker", name);
      }
      if (results.cached(request)) {
        keep(request, digits, micros);
      }
      result = new ComputeResult(request, digits, micros, name);
    } catch (CancellationException e) {
      log.debug("computation {} F({}) {} cancelled", computation.id(), request.n(), request.algorithm().wireName());
      failure = CANCELLED;
      why = "cancelled";
    } catch (RuntimeException | OutOfMemoryError e) {
      log.error("computation {} F({}) {} failed", computation.id(), request.n(), request.algorithm().wireName(), e);
      failure = ServiceError.INTERNAL;
      why = "computation failed: " + e;
    } finally {
      // the answer goes once the span is no longer current: the reply is no hop of its own in the trace
      Traces.exit(scope);
      if (why != null) {
        Traces.fail(span, why);
      } else {
        Traces.end(span);
      }
      MDC.remove("requestId");
    }
    if (result != null) {
      message.reply(result);
    } else {
      message.fail(failure, why);
    }
  }

  /**
   * Keeps the result in the node's cache: the digits' copy off the heap happens here, on the worker, not on the event
   * loop of whoever asks next. A cache that cannot take it (the memory off the heap is used up) costs the request
   * nothing: it is answered all the same.
   */
  private void keep(FibRequest request, String digits, long micros) {
    try {
      CachedResult kept = results.cache().put(request.n(), digits, micros, name);
      if (kept != null) {
        kept.release();
      }
    } catch (OutOfMemoryError | RuntimeException e) {
      log.warn("F({}) not kept in the result cache: {}", request.n(), e.toString());
    }
  }
}
