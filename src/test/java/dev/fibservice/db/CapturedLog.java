package dev.fibservice.db;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/** The lines some loggers write while a test runs (from DEBUG up), for checks on what is logged and how often. */
public final class CapturedLog implements AutoCloseable {

  private final List<Logger> loggers = new ArrayList<>();
  private final List<Level> levels = new ArrayList<>();
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  public CapturedLog(Class<?>... classes) {
    appender.start();
    for (Class<?> type : classes) {
      Logger logger = (Logger) LoggerFactory.getLogger(type);
      loggers.add(logger);
      levels.add(logger.getLevel());
      logger.setLevel(Level.DEBUG);
      logger.addAppender(appender);
    }
  }

  /** How many lines at this level contain the text (AppenderBase appends under the appender's lock). */
  public long count(Level level, String text) {
    synchronized (appender) {
      return appender.list.stream().filter(e -> e.getLevel() == level && e.getFormattedMessage().contains(text)).count();
    }
  }

  /** Every line, for failure messages. */
  public String text() {
    StringBuilder all = new StringBuilder();
    synchronized (appender) {
      appender.list.forEach(e -> all.append(e.getLevel()).append(' ').append(e.getFormattedMessage()).append('\n'));
    }
    return all.toString();
  }

  @Override
  public void close() {
    for (int i = 0; i < loggers.size(); i++) {
      loggers.get(i).detachAppender(appender);
      loggers.get(i).setLevel(levels.get(i));
    }
    appender.stop();
  }
}
