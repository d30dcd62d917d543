package dev.fibservice.math;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.BooleanSupplier;

/** Binary-to-decimal conversion by divide and conquer: x = hi * 2^(64m) + lo evaluated in radix 10^18 by NTT. */
final class Radix {
  /**
   * Values that fit a long go through BigInteger.toString; from 65 bits up the leaf conversion is already faster
   * (measured thread CPU time: 0.2 vs 0.5 us at 65 bits, 2.6 vs 13 us at 1024, 61 vs 139 us at 8192 bits).
   */
  static final int TO_STRING_BITS = 64;

  /**
   * Leaves of the conversion tree: this many 64-bit words are converted by repeated division by 10^18 (quadratic, about
   * 0.53 * LEAF_WORDS^2 division steps per leaf). 28 words is 29.97 decimal limbs, so every power 2^(64 * 28 * 2^j) has
   * at most 30 * 2^j limbs and each merge product (< 60 * 2^j columns) fills 94% of a power-of-two transform; 32 words
   * would give 64.2 * 2^j columns and double every transform. 28 beat 14 in measurements (fewer schoolbook levels).
   */
  static final int LEAF_WORDS = 28;

  /**
   * Decimal products whose shorter operand has at most this many limbs use schoolbook multiplication. Measured (thread
   * CPU time): schoolbook 1.9 vs NTT 4.6 us at 15 limbs, 6.1 vs 10.1 us at 30, a tie at 60, NTT ahead from 120 on.
   * Must stay <= 128 so schoolbook column sums cannot overflow.
   */
  static final int SCHOOL_LIMBS = 32;

  /** Subtrees of at least this many words are converted on two threads. */
  private static final int PARALLEL_WORDS = 1 << 10;

  private static final long E18 = Ntt.E18;
  private static final long E9 = 1_000_000_000L;
  private static final byte[] TENS = new byte[100];
  private static final byte[] ONES = new byte[100];

  static {
    for (int i = 0; i < 100; i++) {
      TENS[i] = (byte) ('0' + i / 10);
      ONES[i] = (byte) ('0' + i % 10);
    }
  }

  /** POWERS[j] = 2^(64 * LEAF_WORDS * 2^j) in radix 10^18; grown on demand and kept (a few MB for n = 10^7). */
  private static volatile Power[] powers = new Power[0];
  private static final Object POWERS_LOCK = new Object();

  private Radix() {
  }

  static String toDecimal(BigInteger x, BooleanSupplier cancelled) {
    if (x.bitLength() <= TO_STRING_BITS) {
      return x.toString();
    }
    long[] words = Nat.of(x);
    if (words.length < PARALLEL_WORDS) {
      return format(convert(words, cancelled), cancelled);
    }
    return Parallel.invoke(() -> format(convert(words, cancelled), cancelled));
  }

  /** Radix 10^18 limbs (little-endian, trimmed) of the radix 2^64 number {@code words}. */
  static long[] convert(long[] words, BooleanSupplier cancelled) {
    int len = words.length;
    if (len > LEAF_WORDS) {
      int j = 0;
      while ((LEAF_WORDS << (j + 1)) < len) {
        j++;
      }
      power(j, cancelled); // all powers the tree needs, computed up front rather than under contention
    }
    return convert(words, 0, len, cancelled);
  }

  private static long[] convert(long[] w, int off, int len, BooleanSupplier cancelled) {
    while (len > 0 && w[off + len - 1] == 0) {
      len--;
    }
    if (len <= LEAF_WORDS) {
      return leaf(w, off, len);
    }
    Parallel.check(cancelled);
    int j = 0;
    while ((LEAF_WORDS << (j + 1)) < len) {
      j++;
    }
    int m = LEAF_WORDS << j; // m < len <= 2m
    int hiLen = len - m;
    long[][] parts = new long[2][];
    if (len >= PARALLEL_WORDS) {
      Parallel.both(() -> parts[0] = convert(w, off, m, cancelled),
          () -> parts[1] = convert(w, off + m, hiLen, cancelled));
    } else {
      parts[0] = convert(w, off, m, cancelled);
      parts[1] = convert(w, off + m, hiLen, cancelled);
    }
    long[] product = power(j, cancelled).multiply(parts[1], cancelled);
    return addInPlace(product, parts[0]);
  }

  /**
   * Quadratic conversion by repeated division by 10^18, one Moller-Granlund step per word; the dividend is read
   * shifted left by 4 bits on the fly to match the normalized divisor.
   */
  static long[] leaf(long[] w, int off, int len) {
    long[] t = Arrays.copyOfRange(w, off, off + len);
    int top = len;
    while (top > 0 && t[top - 1] == 0) {
      top--;
    }
    long[] out = new long[len * 107 / 100 + 2]; // 64 * log10(2) / 18 = 1.0703 limbs per word
    int k = 0;
    long d = Nat.E18_NORM;
    while (top > 0) {
      long r = t[top - 1] >>> 60;
      for (int i = top - 1; i >= 0; i--) {
        long u0 = (t[i] << 4) | (i > 0 ? t[i - 1] >>> 60 : 0);
        long q = Nat.divE18Norm(r, u0);
        r = u0 - q * d;
        t[i] = q;
      }
      out[k++] = r >>> 4;
      while (top > 0 && t[top - 1] == 0) {
        top--;
      }
    }
    return Arrays.copyOf(out, k);
  }

