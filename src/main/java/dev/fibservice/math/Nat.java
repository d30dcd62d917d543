package dev.fibservice.math;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.util.Arrays;

/** Linear-time helpers on naturals stored as trimmed little-endian long[] limbs (radix 2^64 unless noted). */
final class Nat {
  private static final VarHandle LONG_BE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

  /** 10^18 shifted left by 4 so its top bit is set, as Moller-Granlund division by an invariant needs. */
  static final long E18_NORM = 1_000_000_000_000_000_000L << 4;

  /** floor((2^128 - 1) / E18_NORM) - 2^64, the precomputed reciprocal of E18_NORM. */
  private static final long E18_RECIPROCAL = BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE)
      .divide(BigInteger.valueOf(E18_NORM).add(BigInteger.ONE.shiftLeft(64)).mod(BigInteger.ONE.shiftLeft(64)))
      .subtract(BigInteger.ONE.shiftLeft(64)).longValue();

  private Nat() {
  }

  /** Drops leading zero limbs (copying only when there are some). */
  static long[] trim(long[] a) {
    int n = a.length;
    while (n > 0 && a[n - 1] == 0) {
      n--;
    }
    return n == a.length ? a : Arrays.copyOf(a, n);
  }

  /** Limbs of a non-negative BigInteger. */
  static long[] of(BigInteger x) {
    if (x.signum() < 0) {
      throw new IllegalArgumentException("negative: " + x);
    }
    byte[] be = x.toByteArray();
    int len = be.length;
    int words = (len + 7) >>> 3;
    long[] out = new long[words];
    int full = len >>> 3;
    for (int i = 0; i < full; i++) {
      out[i] = (long) LONG_BE.get(be, len - 8 * (i + 1));
    }
    long top = 0;
    for (int b = 0; b < len - 8 * full; b++) {
      top = (top << 8) | (be[b] & 0xFF);
    }
    if (full < words) {
      out[full] = top;
    }
    return trim(out);
  }

  static BigInteger toBigInteger(long[] a) {
    byte[] be = new byte[a.length * 8];
    for (int i = 0; i < a.length; i++) {
      LONG_BE.set(be, be.length - 8 * (i + 1), a[i]);
    }
    return new BigInteger(1, be);
  }

  static long[] add(long[] a, long[] b) {
    if (a.length < b.length) {
      long[] t = a;
      a = b;
      b = t;
    }
    long[] r = new long[a.length + 1];
    long carry = 0;
    for (int i = 0; i < b.length; i++) {
      long s = a[i] + b[i];
      long c = carry(a[i], b[i], s);
      long s2 = s + carry;
      c += carry(s, carry, s2);
      r[i] = s2;
      carry = c;
    }
    for (int i = b.length; i < a.length; i++) {
      long s = a[i] + carry;
      carry = (carry != 0 && s == 0) ? 1 : 0;
      r[i] = s;
    }
    r[a.length] = carry;
    return trim(r);
  }

  /** {@code a - b}; requires a >= b. */
  static long[] subtract(long[] a, long[] b) {
    long[] r = new long[a.length];
    long borrow = 0;
    for (int i = 0; i < b.length; i++) {
      long d = a[i] - b[i];
      long c = borrow(a[i], b[i], d);
      long d2 = d - borrow;
      c += borrow(d, borrow, d2);
      r[i] = d2;
      borrow = c;
    }
    for (int i = b.length; i < a.length; i++) {
      long d = a[i] - borrow;
      borrow = (borrow != 0 && a[i] == 0) ? 1 : 0;
      r[i] = d;
    }
    if (borrow != 0) {
      throw new ArithmeticException("negative difference");
    }
    return trim(r);
  }

  /** {@code a * 2^s} for 0 < s < 64. */
  static long[] shiftLeft(long[] a, int s) {
    long[] r = new long[a.length + 1];
    long prev = 0;
    for (int i = 0; i < a.length; i++) {
      r[i] = (a[i] << s) | (prev >>> (64 - s));
      prev = a[i];
    }
    r[a.length] = prev >>> (64 - s);
    return trim(r);
  }

  /** {@code a + v} for v >= 0 (a is copied). */
  static long[] addSmall(long[] a, long v) {
    long[] r = Arrays.copyOf(a, a.length + 1);
    addBinaryAt(r, 0, v);
    return trim(r);
  }

  /** {@code a - v} for 0 <= v <= a (a is copied). */
  static long[] subtractSmall(long[] a, long v) {
    long[] r = a.clone();
    long borrow = v;
    for (int i = 0; borrow != 0; i++) {
      long x = r[i];
      r[i] = x - borrow;
      borrow = Long.compareUnsigned(x, borrow) < 0 ? 1 : 0;
    }
    return trim(r);
  }

  /** {@code k * a + sign * b} in radix 10^18, for 1 <= k <= 4 and sign 1 or -1; the result must not be negative. */
  static long[] combineDecimal(long[] a, int k, long[] b, int sign) {
    int len = Math.max(a.length, b.length);
    long[] r = new long[len + 1];
    long carry = 0; // -1 for a borrow
    for (int i = 0; i < len; i++) {
      // v + 10^18 is in [0, 6 * 10^18): a non-negative quotient by a constant, which the JIT turns into a product
      long v = (i < a.length ? k * a[i] : 0) + (i < b.length ? sign * b[i] : 0) + carry + Ntt.E18;
      long q = v / Ntt.E18;
      r[i] = v - q * Ntt.E18;
      carry = q - 1;
    }
    if (carry < 0) {
      throw new ArithmeticException("negative result");
    }
    r[len] = carry;
    return trim(r);
  }

  /** {@code a + v} in radix 10^18 for 0 <= v < 10^18 (a is copied). */
  static long[] addSmallDecimal(long[] a, long v) {
    long[] r = Arrays.copyOf(a, a.length + 1);
    addDecimalAt(r, 0, v);
    return trim(r);
  }

  /** {@code a - v} in radix 10^18 for 0 <= v <= a, v < 10^18 (a is copied). */
  static long[] subtractSmallDecimal(long[] a, long v) {
    long[] r = a.clone();
    long borrow = v;
    for (int i = 0; borrow != 0; i++) {
      long d = r[i] - borrow;
      borrow = d < 0 ? 1 : 0;
      r[i] = d + borrow * Ntt.E18;
    }
    return trim(r);
  }

  /**
   * floor((u1 * 2^64 + u0) / E18_NORM) for unsigned words with u1 < E18_NORM (Moller-Granlund 2011, algorithm 4): three
   * multiplications instead of a 128-by-64-bit division, which Java 17 lacks. The remainder is
   * {@code u0 - q * E18_NORM} (mod 2^64).
   */
  static long divE18Norm(long u1, long u0) {
    long v = E18_RECIPROCAL;
    long lo = v * u1;
    long hi = Math.multiplyHigh(v, u1) + ((v >> 63) & u1) + ((u1 >> 63) & v);
    long q0 = lo + u0;
    long q1 = hi + u1 + carry(lo, u0, q0) + 1;
    long r = u0 - q1 * E18_NORM;
    // The first correction is taken about half the time, so it is done without a branch (mispredictions cost more
    // than the whole division); the second is rare.
    long fix = -borrow(q0, r, q0 - r); // all ones when r > q0 (unsigned)
    q1 += fix;
    r += fix & E18_NORM;
    if (Long.compareUnsigned(r, E18_NORM) >= 0) {
      q1++;
    }
    return q1;
  }

  /** Carry (0 or 1) out of the unsigned sum {@code s = a + b}, without a branch. */
  static long carry(long a, long b, long s) {
    return ((a & b) | ((a | b) & ~s)) >>> 63;
  }

  /** Borrow (0 or 1) out of the unsigned difference {@code d = a - b}, without a branch. */
  static long borrow(long a, long b, long d) {
    return ((~a & b) | (~(a ^ b) & d)) >>> 63;
  }

  /** Adds an unsigned word at limb {@code pos} of a radix 2^64 number, rippling the carry (in place). */
  static void addBinaryAt(long[] a, int pos, long v) {
    while (v != 0) {
      long s = a[pos] + v;
      v = Long.compareUnsigned(s, v) < 0 ? 1 : 0;
      a[pos++] = s;
    }
  }

  /** Adds {@code 0 <= v < 2^63 - 10^18} at limb {@code pos} of a radix 10^18 number, rippling the carry (in place). */
  static void addDecimalAt(long[] a, int pos, long v) {
    while (v != 0) {
      long s = a[pos] + v;
      v = s / Ntt.E18;
      a[pos++] = s - v * Ntt.E18;
    }
  }
}
