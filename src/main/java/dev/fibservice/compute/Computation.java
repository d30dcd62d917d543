package dev.fibservice.compute;

import dev.fibservice.math.Cancellation;
import io.opentelemetry.api.trace.Span;
import io.vertx.core.eventbus.EventBus;

/**
 * An admitted computation (an interactive request, or the run of a background job), shared by reference between
 * the event loop that admitted it and the worker that computes it: the worker sees its cancellation flag.
 */
public final class Computation {

  private final String id;
  private final FibRequest request;
  private final Cancellation cancellation = new Cancellation();
  /** With tracing on: the trace the computation belongs to, and the span of its wait for a worker (or null). */
  private Object traceParent;
  private Span queued;

  public Computation(String id, FibRequest request) {
    this.id = id;
    this.request = request;
  }

  /** Lets computations and their results travel by reference on this Vert.x instance's event bus. */
  public static void registerCodecs(EventBus bus) {
    bus.registerDefaultCodec(Computation.class, new LocalCodec<>(Computation.class));
    bus.registerDefaultCodec(ComputeResult.class, new LocalCodec<>(ComputeResult.class));
  }

  public String id() {
    return id;
  }

  public FibRequest request() {
    return request;
  }

  /** What the algorithms read between steps; once cancelled they throw CancellationException. */
  public Cancellation cancellation() {
    return cancellation;
  }

  public boolean cancelled() {
    return cancellation.getAsBoolean();
  }

  public void cancel() {
    cancellation.cancel();
  }

  /**
   * Makes the computation part of a trace: {@code parent} (from {@code Traces.capture}) is where the worker's span
   * goes, {@code queued} the span of its wait for a worker, which the worker ends as it starts.
   */
  public void traced(Object parent, Span queued) {
    this.traceParent = parent;
    this.queued = queued;
  }

  /** The trace the computation belongs to, or null. */
  public Object traceParent() {
    return traceParent;
  }

  /** The span of the wait for a worker, or null. */
  public Span queued() {
    return queued;
  }
}
