package dev.fibservice.ops;

import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.vertx.core.Context;
import io.vertx.core.spi.tracing.SpanKind;
import io.vertx.core.spi.tracing.TagExtractor;
import io.vertx.core.spi.tracing.VertxTracer;
import io.vertx.core.tracing.TracingPolicy;

import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Vert.x's OpenTelemetry tracer (HTTP server, event bus, SQL client), as it is, plus what our own spans need: the
 * node's OpenTelemetry tracer and propagators, found from any Vert.x thread through the current context
 * ({@link Traces}), and the SDK's shutdown when Vert.x closes.
 */
final class NodeTracer implements VertxTracer<Object, Object> {

  private final VertxTracer<Object, Object> vertx;
  final Tracer tracer;
  final ContextPropagators propagators;
  private final Runnable onClose;

  @SuppressWarnings("unchecked")
  NodeTracer(VertxTracer<?, ?> vertx, Tracer tracer, ContextPropagators propagators, Runnable onClose) {
    this.vertx = (VertxTracer<Object, Object>) vertx;
    this.tracer = tracer;
    this.propagators = propagators;
    this.onClose = onClose;
  }

  @Override
  public <R> Object receiveRequest(Context context, SpanKind kind, TracingPolicy policy, R request, String operation,
                                   Iterable<Map.Entry<String, String>> headers, TagExtractor<R> tagExtractor) {
    return vertx.receiveRequest(context, kind, policy, request, operation, headers, tagExtractor);
  }

  @Override
  public <R> void sendResponse(Context context, R response, Object payload, Throwable failure,
                               TagExtractor<R> tagExtractor) {
    vertx.sendResponse(context, response, payload, failure, tagExtractor);
  }

  @Override
  public <R> Object sendRequest(Context context, SpanKind kind, TracingPolicy policy, R request, String operation,
                                BiConsumer<String, String> headers, TagExtractor<R> tagExtractor) {
    return vertx.sendRequest(context, kind, policy, request, operation, headers, tagExtractor);
  }

  @Override
  public <R> void receiveResponse(Context context, R response, Object payload, Throwable failure,
                                  TagExtractor<R> tagExtractor) {
    vertx.receiveResponse(context, response, payload, failure, tagExtractor);
  }

  @Override
  public void close() {
    vertx.close();
    onClose.run();
  }
}
