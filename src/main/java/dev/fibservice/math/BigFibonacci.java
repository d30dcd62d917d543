package dev.fibservice.math;

import java.math.BigInteger;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * Exact Fibonacci numbers and their decimal strings, fast for millions of digits.
 *
 * <p>{@link #fib} runs fast doubling on (F(k), F(k-1)) with two squarings per bit of n and a single product for the
 * last bit; products use {@link BigInteger} while small and a three-prime NTT ({@link Ntt}) once operands reach
 * {@link #NTT_BITS}. {@link #decimal} converts by divide and conquer in radix 10^18 ({@link Radix}).
 *
 * <p>Threads: large work runs on a small dedicated fork/join pool (one daemon worker per core, at most four, named
 * {@code bigfib-worker-*}; system property {@code dev.fibservice.compute.workers} overrides the count, 1 disables it);
 * the caller blocks until the result is ready. The two squarings of a doubling step, the halves of every transform of
 * length >= {@link Ntt#PARALLEL_LENGTH} and the halves of the conversion tree run concurrently. Results are identical
 * with any number of threads. Note: on the 2-vCPU benchmark machine the two vCPUs behave like siblings of one core
 * (a multiply-bound loop runs no faster on two threads), so the split gained little there.
 *
 * <p>Cancellation: {@code cancelled} is polled cooperatively, from the pool's threads as well as the caller's, between
 * transform blocks, Garner slices and conversion subtrees (measured: the exception arrives 0.3-4 ms after the flag at
 * n = 10^7); once it returns true the call ends with {@link
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
    if (n < 0) {
      throw new IllegalArgumentException("n must be >= 0: " + n);
    }
    Objects.requireNonNull(cancelled, "cancelled");
    Parallel.check(cancelled);
    if (n < 2) {
      return BigInteger.valueOf(n);
    }
    return n < POOL_N ? compute(n, cancelled) : Parallel.invoke(() -> compute(n, cancelled));
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

  private static BigInteger compute(int n, BooleanSupplier cancelled) {
    int k = n >>> 1;
    // Invariant: a = F(c), b = F(c - 1), c = the bits of k consumed so far.
    BigInteger a = BigInteger.ONE;
    BigInteger b = BigInteger.ZERO;
    int c = 1;
    int bit = 30 - Integer.numberOfLeadingZeros(k);
    for (; bit >= 0 && a.bitLength() < NTT_BITS; bit--) {
      Parallel.check(cancelled);
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
        return a.multiply(a.add(b.shiftLeft(1))); // F(2k) = F(k) (F(k) + 2F(k-1))
      }
      BigInteger twoA = a.shiftLeft(1); // F(2k+1) = (2F(k) + F(k-1)) (2F(k) - F(k-1)) + 2(-1)^k
      BigInteger p = twoA.add(b).multiply(twoA.subtract(b));
      return (k & 1) == 0 ? p.add(TWO) : p.subtract(TWO);
    }
    long[] fa = Nat.of(a);
    long[] fb = Nat.of(b);
    for (; bit >= 0; bit--) {
      Parallel.check(cancelled);
      long[][] sq = new long[2][];
      long[] x = fa;
      long[] y = fb;
      Parallel.both(() -> sq[0] = Ntt.multiply(x, x, false, cancelled),
          () -> sq[1] = Ntt.multiply(y, y, false, cancelled));
      long[] lo = Nat.add(sq[0], sq[1]);
      long[] hi = Nat.subtract(Nat.shiftLeft(sq[0], 2), sq[1]);
      hi = (c & 1) == 0 ? Nat.addSmall(hi, 2) : Nat.subtractSmall(hi, 2);
      if (((k >>> bit) & 1) != 0) {
        fa = hi;
        fb = Nat.subtract(hi, lo);
        c = 2 * c + 1;
      } else {
        fa = Nat.subtract(hi, lo);
        fb = lo;
        c = 2 * c;
      }
    }
    Parallel.check(cancelled);
    long[] result;
    if ((n & 1) == 0) {
      result = Ntt.multiply(fa, Nat.add(fa, Nat.shiftLeft(fb, 1)), false, cancelled);
    } else {
      long[] twoA = Nat.shiftLeft(fa, 1);
      long[] p = Ntt.multiply(Nat.add(twoA, fb), Nat.subtract(twoA, fb), false, cancelled);
      result = (k & 1) == 0 ? Nat.addSmall(p, 2) : Nat.subtractSmall(p, 2);
    }
    return Nat.toBigInteger(result);
  }
}
