package dev.fibservice.ops;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the warnings of Vert.x's blocked-thread checker, split into event-loop and worker threads.
 * Attached in logback.xml to the checker's logger; tests assert the event-loop count stays at zero.
 */
public final class BlockedThreadCounter extends AppenderBase<ILoggingEvent> {

  /** The logger Vert.x's checker writes to (io.vertx.core.internal.threadchecker.BlockedThreadChecker.LOGGER_NAME). */
  public static final String CHECKER_LOGGER = "io.vertx.core.impl.BlockedThreadChecker";

  private static final AtomicLong EVENT_LOOP = new AtomicLong();
  private static final AtomicLong WORKER = new AtomicLong();

  @Override
  protected void append(ILoggingEvent event) {
    String message = event.getFormattedMessage();
    if (message == null || !message.contains("has been blocked")) {
      return;
    }
    (message.contains("eventloop") ? EVENT_LOOP : WORKER).incrementAndGet();
  }

  /** Times an event-loop thread was reported blocked since the JVM started. */
  public static long eventLoopBlocked() {
    return EVENT_LOOP.get();
  }

  /** Times a worker thread was reported blocked (past maxWorkerExecuteTime) since the JVM started. */
  public static long workerBlocked() {
    return WORKER.get();
  }
}
