package dev.fibservice.bench;

/**
 * A bad option value, an unsupported target or a refused (non-loopback) target. The message is one line meant for
 * stderr; {@link #exitCode()} is what the {@code bench} command exits with (2).
 */
public class BenchUsageException extends RuntimeException {

  public static final int EXIT_CODE = 2;

  public BenchUsageException(String message) {
    super(message, null, false, false);
  }

  public int exitCode() {
    return EXIT_CODE;
  }
}
