package dev.fibservice.compute;

import io.vertx.core.eventbus.EventBus;

/** An admitted computation, shared by reference between the gateway (event loop) and a worker. */
public final class ComputeJob {

  private final String id;
  private final FibRequest request;
  private volatile boolean cancelled;

  public ComputeJob(String id, FibRequest request) {
    this.id = id;
    this.request = request;
  }

  /** Lets jobs and their results travel by reference on this Vert.x instance's event bus. */
  public static void registerCodecs(EventBus bus) {
    bus.registerDefaultCodec(ComputeJob.class, new LocalCodec<>(ComputeJob.class));
    bus.registerDefaultCodec(ComputeResult.class, new LocalCodec<>(ComputeResult.class));
  }

  public String id() {
    return id;
  }

  public FibRequest request() {
    return request;
  }

  /** Read by the algorithms between steps; once true they throw CancellationException. */
  public boolean cancelled() {
    return cancelled;
  }

  public void cancel() {
    cancelled = true;
  }
}
