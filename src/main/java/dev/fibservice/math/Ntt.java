package dev.fibservice.math;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.function.BooleanSupplier;

/** Exact product of large naturals held as little-endian 64-bit limbs (radix 2^64 or 10^18) via a three-prime NTT. */
final class Ntt {
  /** Radix of decimal limbs: the largest power of ten below every prime, so decimal limbs need no reduction. */
  static final long E18 = 1_000_000_000_000_000_000L;

  /*
   * Primes c * 2^32 + 1 just below 2^61: below 2^61 so lazily reduced values in [0, 4p) stay positive in a signed long,
   * 2^32 | p - 1 so every power-of-two length we can allocate has a root of unity. Their product (~2^183) exceeds every
   * convolution column: < m * 2^128 in radix 2^64 and < m * 10^36 < 2^149 in radix 10^18, m = shorter operand < 2^29.
   */
  private static final Prime P0 = new Prime(2305842979148922881L);
  private static final Prime P1 = new Prime(2305842949084151809L);
  private static final Prime P2 = new Prime(2305842811645198337L);
  private static final Prime[] PRIMES = {P0, P1, P2};

  // Garner constants in Montgomery form: p0^-1 mod p1, p0^-1 mod p2, p1^-1 mod p2; and p0 * p1 as two words.
  private static final long C01 = P1.toMont(inverse(P0.p, P1.p));
  private static final long C02 = P2.toMont(inverse(P0.p, P2.p));
  private static final long C12 = P2.toMont(inverse(P1.p, P2.p));
  private static final long P01_LO = P0.p * P1.p;
  private static final long P01_HI = Math.multiplyHigh(P0.p, P1.p);

  /**
   * Blocks of this many limbs (32 KiB) are transformed depth first so all their passes run in L1; larger lengths are
   * done one breadth-first radix-4 pass at a time, which is also where cancellation is polled (~0.5 ms apart at most).
   */
  private static final int BLOCK = 1 << 12;

  /** Below this transform length threads are not worth their fork/join cost (a whole product takes < 1 ms). */
  static final int PARALLEL_LENGTH = 1 << 14;

  private Ntt() {
  }

  /** Forward transforms of a fixed operand, reusable for many products of the same transform length. */
  static final class Transformed {
    final long[][] residues;
    final int length;
    final int log;

    private Transformed(long[][] residues, int length, int log) {
      this.residues = residues;
      this.length = length;
      this.log = log;
    }
  }

  /** Transform length (as log2) for a product of limb counts {@code aLen} and {@code bLen}. */
  static int logLength(int aLen, int bLen) {
    int columns = aLen + bLen - 1;
    return columns <= 1 ? 0 : 32 - Integer.numberOfLeadingZeros(columns - 1);
  }

  /** {@code a * b} (squaring when {@code a == b}); operands and result are trimmed (no leading zero limbs). */
  static long[] multiply(long[] a, long[] b, boolean decimal, BooleanSupplier cancelled) {
    if (a.length == 0 || b.length == 0) {
      return new long[0];
    }
    int log = logLength(a.length, b.length);
    int n = 1 << log;
    boolean par = Parallel.enabled() && n >= PARALLEL_LENGTH;
    long[][] res = new long[3][];
    long[] other = a == b ? null : new long[n];
    for (int k = 0; k < 3; k++) {
      Prime m = PRIMES[k];
      long[][] tables = m.tables(log);
      long[] fa = new long[n];
      load(a, fa, m, decimal);
      transform(fa, n, tables[0], m, cancelled, par, true);
      if (other == null) {
        pointwise(fa, fa, m, par);
      } else {
        Arrays.fill(other, 0L);
        load(b, other, m, decimal);
        transform(other, n, tables[0], m, cancelled, par, true);
        pointwise(fa, other, m, par);
      }
      transform(fa, n, tables[1], m, cancelled, par, false);
      res[k] = fa;
    }
    return recombine(res, a.length + b.length - 1, log, false, decimal, par, cancelled);
  }

  /** Forward transforms of {@code b} at length 2^log, prescaled, for repeated products with the same operand. */
  static Transformed transform(long[] b, int log, boolean decimal, BooleanSupplier cancelled) {
    int n = 1 << log;
    boolean par = Parallel.enabled() && n >= PARALLEL_LENGTH;
    long[][] res = new long[3][];
    for (int k = 0; k < 3; k++) {
      Prime m = PRIMES[k];
      long[] f = new long[n];
      load(b, f, m, decimal);
      transform(f, n, m.tables(log)[0], m, cancelled, par, true);
      // Folding the 2^-log scaling in here spares Garner three Montgomery products per column of every later product.
      long s = m.scale[log];
      for (int i = 0; i < n; i++) {
        f[i] = mont(f[i], s, m.p, m.pinv);
      }
      res[k] = f;
    }
    return new Transformed(res, b.length, log);
  }

