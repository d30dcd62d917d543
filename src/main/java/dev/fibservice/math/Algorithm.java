package dev.fibservice.math;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The ways fib-service computes F(n); the wire name is the lower-case enum name. */
public enum Algorithm {
  /** Fast doubling on big integers: O(log n) multiplications. The default. */
  DOUBLING,
  /** The big-integer loop: n additions. */
  ITERATIVE,
  /** The naive exponential recursion, kept on purpose as the CPU-burning load of the classic demos. */
  RECURSIVE;

  public static final String NAMES = Arrays.stream(values()).map(Algorithm::wireName)
    .collect(Collectors.joining(", "));

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The algorithm with this wire name, or null. */
  public static Algorithm fromWireName(String name) {
    for (Algorithm a : values()) {
      if (a.wireName().equals(name)) {
        return a;
      }
    }
    return null;
  }
}
