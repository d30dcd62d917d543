package dev.fibservice.ops;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.opentelemetry.sdk.trace.samplers.SamplingResult;

import java.util.List;

/**
 * Which spans are recorded. A new trace: {@code tracing.sampleRatio} of them, by trace id (so every member that
 * decides on the same trace decides alike). A span under a parent of this process, or under a parent from another
 * member (an event-bus hop), follows its parent: a trace is recorded whole or not at all. A span under an outside
 * caller's {@code traceparent} (an HTTP request, a bridge frame) follows the caller's sampled flag when
 * tracing.honourCallerSampled is on, else is decided as a new trace is, keeping the caller's trace id. Scrapes and
 * probes ({@code /metrics}, {@code /health/...}) are never recorded.
 */
final class SpanSampler implements Sampler {

  private static final AttributeKey<String> URL_PATH = AttributeKey.stringKey("url.path");
  private static final AttributeKey<String> MESSAGING_SYSTEM = AttributeKey.stringKey("messaging.system");

  private final double ratio;
  private final boolean honourCaller;
  private final Sampler newTrace;

  SpanSampler(double ratio, boolean honourCaller) {
    this.ratio = ratio;
    this.honourCaller = honourCaller;
    this.newTrace = Sampler.traceIdRatioBased(ratio);
  }

  @Override
  public SamplingResult shouldSample(Context parentContext, String traceId, String name, SpanKind spanKind,
                                     Attributes attributes, List<LinkData> parentLinks) {
    String path = attributes.get(URL_PATH);
    if (path != null && (path.equals("/metrics") || path.startsWith("/health/"))) {
      return SamplingResult.drop();
    }
    SpanContext parent = Span.fromContext(parentContext).getSpanContext();
    boolean followParent = parent.isValid() && (!parent.isRemote() || honourCaller
      || "vertx-eventbus".equals(attributes.get(MESSAGING_SYSTEM)));
    if (followParent) {
      return parent.isSampled() ? SamplingResult.recordAndSample() : SamplingResult.drop();
    }
    return newTrace.shouldSample(parentContext, traceId, name, spanKind, attributes, parentLinks);
  }

  @Override
  public String getDescription() {
    return "fib-service{ratio=" + ratio + ", honourCaller=" + honourCaller + "}";
  }
}