  /** {@code a * b} with {@code b} already transformed; {@code a.length + b.length - 1} must fit its length. */
  static long[] multiply(long[] a, Transformed b, boolean decimal, BooleanSupplier cancelled) {
    if (a.length == 0 || b.length == 0) {
      return new long[0];
    }
    int columns = a.length + b.length - 1;
    int n = 1 << b.log;
    if (columns > n) {
      throw new IllegalArgumentException("product of " + columns + " columns exceeds transform length " + n);
    }
    boolean par = Parallel.enabled() && n >= PARALLEL_LENGTH;
    long[][] res = new long[3][];
    for (int k = 0; k < 3; k++) {
      Prime m = PRIMES[k];
      long[][] tables = m.tables(b.log);
      long[] fa = new long[n];
      load(a, fa, m, decimal);
      transform(fa, n, tables[0], m, cancelled, par, true);
      pointwise(fa, b.residues[k], m, par);
      transform(fa, n, tables[1], m, cancelled, par, false);
      res[k] = fa;
    }
    return recombine(res, columns, b.log, true, decimal, par, cancelled);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Modular arithmetic

  /** Montgomery product a * b / 2^64 mod p in [0, p); requires a, b >= 0 and a * b < p * 2^63. */
  private static long mont(long a, long b, long p, long pinv) {
    long lo = a * b;
    long m = lo * pinv;
    long r = Math.multiplyHigh(a, b) - Math.multiplyHigh(m, p);
    return r + ((r >> 63) & p);
  }

  /**
   * Lazy Montgomery product: a * b / 2^64 mod p, represented in (p/2, 2p) instead of [0, p), which saves the sign
   * fix-up in every butterfly; same precondition as {@link #mont}.
   */
  private static long montLazy(long a, long b, long p, long pinv) {
    long m = a * b * pinv;
    return Math.multiplyHigh(a, b) - Math.multiplyHigh(m, p) + p;
  }

  private static long inverse(long x, long p) {
    return BigInteger.valueOf(x).modInverse(BigInteger.valueOf(p)).longValueExact();
  }

  /** One NTT prime with its Montgomery constants and lazily grown twiddle tables. */
  static final class Prime {
    final long p;
    final long pinv;
    private final long r2;
    private final long one;
    private final long root;
    private final long[] scale = new long[33];
    private volatile long[][] tables = {new long[2], new long[2]};

    Prime(long p) {
      this.p = p;
      long inv = p;
      for (int i = 0; i < 5; i++) {
        inv *= 2 - p * inv;
      }
      this.pinv = inv;
      BigInteger bp = BigInteger.valueOf(p);
      BigInteger r = BigInteger.ONE.shiftLeft(64).mod(bp);
      this.one = r.longValueExact();
      this.r2 = r.multiply(r).mod(bp).longValueExact();
      BigInteger g = BigInteger.valueOf(3);
      BigInteger half = bp.shiftRight(1);
      while (g.modPow(half, bp).equals(BigInteger.ONE)) {
        g = g.add(BigInteger.ONE);
      }
      // g is a quadratic non-residue, so g^((p-1)/2^32) has order exactly 2^32.
      this.root = g.modPow(bp.shiftRight(32), bp).longValueExact();
      for (int log = 0; log <= 32; log++) {
        // Undoes the transform's factor 2^log and the Montgomery factor 2^-64 left by the pointwise product.
        BigInteger nInv = BigInteger.ONE.shiftLeft(log).modInverse(bp);
        scale[log] = nInv.multiply(r).multiply(r).mod(bp).longValueExact();
      }
      tables[0][1] = one;
      tables[1][1] = one;
    }

    long toMont(long x) {
      return mont(x, r2, p, pinv);
    }

    /** Twiddles for lengths up to 2^log: t[h + j] = w_{2h}^j (Montgomery form); [0] forward, [1] inverse roots. */
    long[][] tables(int log) {
      long[][] t = tables;
      if (t[0].length >= (1 << log)) {
        return t;
      }
      synchronized (this) {
        t = tables;
        if (t[0].length >= (1 << log)) {
          return t;
        }
        int n = 1 << log;
        long[] fwd = new long[n];
        long[] inv = new long[n];
        BigInteger bp = BigInteger.valueOf(p);
        for (int h = 1; h < n; h <<= 1) {
          BigInteger exponent = BigInteger.ONE.shiftLeft(31).divide(BigInteger.valueOf(h)); // w has order 2h
          BigInteger w = BigInteger.valueOf(root).modPow(exponent, bp);
          long wf = toMont(w.longValueExact());
          long wi = toMont(w.modInverse(bp).longValueExact());
          long cf = one;
          long ci = one;
          for (int j = 0; j < h; j++) {
            fwd[h + j] = cf;
            inv[h + j] = ci;
            cf = mont(cf, wf, p, pinv);
            ci = mont(ci, wi, p, pinv);
          }
        }
        t = new long[][] {fwd, inv};
        tables = t;
        return t;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Transforms: forward is decimation in frequency (natural order in, bit-reversed out), inverse is decimation in time
  // (bit-reversed in, natural out), so no bit-reversal permutation is ever needed. Values stay lazily in [0, 2p): lazy
  // Montgomery products land in (p/2, 2p), sums are folded back below 2p by one conditional subtraction.

  /** Copies limbs into {@code f}, reduced into [0, 2p). */
  private static void load(long[] x, long[] f, Prime m, boolean decimal) {
    if (decimal) {
      System.arraycopy(x, 0, f, 0, x.length);
      return;
    }
    long p = m.p;
    for (int i = 0; i < x.length; i++) {
      long v = x[i];
      // 2^61 - p < 2^38, so v >>> 61 is floor(v / p) or one less for any 64-bit v: the remainder lands in [0, 2p).
      f[i] = v - (v >>> 61) * p;
    }
  }

  private static void transform(long[] a, int n, long[] tw, Prime m, BooleanSupplier c, boolean par, boolean forward) {
    if (n == 1) {
      return;
    }
    int splits = par ? Parallel.SPLITS : 0;
    if (forward) {
      dif(a, 0, n, tw, m.p, m.pinv, c, splits);
    } else {
      dit(a, 0, n, tw, m.p, m.pinv, c, splits);
    }
  }

  // Two butterfly levels are fused into one radix-4 step: the same four multiplications as two radix-2 levels, but
  // half the loads, stores and loop overhead. A leftover single level (odd log length) is done radix-2.

  private static void dif(long[] a, int off, int len, long[] tw, long p, long pinv, BooleanSupplier c, int splits) {
    Parallel.check(c);
    if (len <= BLOCK) {
      int h = len >>> 1;
      for (; h >= 2; h >>>= 2) {
        for (int s = off; s < off + len; s += 2 * h) {
          dif4(a, s, h >>> 1, 0, h >>> 1, tw, p, pinv);
        }
      }
      if (h == 1) {
        for (int s = off; s < off + len; s += 2) {
          difPass(a, s, 1, 0, 1, tw, p, pinv);
        }
      }
      return;
    }
    int q = len >>> 2;
    if (splits > 0) {
      int mid = q >>> 1;
      Parallel.both(() -> dif4(a, off, q, 0, mid, tw, p, pinv), () -> dif4(a, off, q, mid, q, tw, p, pinv));
      Parallel.both(() -> {
        dif(a, off, q, tw, p, pinv, c, splits - 1);
        dif(a, off + q, q, tw, p, pinv, c, splits - 1);
      }, () -> {
        dif(a, off + 2 * q, q, tw, p, pinv, c, splits - 1);
        dif(a, off + 3 * q, q, tw, p, pinv, c, splits - 1);
      });
    } else {
      dif4(a, off, q, 0, q, tw, p, pinv);
      for (int k = 0; k < 4; k++) {
        dif(a, off + k * q, q, tw, p, pinv, c, 0);
      }
    }
  }

  private static void dit(long[] a, int off, int len, long[] tw, long p, long pinv, BooleanSupplier c, int splits) {
    Parallel.check(c);
    if (len <= BLOCK) {
      int h = 1;
      if (Integer.numberOfTrailingZeros(len) % 2 == 1) {
        for (int s = off; s < off + len; s += 2) {
          ditPass(a, s, 1, 0, 1, tw, p, pinv);
        }
        h = 2;
      }
      for (; h < len; h <<= 2) {
        for (int s = off; s < off + len; s += 4 * h) {
          dit4(a, s, h, 0, h, tw, p, pinv);
        }
      }
      return;
    }
    int q = len >>> 2;
    if (splits > 0) {
      int mid = q >>> 1;
      Parallel.both(() -> {
        dit(a, off, q, tw, p, pinv, c, splits - 1);
        dit(a, off + q, q, tw, p, pinv, c, splits - 1);
      }, () -> {
        dit(a, off + 2 * q, q, tw, p, pinv, c, splits - 1);
        dit(a, off + 3 * q, q, tw, p, pinv, c, splits - 1);
      });
      Parallel.check(c);
      Parallel.both(() -> dit4(a, off, q, 0, mid, tw, p, pinv), () -> dit4(a, off, q, mid, q, tw, p, pinv));
    } else {
      for (int k = 0; k < 4; k++) {
        dit(a, off + k * q, q, tw, p, pinv, c, 0);
      }
      Parallel.check(c);
      dit4(a, off, q, 0, q, tw, p, pinv);
    }
  }

  /** Radix-2 Gentleman-Sande butterflies (x, y) -> (x + y, (x - y) w) for j in [from, to) of the block at off. */
  private static void difPass(long[] a, int off, int h, int from, int to, long[] tw, long p, long pinv) {
    long p2 = p << 1;
    for (int j = from; j < to; j++) {
      int i = off + j;
      long x = a[i];
      long y = a[i + h];
      long s = x + y - p2;
      a[i] = s + ((s >> 63) & p2);
      a[i + h] = montLazy(x - y + p2, tw[h + j], p, pinv);
    }
  }

  /** Radix-2 Cooley-Tukey butterflies (x, y) -> (x + y w, x - y w) with inverse roots. */
  private static void ditPass(long[] a, int off, int h, int from, int to, long[] tw, long p, long pinv) {
    long p2 = p << 1;
    for (int j = from; j < to; j++) {
      int i = off + j;
      long x = a[i];
      long t = montLazy(a[i + h], tw[h + j], p, pinv);
      long s = x + t - p2;
      a[i] = s + ((s >> 63) & p2);
      long d = x - t;
      a[i + h] = d + ((d >> 63) & p2);
    }
  }

  /** DIF levels of half-size 2q then q on the block of 4q at off, for j in [from, to). */
  private static void dif4(long[] a, int off, int q, int from, int to, long[] tw, long p, long pinv) {
    long p2 = p << 1;
    int h = q << 1;
    for (int j = from; j < to; j++) {
      int i0 = off + j;
      int i1 = i0 + q;
      int i2 = i1 + q;
      int i3 = i2 + q;
      long x0 = a[i0];
      long x1 = a[i1];
      long x2 = a[i2];
      long x3 = a[i3];
      long y0 = x0 + x2 - p2;
      y0 += (y0 >> 63) & p2;
      long y1 = x1 + x3 - p2;
      y1 += (y1 >> 63) & p2;
      long y2 = montLazy(x0 - x2 + p2, tw[h + j], p, pinv);
      long y3 = montLazy(x1 - x3 + p2, tw[h + j + q], p, pinv);
      long w = tw[q + j];
      long z0 = y0 + y1 - p2;
      a[i0] = z0 + ((z0 >> 63) & p2);
      a[i1] = montLazy(y0 - y1 + p2, w, p, pinv);
      long z2 = y2 + y3 - p2;
      a[i2] = z2 + ((z2 >> 63) & p2);
      a[i3] = montLazy(y2 - y3 + p2, w, p, pinv);
    }
  }

  /** DIT levels of half-size q then 2q on the block of 4q at off (inverse roots), for j in [from, to). */
  private static void dit4(long[] a, int off, int q, int from, int to, long[] tw, long p, long pinv) {
    long p2 = p << 1;
    int h = q << 1;
    for (int j = from; j < to; j++) {
      int i0 = off + j;
      int i1 = i0 + q;
      int i2 = i1 + q;
      int i3 = i2 + q;
      long w = tw[q + j];
      long x0 = a[i0];
      long x2 = a[i2];
      long t1 = montLazy(a[i1], w, p, pinv);
      long t3 = montLazy(a[i3], w, p, pinv);
      long y0 = x0 + t1 - p2;
      y0 += (y0 >> 63) & p2;
      long y1 = x0 - t1;
      y1 += (y1 >> 63) & p2;
      long y2 = x2 + t3 - p2;
      y2 += (y2 >> 63) & p2;
      long y3 = x2 - t3;
      y3 += (y3 >> 63) & p2;
      long u2 = montLazy(y2, tw[h + j], p, pinv);
      long u3 = montLazy(y3, tw[h + j + q], p, pinv);
      long z0 = y0 + u2 - p2;
      a[i0] = z0 + ((z0 >> 63) & p2);
      long z2 = y0 - u2;
      a[i2] = z2 + ((z2 >> 63) & p2);
      long z1 = y1 + u3 - p2;
      a[i1] = z1 + ((z1 >> 63) & p2);
      long z3 = y1 - u3;
      a[i3] = z3 + ((z3 >> 63) & p2);
    }
  }

  private static void pointwise(long[] a, long[] b, Prime m, boolean par) {
    int n = a.length;
    if (par) {
      Parallel.both(() -> pointwise(a, b, 0, n >>> 1, m.p, m.pinv), () -> pointwise(a, b, n >>> 1, n, m.p, m.pinv));
    } else {
      pointwise(a, b, 0, n, m.p, m.pinv);
    }
  }

  private static void pointwise(long[] a, long[] b, int from, int to, long p, long pinv) {
    for (int i = from; i < to; i++) {
      a[i] = montLazy(a[i], b[i], p, pinv);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Chinese remaindering and carry propagation

  /**
   * Exact columns from the three residue arrays, then carries in the requested radix. {@code prescaled}: the 2^-log
   * factor was already applied (to a cached operand), so the residues only need reducing from [0, 2p) to [0, p).
   */
  private static long[] recombine(long[][] res, int columns, int log, boolean prescaled, boolean decimal, boolean par,
      BooleanSupplier c) {
    Parallel.check(c);
    long[] out = new long[columns + 2];
    long s0 = prescaled ? 0 : P0.scale[log];
    long s1 = prescaled ? 0 : P1.scale[log];
    long s2 = prescaled ? 0 : P2.scale[log];
    if (par) {
      int mid = columns >>> 1;
      long[] carry = new long[2];
      Parallel.both(() -> {
        garner(res, 0, mid, s0, s1, s2, c);
        long[] k = decimal ? carryDecimal(res, out, 0, mid) : carryBinary(res, out, 0, mid);
        carry[0] = k[0];
        carry[1] = k[1];
      }, () -> {
        garner(res, mid, columns, s0, s1, s2, c);
        long[] k = decimal ? carryDecimal(res, out, mid, columns) : carryBinary(res, out, mid, columns);
        store(out, columns, k, decimal);
      });
      store(out, mid, carry, decimal);
    } else {
      garner(res, 0, columns, s0, s1, s2, c);
      long[] k = decimal ? carryDecimal(res, out, 0, columns) : carryBinary(res, out, 0, columns);
      store(out, columns, k, decimal);
    }
    return Nat.trim(out);
  }

  /** {@link #garner(long[][], int, int, long, long, long)} in slices of 8192 columns with a cancellation check each. */
  private static void garner(long[][] res, int from, int to, long s0, long s1, long s2, BooleanSupplier c) {
    for (int start = from; start < to; start += 1 << 13) {
      Parallel.check(c);
      garner(res, start, Math.min(to, start + (1 << 13)), s0, s1, s2);
    }
  }

  /**
   * Replaces residues with the exact column values as three words, in place. Residues are multiplied by the scale
   * factors s0..s2 first, or, when those are 0 (operand prescaled), just reduced into [0, p).
   */
  private static void garner(long[][] res, int from, int to, long s0, long s1, long s2) {
    long[] r0 = res[0];
    long[] r1 = res[1];
    long[] r2 = res[2];
    long p0 = P0.p;
    long p1 = P1.p;
    long p2 = P2.p;
    long i0 = P0.pinv;
    long i1 = P1.pinv;
    long i2 = P2.pinv;
    for (int i = from; i < to; i++) {
      long x0;
      long x1;
      long x2;
      if (s0 == 0) {
        x0 = r0[i] - p0;
        x0 += (x0 >> 63) & p0;
        x1 = r1[i] - p1;
        x1 += (x1 >> 63) & p1;
        x2 = r2[i] - p2;
        x2 += (x2 >> 63) & p2;
      } else {
        x0 = mont(r0[i], s0, p0, i0);
        x1 = mont(r1[i], s1, p1, i1);
        x2 = mont(r2[i], s2, p2, i2);
      }
      // x = x0 + p0 * (t1 + p1 * t2), t1 < p1, t2 < p2 (mixed radix); p0 < 2 p1 and p1 < 2 p2 keep these positive.
      long t1 = mont(x1 - x0 + 2 * p1, C01, p1, i1);
      long u = mont(x2 - x0 + 2 * p2, C02, p2, i2);
      long t2 = mont(u - t1 + 2 * p2, C12, p2, i2);
      long aLo = p0 * t1;
      long aHi = Math.multiplyHigh(p0, t1);
      long bLo = P01_LO * t2;
      long bMidA = Math.multiplyHigh(P01_LO, t2) + ((P01_LO >> 63) & t2);
      long bMidB = P01_HI * t2;
      long bMid = bMidA + bMidB;
      long bHi = Math.multiplyHigh(P01_HI, t2) + Nat.carry(bMidA, bMidB, bMid);
      // Carries are computed arithmetically: as branches they would mispredict on random data.
      long w0 = x0 + aLo;
      long k0 = Nat.carry(x0, aLo, w0);
      long w0b = w0 + bLo;
      k0 += Nat.carry(w0, bLo, w0b);
      long w1 = aHi + bMid;
      long k1 = Nat.carry(aHi, bMid, w1);
      long w1b = w1 + k0;
      k1 += Nat.carry(w1, k0, w1b);
      r0[i] = w0b;
      r1[i] = w1b;
      r2[i] = bHi + k1;
    }
  }

  /** Radix 10^18 limbs (trimmed) of exact column sums given as three words per column; used by schoolbook products. */
  static long[] decimalColumns(long[][] cols, int columns) {
    long[] out = new long[columns + 2];
    store(out, columns, carryDecimal(cols, out, 0, columns), true);
    return Nat.trim(out);
  }

  /** Radix 2^64 carries for columns [from, to); returns the 128-bit carry owed to position {@code to}. */
  private static long[] carryBinary(long[][] cols, long[] out, int from, int to) {
    long[] w0 = cols[0];
    long[] w1 = cols[1];
    long[] w2 = cols[2];
    long c0 = 0;
    long c1 = 0;
    for (int i = from; i < to; i++) {
      long x0 = w0[i];
      long x1 = w1[i];
      long s0 = x0 + c0;
      long k0 = Nat.carry(x0, c0, s0);
      out[i] = s0;
      long s1 = x1 + c1;
      long k1 = Nat.carry(x1, c1, s1);
      long s1b = s1 + k0;
      k1 += Nat.carry(s1, k0, s1b);
      c0 = s1b;
      c1 = w2[i] + k1;
    }
    return new long[] {c0, c1};
  }

  /**
   * Radix 10^18 carries for columns [from, to); returns the carries owed to positions {@code to} and {@code to + 1}.
   * Each column (< 2^150) is split into three decimal limbs by three Moller-Granlund divisions by 10^18 (on the value
   * shifted left by 4, to match the normalized divisor); columns are independent, so their splits overlap in the
   * pipeline.
   */
  private static long[] carryDecimal(long[][] cols, long[] out, int from, int to) {
    long[] w0s = cols[0];
    long[] w1s = cols[1];
    long[] w2s = cols[2];
    long d = Nat.E18_NORM;
    long c0 = 0;
    long c1 = 0;
    for (int i = from; i < to; i++) {
      long w0 = w0s[i];
      long w1 = w1s[i];
      long n2 = (w2s[i] << 4) | (w1 >>> 60); // < 2^26 since the column is < 2^150
      long n1 = (w1 << 4) | (w0 >>> 60);
      long n0 = w0 << 4;
      long qa = Nat.divE18Norm(n2, n1);
      long ra = n1 - qa * d;
      long qb = Nat.divE18Norm(ra, n0);
      long d0 = (n0 - qb * d) >>> 4;
      // column / 10^18 = qa * 2^64 + qb with qa < 2^27; split it once more.
      long m0 = qb << 4;
      long d2 = Nat.divE18Norm((qa << 4) | (qb >>> 60), m0);
      long d1 = (m0 - d2 * d) >>> 4;
      long v = d0 + c0;
      long k = v / E18;
      out[i] = v - k * E18;
      c0 = c1 + d1 + k;
      c1 = d2;
    }
    return new long[] {c0, c1};
  }

  /** Adds a carry pair owed to position {@code pos} (and {@code pos + 1}), rippling as far as needed. */
  private static void store(long[] out, int pos, long[] carry, boolean decimal) {
    if (decimal) {
      Nat.addDecimalAt(out, pos, carry[0]);
      Nat.addDecimalAt(out, pos + 1, carry[1]);
    } else {
      Nat.addBinaryAt(out, pos, carry[0]);
      Nat.addBinaryAt(out, pos + 1, carry[1]);
    }
  }
}
