package dev.fibservice.ops;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import net.logstash.logback.encoder.LogstashEncoder;
import org.slf4j.LoggerFactory;

/**
 * Switches the console log to JSON lines (one object per event, with the MDC's requestId) for log
 * collectors. The text format is logback.xml's; this only swaps the console appender's encoder.
 */
public final class Logging {

  private Logging() {
  }

  public static void configure(String format) {
    if (!"json".equals(format) || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return;
    }
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    Appender<ILoggingEvent> text = root.getAppender("STDOUT");
    LogstashEncoder encoder = new LogstashEncoder();
    encoder.setContext(context);
    encoder.start();
    ConsoleAppender<ILoggingEvent> json = new ConsoleAppender<>();
    json.setName("JSON");
    json.setContext(context);
    json.setEncoder(encoder);
    json.start();
    root.addAppender(json);
    if (text != null) {
      root.detachAppender(text);
      text.stop();
    }
  }
}
