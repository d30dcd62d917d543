package dev.fibservice;

import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The one way tests wait for something that happens in its own time: poll, with a bound. The bound is a hang guard,
 * never a speed check; what the test then asserts is the outcome.
 */
public final class Eventually {

  private static final long POLL_MS = 50;

  /** A condition to poll. */
  @FunctionalInterface
  public interface Check {
    boolean done() throws Exception;
  }

  /** A value to poll. */
  @FunctionalInterface
  public interface Probe<T> {
    T get() throws Exception;
  }

  private Eventually() {
  }

  /** Polls until the check holds or {@code max} has passed; whether it held (the caller asserts what it expects). */
  public static boolean within(Duration max, Check check) throws Exception {
    return within(max, Duration.ofMillis(POLL_MS), check);
  }

  /** As {@link #within(Duration, Check)}, looking every {@code every}. */
  public static boolean within(Duration max, Duration every, Check check) throws Exception {
    long deadline = System.nanoTime() + max.toNanos();
    while (!check.done()) {
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      Thread.sleep(every.toMillis());
    }
    return true;
  }

  /** Polls until the check holds; past {@code max}, an AssertionError saying what did not happen. */
  public static void await(String what, Duration max, Check check) throws Exception {
    await(what, max, check, () -> "");
  }

  /** As {@link #await(String, Duration, Check)}, the error followed by {@code detail}. */
  public static void await(String what, Duration max, Check check, Supplier<String> detail) throws Exception {
    if (!within(max, check)) {
      String more = detail.get();
      throw new AssertionError("waited " + max.toSeconds() + " s for " + what + (more.isEmpty() ? "" : ": " + more));
    }
  }

  /** Polls a value until {@code done} accepts it or {@code max} has passed; the last value seen. */
  public static <T> T poll(Duration max, Probe<T> probe, Predicate<T> done) throws Exception {
    long deadline = System.nanoTime() + max.toNanos();
    T value = probe.get();
    while (!done.test(value) && System.nanoTime() - deadline < 0) {
      Thread.sleep(POLL_MS);
      value = probe.get();
    }
    return value;
  }
}
