package dev.fibservice.ops;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.samplers.SamplingDecision;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Which spans {@link SpanSampler} records: new traces by ratio, parents followed, callers as configured. */
class SpanSamplerTest {

  private static final String TRACE = "0af7651916cd43dd8448eb211c80319c";
  private static final Attributes HTTP = Attributes.of(AttributeKey.stringKey("url.path"), "/fib/30",
    AttributeKey.stringKey("http.request.method"), "GET");
  private static final Attributes BUS = Attributes.of(AttributeKey.stringKey("messaging.system"), "vertx-eventbus");

  @Test
  void newTracesFollowTheRatio() {
    assertEquals(SamplingDecision.RECORD_AND_SAMPLE, decide(new SpanSampler(1, true), Context.root(), HTTP));
    assertEquals(SamplingDecision.DROP, decide(new SpanSampler(0, true), Context.root(), HTTP));
  }

  @Test
  void scrapesAndProbesAreNeverRecorded() {
    for (String path : List.of("/metrics", "/health/ready", "/health/live")) {
      Attributes probe = Attributes.of(AttributeKey.stringKey("url.path"), path);
      assertEquals(SamplingDecision.DROP, decide(new SpanSampler(1, true), Context.root(), probe), path);
      assertEquals(SamplingDecision.DROP, decide(new SpanSampler(1, true), remote(true), probe), path);
    }
  }

  @Test
  void anOutsideCallersFlagDecidesOnlyWhenHonoured() {
    SpanSampler honour = new SpanSampler(0, true);
    assertEquals(SamplingDecision.RECORD_AND_SAMPLE, decide(honour, remote(true), HTTP));
    assertEquals(SamplingDecision.DROP, decide(new SpanSampler(1, true), remote(false), HTTP));
    // not honoured: the caller's trace is decided by the ratio, as a new one would be
    assertEquals(SamplingDecision.DROP, decide(new SpanSampler(0, false), remote(true), HTTP));
    assertEquals(SamplingDecision.RECORD_AND_SAMPLE, decide(new SpanSampler(1, false), remote(false), HTTP));
  }

  @Test
  void anotherMembersHopAndLocalParentsAreFollowedWhateverTheRatio() {
    // a front's decision holds on the worker member, even where that member would ignore an outside caller
    assertEquals(SamplingDecision.RECORD_AND_SAMPLE, decide(new SpanSampler(0, false), remote(true), BUS));
    assertEquals(SamplingDecision.DROP, decide(new SpanSampler(1, false), remote(false), BUS));
    assertEquals(SamplingDecision.RECORD_AND_SAMPLE, decide(new SpanSampler(0, false), local(true), Attributes.empty()));
    assertEquals(SamplingDecision.DROP, decide(new SpanSampler(1, false), local(false), Attributes.empty()));
  }

  private static SamplingDecision decide(SpanSampler sampler, Context parent, Attributes attributes) {
    return sampler.shouldSample(parent, TRACE, "span", SpanKind.SERVER, attributes, List.of()).getDecision();
  }

  private static Context remote(boolean sampled) {
    return Context.root().with(Span.wrap(SpanContext.createFromRemoteParent(TRACE, "b7ad6b7169203331",
      sampled ? TraceFlags.getSampled() : TraceFlags.getDefault(), TraceState.getDefault())));
  }

  private static Context local(boolean sampled) {
    return Context.root().with(Span.wrap(SpanContext.create(TRACE, "b7ad6b7169203331",
      sampled ? TraceFlags.getSampled() : TraceFlags.getDefault(), TraceState.getDefault())));
  }
}
