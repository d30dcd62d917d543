package dev.fibservice.ops;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the warnings of Vert.x's blocked-thread checker about event-loop threads (a worker running long is
 * expected: heavy maths does). Attached in logback.xml to the checker's logger; the metric
 * {@code fib_event_loop_blocked} shows the count, and tests assert that it stays at zero.
 */
public final class BlockedThreadCounter extends AppenderBase<ILoggingEvent> {

  private static final AtomicLong EVENT_LOOP = new AtomicLong();

  @Override
  protected void append(ILoggingEvent event) {
    String message = event.getFormattedMessage();
    if (message != null && message.contains("has been blocked") && message.contains("eventloop")) {
      EVENT_LOOP.incrementAndGet();
    }
  }

  /** Times an event-loop thread was reported blocked since the JVM started. */
  public static long eventLoopBlocked() {
    return EVENT_LOOP.get();
  }
}
