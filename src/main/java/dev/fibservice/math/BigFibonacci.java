package dev.fibservice.math;

import java.math.BigInteger;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * Exact Fibonacci numbers and their decimal strings, fast for millions of digits.
 *
 * <p>{@link #fib} runs fast doubling on (F(k), F(k-1)) with two squarings per bit of n and a single product for the
 * last bit; products use {@link BigInteger} while small and a three-prime NTT ({@link Ntt}) once operands reach
 * {@link #NTT_BITS}. {@link #digits} runs the same doubling in radix 10^18 once past BigInteger sizes, so its decimal
 * string needs no conversion; {@link #decimal} converts a BigInteger by divide and conquer in radix 10^18
 * ({@link Radix}).
 *
 * <p>Threads: large work runs on a small dedicated fork/join pool (one daemon worker per core, at most four, named
 * {@code bigfib-worker-*}; system property {@code dev.fibservice.compute.workers} overrides the count, 1 disables it);
 * the caller blocks until the result is ready. The two squarings of a doubling step, the primes and blocks of every
 * product of transform length >= {@link Ntt#PARALLEL_LENGTH} and the halves of the conversion tree run concurrently.
 * Results are identical with any number of threads.
 *
 * <p>Cancellation: {@code cancelled} is polled cooperatively, from the pool's threads as well as the caller's, between
 * transform blocks, Garner slices and conversion subtrees; once it returns true the call ends with {@link
 * java.util.concurrent.CancellationException} and leaves no work running. The supplier must be thread-safe (e.g. read
 * a volatile or an AtomicBoolean).
 */
public final class BigFibonacci {
  /**
   * Fast doubling switches from BigInteger to NTT squaring once F(k) has this many bits (256 words). Measured on JDK 17
   * (thread CPU time): BigInteger's Karatsuba/Toom-3 squaring and the NTT break even at 128-192 words; by 256 words
   * the NTT is 1.5x faster and the gap widens (3x at 2048 words).
   */
  static final int NTT_BITS = 1 << 14;

  /** Below this n the whole computation takes microseconds and is done on the caller's thread. */
  private static final int POOL_N = 50_000;

  private static final BigInteger TWO = BigInteger.valueOf(2);

  private BigFibonacci() {
  }

  /** Exact F(n) with F(0) = 0, F(1) = 1. */
  public static BigInteger fib(int n, BooleanSupplier cancelled) {
    check(n, cancelled);
    if (n < 2) {
      return BigInteger.valueOf(n);
    }
    return n < POOL_N ? fibBinary(n, cancelled) : Parallel.invoke(() -> fibBinary(n, cancelled));
  }

  /**
   * The decimal digits of F(n), equal to {@code fib(n).toString()}. Once past BigInteger sizes the doubling runs in
   * radix 10^18 itself (its products are decimal NTT products), so the digits need no radix conversion at the end.
   */
  public static String digits(int n, BooleanSupplier cancelled) {
    check(n, cancelled);
    if (n < 2) {
      return Integer.toString(n);
    }
    return n < POOL_N ? Radix.format(fibDecimal(n, cancelled), cancelled)
        : Parallel.invoke(() -> Radix.format(fibDecimal(n, cancelled), cancelled));
  }

  /** F(n) as trimmed radix 10^18 limbs (at least one), as {@link #digits} computes it before formatting. */
  static long[] decimalLimbs(int n, BooleanSupplier cancelled) {
    check(n, cancelled);
    if (n < 2) {
      return new long[] {n};
    }
    return n < POOL_N ? fibDecimal(n, cancelled) : Parallel.invoke(() -> fibDecimal(n, cancelled));
  }

  /** Exact decimal representation of {@code x >= 0}, equal to {@code x.toString()}. */
  public static String decimal(BigInteger x, BooleanSupplier cancelled) {
    Objects.requireNonNull(x, "x");
    Objects.requireNonNull(cancelled, "cancelled");
    if (x.signum() < 0) {
      throw new IllegalArgumentException("x must be >= 0");
    }
    Parallel.check(cancelled);
    return Radix.toDecimal(x, cancelled);
  }

  private static void check(int n, BooleanSupplier cancelled) {
    if (n < 0) {
      throw new IllegalArgumentException("n must be >= 0: " + n);
    }
    Objects.requireNonNull(cancelled, "cancelled");
    Parallel.check(cancelled);
  }

  private static BigInteger fibBinary(int n, BooleanSupplier cancelled) {
    Doubling d = new Doubling(n, cancelled);
    if (d.result != null) {
      return d.result;
    }
    return Nat.toBigInteger(d.finish(Nat.of(d.a), Nat.of(d.b), false));
  }

  private static long[] fibDecimal(int n, BooleanSupplier cancelled) {
    Doubling d = new Doubling(n, cancelled);
    if (d.result != null) {
      return Radix.convert(Nat.of(d.result), cancelled);
    }
    long[] a = Radix.convert(Nat.of(d.a), cancelled);
    long[] b = Radix.convert(Nat.of(d.b), cancelled);
    return d.finish(a, b, true);
  }

  /**
   * Fast doubling for F(n): the constructor runs the BigInteger steps (to the end for small n, then {@link #result}
   * is set), {@link #finish} the NTT steps in radix 2^64 or 10^18.
   */
  private static final class Doubling {
    private final int n;
    private final int k;
    private final BooleanSupplier cancelled;
    /** Invariant: a = F(c), b = F(c - 1), c = the bits of k consumed so far, bit = the next bit of k to consume. */
    private BigInteger a = BigInteger.ONE;
    private BigInteger b = BigInteger.ZERO;
    private int c = 1;
    private int bit;
    private BigInteger result;

    Doubling(int n, BooleanSupplier cancelled) {
      this.n = n;
      this.k = n >>> 1;
      this.cancelled = cancelled;
      bit = 30 - Integer.numberOfLeadingZeros(k);
      for (; bit >= 0 && a.bitLength() < NTT_BITS; bit--) {
        Parallel.check(cancelled);
        reached();
        BigInteger a2 = a.multiply(a);
        BigInteger b2 = b.multiply(b);
        BigInteger lo = a2.add(b2); // F(2c-1) = F(c)^2 + F(c-1)^2
        BigInteger hi = a2.shiftLeft(2).subtract(b2); // F(2c+1) = 4F(c)^2 - F(c-1)^2 + 2(-1)^c
        hi = (c & 1) == 0 ? hi.add(TWO) : hi.subtract(TWO);
        if (((k >>> bit) & 1) != 0) {
          a = hi;
          b = hi.subtract(lo);
          c = 2 * c + 1;
        } else {
          a = hi.subtract(lo);
          b = lo;
          c = 2 * c;
        }
      }
      if (bit < 0) {
        Parallel.check(cancelled);
        if ((n & 1) == 0) {
          result = a.multiply(a.add(b.shiftLeft(1))); // F(2k) = F(k) (F(k) + 2F(k-1))
        } else {
          BigInteger twoA = a.shiftLeft(1); // F(2k+1) = (2F(k) + F(k-1)) (2F(k) - F(k-1)) + 2(-1)^k
          BigInteger p = twoA.add(b).multiply(twoA.subtract(b));
          result = (k & 1) == 0 ? p.add(TWO) : p.subtract(TWO);
        }
      }
    }

    /**
     * Reports how far the doubling is: a step costs in proportion to the size of F(c), which doubles with each step, so
     * the steps up to c cost about c / k of all of them; the last product and the digits are the last fifth.
     */
    private void reached() {
      Cancellation.report(cancelled, 0.8 * c / Math.max(1, k));
    }

    /** The remaining steps from fa = F(c), fb = F(c - 1) given as limbs of the radix chosen by {@code decimal}. */
    long[] finish(long[] fa, long[] fb, boolean decimal) {
      for (; bit >= 0; bit--) {
        Parallel.check(cancelled);
        reached();
        long[][] sq = new long[2][];
        long[] x = fa;
        long[] y = fb;
        Parallel.both(() -> sq[0] = Ntt.multiply(x, x, decimal, cancelled),
            () -> sq[1] = Ntt.multiply(y, y, decimal, cancelled));
        long[] lo = plus(sq[0], 1, sq[1], decimal);
        long[] hi = minus(sq[0], 4, sq[1], decimal);
        hi = (c & 1) == 0 ? plusTwo(hi, decimal) : minusTwo(hi, decimal);
        if (((k >>> bit) & 1) != 0) {
          fa = hi;
          fb = minus(hi, 1, lo, decimal);
          c = 2 * c + 1;
        } else {
          fa = minus(hi, 1, lo, decimal);
          fb = lo;
          c = 2 * c;
        }
      }
      Parallel.check(cancelled);
      reached();
      if ((n & 1) == 0) {
        return Ntt.multiply(fa, plus(fb, 2, fa, decimal), decimal, cancelled);
      }
      long[] p = Ntt.multiply(plus(fa, 2, fb, decimal), minus(fa, 2, fb, decimal), decimal, cancelled);
      return (k & 1) == 0 ? plusTwo(p, decimal) : minusTwo(p, decimal);
    }
  }

  /** {@code m * x + y} for m in {1, 2, 4}. */
  private static long[] plus(long[] x, int m, long[] y, boolean decimal) {
    return decimal ? Nat.combineDecimal(x, m, y, 1) : Nat.add(times(x, m), y);
  }

  /** {@code m * x - y} for m in {1, 2, 4}. */
  private static long[] minus(long[] x, int m, long[] y, boolean decimal) {
    return decimal ? Nat.combineDecimal(x, m, y, -1) : Nat.subtract(times(x, m), y);
  }

  private static long[] times(long[] x, int m) {
    return m == 1 ? x : Nat.shiftLeft(x, Integer.numberOfTrailingZeros(m));
  }

  private static long[] plusTwo(long[] x, boolean decimal) {
    return decimal ? Nat.addSmallDecimal(x, 2) : Nat.addSmall(x, 2);
  }

  private static long[] minusTwo(long[] x, boolean decimal) {
    return decimal ? Nat.subtractSmallDecimal(x, 2) : Nat.subtractSmall(x, 2);
  }
}
