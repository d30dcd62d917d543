package dev.fibservice.math;

import java.math.BigInteger;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;

/**
 * Fibonacci numbers F(n) with F(0) = 0, F(1) = 1 (OEIS A000045), by three algorithms. Pure maths: no
 * Vert.x types, so it can be tested and benchmarked alone. Every algorithm polls {@code cancelled}
 * cooperatively and throws {@link CancellationException} once it turns true.
 */
public final class Fibonacci {

  /** How many naive recursive calls run between two looks at the cancellation flag. */
  private static final int RECURSIVE_POLL_MASK = (1 << 16) - 1;
  /** How many loop steps of the iterative algorithm run between two looks at the flag. */
  private static final int ITERATIVE_POLL_MASK = (1 << 10) - 1;

  /** The largest n whose F(n) fits in a long. */
  public static final int MAX_LONG_N = 92;

  /** F(0) to F(92), the values a long holds. */
  private static final long[] SMALL = new long[MAX_LONG_N + 1];

  static {
    SMALL[1] = 1;
    for (int i = 2; i <= MAX_LONG_N; i++) {
      SMALL[i] = SMALL[i - 1] + SMALL[i - 2];
    }
  }

  private Fibonacci() {
  }

  /** F(n) for 0 <= n <= {@link #MAX_LONG_N}, from a table. */
  public static long small(int n) {
    return SMALL[n];
  }

  public static BigInteger compute(Algorithm algorithm, int n, BooleanSupplier cancelled) {
    if (n < 0) {
      throw new IllegalArgumentException("n must be >= 0, got " + n);
    }
    return switch (algorithm) {
      case DOUBLING -> BigFibonacci.fib(n, cancelled);
      case ITERATIVE -> iterative(n, cancelled);
      case RECURSIVE -> BigInteger.valueOf(recursive(n, cancelled));
    };
  }

  /**
   * The decimal digits of F(n): what the service answers. The doubling computes them in radix 10^18 directly, with
   * no radix conversion at the end.
   */
  public static String digits(Algorithm algorithm, int n, BooleanSupplier cancelled) {
    if (algorithm == Algorithm.DOUBLING) {
      return BigFibonacci.digits(n, cancelled);
    }
    return decimal(compute(algorithm, n, cancelled), cancelled);
  }

  /** The decimal digits of a computed value; fast for millions of digits. */
  public static String decimal(BigInteger value, BooleanSupplier cancelled) {
    return BigFibonacci.decimal(value, cancelled);
  }

  static BigInteger iterative(int n, BooleanSupplier cancelled) {
    BigInteger a = BigInteger.ZERO;
    BigInteger b = BigInteger.ONE;
    for (int i = 0; i < n; i++) {
      if ((i & ITERATIVE_POLL_MASK) == 0) {
        if (cancelled.getAsBoolean()) {
          throw new CancellationException("cancelled at step " + i + " of " + n);
        }
        // an addition costs in proportion to the size of F(i), which grows with i: the work done is about (i / n)^2
        double done = (double) i / n;
        Cancellation.report(cancelled, done * done);
      }
      BigInteger next = a.add(b);
      a = b;
      b = next;
    }
    return a;
  }

  /** Naive recursion on longs (exact up to n = 92). */
  static long recursive(int n, BooleanSupplier cancelled) {
    if (n > 92) {
      throw new IllegalArgumentException("recursive is exact only up to n = 92, got " + n);
    }
    return new Recursion(cancelled, n).fib(n);
  }

  /** Counts calls so that the flag is read every 65536 calls, not on each one. */
  private static final class Recursion {
    private final BooleanSupplier cancelled;
    /** Calls the whole recursion makes: 2 F(n+1) - 1. */
    private final double total;
    private long calls;

    Recursion(BooleanSupplier cancelled, int n) {
      this.cancelled = cancelled;
      this.total = 2.0 * SMALL[Math.min(n + 1, MAX_LONG_N)] - 1;
    }

    long fib(int n) {
      if ((++calls & RECURSIVE_POLL_MASK) == 0) {
        if (cancelled.getAsBoolean()) {
          throw new CancellationException("cancelled");
        }
        Cancellation.report(cancelled, calls / total);
      }
      return n < 2 ? n : fib(n - 1) + fib(n - 2);
    }
  }

  /**
   * A rough cost class: true when the computation takes well under a millisecond, so it may use the
   * light lane and never wait behind huge computations.
   */
  public static boolean isLight(Algorithm algorithm, int n) {
    return switch (algorithm) {
      case RECURSIVE -> n <= 22;
      case ITERATIVE -> n <= 5_000;
      case DOUBLING -> n <= 50_000;
    };
  }
}
