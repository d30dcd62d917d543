package dev.fibservice.cluster;

import dev.fibservice.client.CallTracer;
import dev.fibservice.client.Protocol;
import dev.fibservice.client.RetryReason;
import dev.fibservice.ops.Traces;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.vertx.core.json.JsonObject;

import java.util.function.BiConsumer;

/**
 * A front's computations in a cluster, as spans: {@code fib.call} under the request's span, and under it one
 * {@code fib.attempt} (a CLIENT span: the event-bus hop to the member it chose) per member tried, whose member's
 * spans hang under it. An attempt given up gets an event {@code retry} with the reason, and the next attempt says
 * what it retries ({@code fib.retry.of}).
 */
final class CallSpans implements CallTracer {

  static final CallSpans INSTANCE = new CallSpans();

  private static final AttributeKey<String> REASON = AttributeKey.stringKey("fib.retry.reason");

  private CallSpans() {
  }

  @Override
  public Object callStarted(JsonObject request, boolean light) {
    Span span = Traces.start("fib.call");
    if (span != null) {
      span.setAttribute("fib.n", request.getValue("n") instanceof Number n ? n.longValue() : -1);
      if (request.getValue("algorithm") instanceof String algorithm) {
        span.setAttribute("fib.algorithm", algorithm);
      }
      span.setAttribute("fib.lane", light ? "light" : "heavy");
    }
    return span;
  }

  @Override
  public Object attemptStarted(Object call, String member, String memberName, int number, RetryReason retryOf) {
    Span span = Traces.startUnder(call, "fib.attempt", SpanKind.CLIENT);
    if (span != null) {
      span.setAttribute("fib.attempt", number);
      span.setAttribute("fib.member", ClusterView.nodeOf(memberName));
      span.setAttribute("fib.member.id", member);
      span.setAttribute("messaging.system", "vertx-eventbus");
      span.setAttribute("messaging.destination.name", Protocol.computeOn(member));
      if (retryOf != null) {
        span.setAttribute("fib.retry.of", retryOf.wireName());
      }
    }
    return span;
  }

  @Override
  public void inject(Object attempt, BiConsumer<String, String> headers) {
    Traces.inject((Span) attempt, headers);
  }

  @Override
  public void attemptEnded(Object attempt, Throwable failure, RetryReason retry) {
    Span span = (Span) attempt;
    if (retry != null) {
      span.addEvent("retry", Attributes.of(REASON, retry.wireName()));
      span.setStatus(StatusCode.ERROR, "given up (" + retry.wireName() + "); sent to another member");
    } else if (failure != null) {
      span.setStatus(StatusCode.ERROR, String.valueOf(failure.getMessage()));
    }
    span.end();
  }

  @Override
  public void callEnded(Object call, Throwable failure) {
    Span span = (Span) call;
    if (failure != null) {
      span.setStatus(StatusCode.ERROR, String.valueOf(failure.getMessage()));
    }
    span.end();
  }
}