  /**
   * Decimal product by schoolbook in product-scanning order: each column's exact sum is accumulated in registers, then
   * the shared radix 10^18 carry pass splits it.
   */
  static long[] schoolbook(long[] a, long[] b) {
    if (a.length == 0 || b.length == 0) {
      return new long[0];
    }
    if (a.length > b.length) {
      long[] t = a;
      a = b;
      b = t;
    }
    int columns = a.length + b.length - 1;
    long[] w0 = new long[columns];
    long[] w1 = new long[columns];
    for (int k = 0; k < columns; k++) {
      int from = Math.max(0, k - b.length + 1);
      int to = Math.min(k, a.length - 1);
      long lo = 0;
      long hi = 0;
      for (int i = from; i <= to; i++) {
        long x = a[i];
        long y = b[k - i];
        long p = x * y;
        lo += p;
        // Limbs are < 10^18 < 2^60, so each high word is < 2^56 and a column of <= 128 terms cannot overflow hi.
        hi += Math.multiplyHigh(x, y) + Nat.carry(lo - p, p, lo);
      }
      w0[k] = lo;
      w1[k] = hi;
    }
    return Ntt.decimalColumns(new long[][] {w0, w1, new long[columns]}, columns);
  }

  private static long[] addInPlace(long[] a, long[] b) {
    long carry = 0;
    int i = 0;
    for (; i < b.length; i++) {
      long s = a[i] + b[i] + carry;
      carry = s >= E18 ? 1 : 0;
      a[i] = s - (carry * E18);
    }
    for (; carry != 0 && i < a.length; i++) {
      long s = a[i] + 1;
      carry = s == E18 ? 1 : 0;
      a[i] = carry != 0 ? 0 : s;
    }
    if (carry == 0) {
      return a;
    }
    long[] r = Arrays.copyOf(a, a.length + 1);
    r[a.length] = 1;
    return r;
  }

  private static Power power(int j, BooleanSupplier cancelled) {
    Power[] p = powers;
    if (j < p.length) {
      return p[j];
    }
    synchronized (POWERS_LOCK) {
      p = powers;
      while (p.length <= j) {
        long[] next;
        if (p.length == 0) {
          long[] one = new long[LEAF_WORDS + 1];
          one[LEAF_WORDS] = 1;
          next = leaf(one, 0, one.length);
        } else {
          next = square(p[p.length - 1].digits, cancelled);
        }
        p = Arrays.copyOf(p, p.length + 1);
        p[p.length - 1] = new Power(next);
        powers = p;
      }
      return p[j];
    }
  }

  /** Drops the cached powers (benchmarks use it to measure a first, cold conversion). */
  static void clearCaches() {
    synchronized (POWERS_LOCK) {
      powers = new Power[0];
    }
  }

  private static long[] square(long[] a, BooleanSupplier cancelled) {
    return a.length <= SCHOOL_LIMBS ? schoolbook(a, a) : Ntt.multiply(a, a, true, cancelled);
  }

  /** A cached power of 2^64 in radix 10^18, with its forward transforms per transform length. */
  private static final class Power {
    final long[] digits;
    /** By {@link Ntt#code} of the transform length. */
    private final Ntt.Transformed[] transforms = new Ntt.Transformed[66];

    Power(long[] digits) {
      this.digits = digits;
    }

    long[] multiply(long[] x, BooleanSupplier cancelled) {
      if (Math.min(x.length, digits.length) <= SCHOOL_LIMBS) {
        return schoolbook(x, digits);
      }
      return Ntt.multiply(x, transform(Ntt.length(x.length + digits.length - 1), cancelled), true, cancelled);
    }

    private synchronized Ntt.Transformed transform(int length, BooleanSupplier cancelled) {
      int code = Ntt.code(length);
      Ntt.Transformed t = transforms[code];
      if (t == null) {
        t = Ntt.transform(digits, length, true, cancelled);
        transforms[code] = t;
      }
      return t;
    }
  }

  /** Decimal text of trimmed radix 10^18 limbs (at least one). */
  static String format(long[] limbs, BooleanSupplier cancelled) {
    int n = limbs.length;
    long top = limbs[n - 1];
    int topDigits = 1;
    for (long t = top; t >= 10; t /= 10) {
      topDigits++;
    }
    int total = topDigits + 18 * (n - 1);
    byte[] buf = new byte[total];
    Parallel.check(cancelled);
    int half = (n - 1) >>> 1;
    if (n > 4096) {
      Parallel.both(() -> writeLimbs(limbs, 0, half, buf, total), () -> writeLimbs(limbs, half, n - 1, buf, total));
    } else {
      writeLimbs(limbs, 0, n - 1, buf, total);
    }
    for (int i = topDigits - 1; i >= 0; i--) {
      buf[i] = (byte) ('0' + top % 10);
      top /= 10;
    }
    return new String(buf, StandardCharsets.ISO_8859_1);
  }

  /** Writes limbs [from, to) as 18 zero-padded digits each; limb i ends at {@code total - 18 * i}. */
  private static void writeLimbs(long[] limbs, int from, int to, byte[] buf, int total) {
    for (int i = from; i < to; i++) {
      long v = limbs[i];
      long hi = v / E9;
      int end = total - 18 * i;
      write9(buf, end, (int) (v - hi * E9));
      write9(buf, end - 9, (int) hi);
    }
  }

  private static void write9(byte[] buf, int end, int v) {
    for (int k = 0; k < 4; k++) {
      int q = v / 100;
      int r = v - q * 100;
      buf[--end] = ONES[r];
      buf[--end] = TENS[r];
      v = q;
    }
    buf[end - 1] = (byte) ('0' + v);
  }
}
