package dev.fibservice.ops;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;

import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Our own spans, for code on a Vert.x thread: each call finds the node's tracer through the current Vert.x context
 * (see {@link NodeTracer}), so no class needs it handed in. Where the node does not trace, or the thread is no Vert.x
 * thread, every method returns null or does nothing, without allocating: a {@code null} span is the "not traced"
 * value, and every method here takes one. The current span lives in the Vert.x context (vertx-opentelemetry's
 * context storage), so it follows a request from handler to handler on its own duplicated context.
 */
public final class Traces {

  /** The W3C header that carries a trace across processes; in our HTTP responses and bridge replies too. */
  public static final String TRACEPARENT = "traceparent";

  private static final TextMapGetter<JsonObject> JSON_HEADERS = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(JsonObject carrier) {
      return carrier.fieldNames();
    }

    @Override
    public String get(JsonObject carrier, String key) {
      if (carrier == null) {
        return null;
      }
      for (String name : carrier.fieldNames()) {
        if (name.equalsIgnoreCase(key) && carrier.getValue(name) instanceof String value) {
          return value;
        }
      }
      return null;
    }
  };

  private Traces() {
  }

  /** Whether this Vert.x instance traces (decided once at start: tracing.exporter). */
  public static boolean enabled(Vertx vertx) {
    return ((VertxInternal) vertx).tracer() instanceof NodeTracer;
  }

  /** Whether this thread runs on a Vert.x context of a node that traces: the spans started here are real. */
  public static boolean active() {
    return tracer() != null;
  }

  private static NodeTracer tracer() {
    ContextInternal context = ContextInternal.current();
    return context != null && context.tracer() instanceof NodeTracer t ? t : null;
  }

  /** The current span, or null when this thread is not in a traced request. */
  public static Span current() {
    return tracer() == null ? null : Span.current();
  }

  /** A span under the current one (or a new trace), of kind INTERNAL; null when not traced. */
  public static Span start(String name) {
    NodeTracer t = tracer();
    return t == null ? null : t.tracer.spanBuilder(name).startSpan();
  }

  /**
   * A span under {@code parent} (a span, or what {@link #capture} gave), whatever is current now; null when not traced
   * or when the parent is null.
   */
  public static Span startUnder(Object parent, String name, SpanKind kind) {
    Context context = parent instanceof Span span ? Context.root().with(span) : parent instanceof Context c ? c : null;
    NodeTracer t = context == null ? null : tracer();
    return t == null ? null : t.tracer.spanBuilder(name).setParent(context).setSpanKind(kind).startSpan();
  }

  /**
   * The span of a request that came in through one of our own front ends (a TCP line, a bridge frame): a SERVER span
   * that continues the caller's trace when its headers carry a {@code traceparent}, else starts a new one, whatever
   * span is current (a SockJS frame is no part of the HTTP request that carried it). Null when not traced.
   *
   * @param headers the frame's headers, or null
   */
  public static Span startRequest(String name, JsonObject headers) {
    NodeTracer t = tracer();
    if (t == null) {
      return null;
    }
    SpanBuilder builder = t.tracer.spanBuilder(name).setSpanKind(SpanKind.SERVER);
    if (headers != null) {
      builder.setParent(t.propagators.getTextMapPropagator().extract(Context.root(), headers, JSON_HEADERS));
    } else {
      builder.setNoParent();
    }
    return builder.startSpan();
  }

  /**
   * Runs {@code work} in a new trace of its own (a span named {@code name}, made current), on a duplicate of the
   * current Vert.x context, so that what it starts, and its callbacks, stay in that trace (the SQL statements of a
   * background job, say); {@code work} gets the span (to end) or, when not traced, null and runs as it is.
   */
  public static void inNewTrace(String name, Consumer<Span> work) {
    NodeTracer t = tracer();
    if (t == null) {
      work.accept(null);
      return;
    }
    Span span = t.tracer.spanBuilder(name).setNoParent().startSpan();
    // the duplicate is this work's alone: the span stays current on it for as long as anything runs there
    ContextInternal.current().duplicate().dispatch(v -> {
      span.makeCurrent();
      work.accept(span);
    });
  }

  /** The current trace context (to continue on another thread or later), or null when not traced. */
  public static Object capture() {
    return tracer() == null ? null : Context.current();
  }

  /** The current trace context with {@code span} as its span, or null when the span is. */
  public static Object capture(Span span) {
    return span == null ? null : Context.current().with(span);
  }

  /**
   * Makes a span (or a captured context) current on this Vert.x context until the scope closes: the spans Vert.x
   * starts meanwhile (event bus, SQL) are its children and the log lines carry its ids. Null when there is nothing
   * to enter: close it with {@link #exit}.
   */
  public static Scope enter(Object spanOrContext) {
    if (spanOrContext instanceof Span span) {
      return span.makeCurrent();
    }
    return spanOrContext instanceof Context context ? context.makeCurrent() : null;
  }

  public static void exit(Scope scope) {
    if (scope != null) {
      scope.close();
    }
  }

  /** Ends a span (null: nothing to end). */
  public static void end(Span span) {
    if (span != null) {
      span.end();
    }
  }

  /** Ends a span as failed, with the failure's words. */
  public static void fail(Span span, String why) {
    if (span != null) {
      span.setStatus(StatusCode.ERROR, why);
      span.end();
    }
  }

  /** Adds the W3C headers of a span (as the parent of what the receiver does) to an outgoing message. */
  public static void inject(Span span, BiConsumer<String, String> headers) {
    NodeTracer t = span == null ? null : tracer();
    if (t != null) {
      t.propagators.getTextMapPropagator().inject(Context.root().with(span), headers, BiConsumer::accept);
    }
  }

  /** The span's {@code traceparent} value ({@code 00-<trace id>-<span id>-<flags>}), or null when it is null. */
  public static String traceparent(Span span) {
    if (span == null) {
      return null;
    }
    SpanContext c = span.getSpanContext();
    return c.isValid() ? "00-" + c.getTraceId() + "-" + c.getSpanId() + "-" + c.getTraceFlags().asHex() : null;
  }

  /** The current span's {@code traceparent}, or null when this thread is not in a traced request. */
  public static String currentTraceparent() {
    return tracer() == null ? null : traceparent(Span.current());
  }

  /** The current trace id (32 hex digits), or null when this thread is not in a traced request. */
  public static String currentTraceId() {
    if (tracer() == null) {
      return null;
    }
    SpanContext c = Span.current().getSpanContext();
    return c.isValid() ? c.getTraceId() : null;
  }
}
