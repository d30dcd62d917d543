package dev.fibservice.ops;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import org.slf4j.MDC;
import org.slf4j.Marker;

/**
 * Puts the current trace and span ids into the MDC ({@code traceId}, {@code spanId}) of every line logged while a
 * traced request is handled, so that a log line leads to its trace and back, in the text and the JSON format alike.
 * The MDC is per thread while a request moves between threads and contexts; the current span is kept in the Vert.x
 * context (see {@link Traces}), so it is read there as each line is logged, and the MDC set to match (or cleared).
 * With no node tracing in this JVM it returns at once.
 */
public final class TraceIds extends TurboFilter {

  public static final String TRACE_ID = "traceId";
  public static final String SPAN_ID = "spanId";

  /** Whether some node of this JVM traces; set once at its start. */
  private static volatile boolean inUse;

  static void inUse() {
    inUse = true;
  }

  @Override
  public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (!inUse || level == null || !level.isGreaterOrEqual(logger.getEffectiveLevel())) {
      return FilterReply.NEUTRAL;
    }
    Span span = Traces.current();
    SpanContext context = span == null ? null : span.getSpanContext();
    if (context != null && context.isValid()) {
      MDC.put(TRACE_ID, context.getTraceId());
      MDC.put(SPAN_ID, context.getSpanId());
    } else if (MDC.get(TRACE_ID) != null) {
      MDC.remove(TRACE_ID);
      MDC.remove(SPAN_ID);
    }
    return FilterReply.NEUTRAL;
  }
}
