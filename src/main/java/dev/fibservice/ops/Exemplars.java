package dev.fibservice.ops;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.spi.tracing.VertxTracer;

/**
 * The current span, as the Prometheus registry asks for it when a histogram counts a value: its bucket keeps the
 * trace id of one such request as an exemplar (shown in OpenMetrics scrapes), so a slow bucket leads to a slow trace.
 */
final class Exemplars implements io.prometheus.metrics.tracer.common.SpanContext {

  private static SpanContext current() {
    ContextInternal context = ContextInternal.current();
    VertxTracer<?, ?> tracer = context == null ? null : context.tracer();
    return tracer instanceof NodeTracer ? Span.current().getSpanContext() : SpanContext.getInvalid();
  }

  @Override
  public String getCurrentTraceId() {
    SpanContext c = current();
    return c.isValid() ? c.getTraceId() : null;
  }

  @Override
  public String getCurrentSpanId() {
    SpanContext c = current();
    return c.isValid() ? c.getSpanId() : null;
  }

  @Override
  public boolean isCurrentSpanSampled() {
    return current().isSampled();
  }

  @Override
  public void markCurrentSpanAsExemplar() {
    // nothing: every sampled span is exported anyway
  }
}
