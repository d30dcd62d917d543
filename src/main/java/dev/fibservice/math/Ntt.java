package dev.fibservice.math;

import java.math.BigInteger;
import java.util.function.BooleanSupplier;

/**
 * Exact product of large naturals held as little-endian 64-bit limbs (radix 2^64 or 10^18) via a three-prime NTT of
 * length 2^k or 3 * 2^k, whichever is the smaller that holds the product.
 */
final class Ntt {
  /** Radix of decimal limbs: the largest power of ten below every prime, so decimal limbs need no reduction. */
  static final long E18 = 1_000_000_000_000_000_000L;

  /*
   * Primes c * 3 * 2^32 + 1 just below 2^61: below 2^61 so lazily reduced values in [0, 4p) stay positive in a signed
   * long; 3 * 2^32 | p - 1 so every length 2^k and 3 * 2^k we can allocate has a root of unity. Their product (~2^183)
   * exceeds every convolution column: < m * 2^128 in radix 2^64 and < m * 10^36 < 2^148 in radix 10^18, m = shorter
   * operand <= MAX_LENGTH (NttTest checks the bound).
   */
  private static final Prime P0 = new Prime(2305842949084151809L);
  private static final Prime P1 = new Prime(2305842343493763073L);
  private static final Prime P2 = new Prime(2305842163105136641L);
  private static final Prime[] PRIMES = {P0, P1, P2};

  // Garner constants in Montgomery form: p0^-1 mod p1, p0^-1 mod p2, p1^-1 mod p2; and p0 * p1 as two words.
  private static final long C01 = P1.toMont(inverse(P0.p, P1.p));
  private static final long C02 = P2.toMont(inverse(P0.p, P2.p));
  private static final long C12 = P2.toMont(inverse(P1.p, P2.p));
  private static final long P01_LO = P0.p * P1.p;
  private static final long P01_HI = Math.multiplyHigh(P0.p, P1.p);

  /** The longest transform: 3 * 2^28 points (6 GiB per residue array, beyond any heap we run with). */
  static final int MAX_LENGTH = 3 << 28;

  /**
   * Blocks of this many limbs (32 KiB) are transformed depth first so all their passes run in L1; larger lengths are
   * done one breadth-first radix-4 pass at a time, which is also where cancellation is polled (~0.5 ms apart at most).
   */
  private static final int BLOCK = 1 << 12;

  /** From this transform length on, a product's primes and blocks run as parallel tasks. */
  static final int PARALLEL_LENGTH = 1 << 12;

  private Ntt() {
  }

  /** Forward transforms of a fixed operand, reusable for many products of the same transform length. */
  static final class Transformed {
    final long[][] residues;
    /** Limbs of the operand. */
    final int operand;
    /** Transform length. */
    final int length;

    private Transformed(long[][] residues, int operand, int length) {
      this.residues = residues;
      this.operand = operand;
      this.length = length;
    }
  }

  /** The transform length for a product of this many columns: the smallest 2^k or 3 * 2^k that holds them. */
  static int length(int columns) {
    if (columns <= 2) {
      return Math.max(columns, 1);
    }
    if (columns > MAX_LENGTH) {
      throw new IllegalArgumentException("product of " + columns + " columns exceeds the longest transform, "
          + MAX_LENGTH);
    }
    int pow2 = Integer.highestOneBit(columns - 1) << 1;
    int three = (pow2 >>> 2) * 3;
    return three >= columns ? three : pow2;
  }

  /** A small index for each transform length: 2k for 2^k, 2k + 1 for 3 * 2^k. */
  static int code(int length) {
    return 2 * Integer.numberOfTrailingZeros(length) + (isThree(length) ? 1 : 0);
  }

  private static boolean isThree(int length) {
    return (length & (length - 1)) != 0;
  }

  /** The three primes. */
  static long[] primes() {
    return new long[] {P0.p, P1.p, P2.p};
  }

  /** {@code a * b} (squaring when {@code a == b}); operands and result are trimmed (no leading zero limbs). */
  static long[] multiply(long[] a, long[] b, boolean decimal, BooleanSupplier cancelled) {
    if (a.length == 0 || b.length == 0) {
      return new long[0];
    }
    int columns = a.length + b.length - 1;
    return product(a, a == b ? null : b, null, length(columns), columns, decimal, cancelled);
  }

  /** Forward transforms of {@code b} at {@code length} (from {@link #length}), prescaled, for repeated products. */
  static Transformed transform(long[] b, int length, boolean decimal, BooleanSupplier cancelled) {
    Shape shape = new Shape(length);
    long[][] res = new long[3][];
    Runnable[] tasks = new Runnable[3];
    for (int k = 0; k < 3; k++) {
      int prime = k;
      tasks[k] = () -> {
        Prime m = PRIMES[prime];
        long[] f = new long[length];
        load(b, f, m, decimal);
        shape.forward(f, m, cancelled);
        // Folding the 1/length scaling in here spares Garner three Montgomery products per column of every product.
        long s = m.scale[code(length)];
        for (int i = 0; i < length; i++) {
          f[i] = mont(f[i], s, m.p, m.pinv);
        }
        res[prime] = f;
      };
    }
    run(tasks, parallel(length));
    return new Transformed(res, b.length, length);
  }

  /** {@code a * b} with {@code b} already transformed; {@code a.length + b.operand - 1} must fit its length. */
  static long[] multiply(long[] a, Transformed b, boolean decimal, BooleanSupplier cancelled) {
    if (a.length == 0 || b.operand == 0) {
      return new long[0];
    }
    int columns = a.length + b.operand - 1;
    if (columns > b.length) {
      throw new IllegalArgumentException("product of " + columns + " columns exceeds transform length " + b.length);
    }
    return product(a, null, b, b.length, columns, decimal, cancelled);
  }

  private static boolean parallel(int length) {
    return Parallel.enabled() && length >= PARALLEL_LENGTH;
  }

  private static void run(Runnable[] tasks, boolean parallel) {
    if (parallel) {
      Parallel.all(tasks);
    } else {
      for (Runnable t : tasks) {
        t.run();
      }
    }
  }

  /**
   * One product in three phases, each a set of independent tasks over the three primes: load and the first pass of
   * the forward transforms; per block of that pass, the rest of the forward transforms, the pointwise product and
   * the inverse transform up to its last pass; that last pass. Then Garner and carries. {@code b} null: a square, or
   * the product with the transformed {@code bt}.
   */
  private static long[] product(long[] a, long[] b, Transformed bt, int n, int columns, boolean decimal,
      BooleanSupplier c) {
    Shape shape = new Shape(n);
    boolean par = parallel(n);
    long[][] fa = new long[3][];
    long[][] fb = b == null ? null : new long[3][];
    Runnable[] first = new Runnable[b == null ? 3 : 6];
    for (int k = 0; k < 3; k++) {
      int prime = k;
      first[k] = () -> {
        Parallel.check(c);
        long[] f = new long[n];
        load(a, f, PRIMES[prime], decimal);
        shape.forwardTop(f, PRIMES[prime]);
        fa[prime] = f;
      };
      if (b != null) {
        first[3 + k] = () -> {
          Parallel.check(c);
          long[] f = new long[n];
          load(b, f, PRIMES[prime], decimal);
          shape.forwardTop(f, PRIMES[prime]);
          fb[prime] = f;
        };
      }
    }
    run(first, par);
    Runnable[] blocks = new Runnable[3 * shape.blocks];
    for (int k = 0; k < 3; k++) {
      for (int s = 0; s < shape.blocks; s++) {
        int prime = k;
        int block = s;
        blocks[k * shape.blocks + s] = () -> {
          Prime m = PRIMES[prime];
          long[] x = fa[prime];
          int off = block * shape.sub;
          shape.forwardBlock(x, off, m, c);
          long[] y = x;
          if (fb != null) {
            y = fb[prime];
            shape.forwardBlock(y, off, m, c);
          } else if (bt != null) {
            y = bt.residues[prime];
          }
          pointwise(x, y, off, off + shape.sub, m.p, m.pinv);
          shape.inverseBlock(x, off, m, c);
        };
      }
    }
    run(blocks, par);
    Runnable[] last = new Runnable[3];
    for (int k = 0; k < 3; k++) {
      int prime = k;
      last[k] = () -> {
        Parallel.check(c);
        shape.inverseTop(fa[prime], PRIMES[prime]);
      };
    }
    run(last, par);
    return recombine(fa, columns, n, bt != null, decimal, par, c);
  }

  /**
   * How a transform of length n splits: a first pass over the whole array (radix 3 for 3 * 2^k, radix 4 for 2^k
   * from 4 on) leaves {@code blocks} independent power-of-two transforms of length {@code sub}; lengths 1 and 2 are
   * one block.
   */
  private static final class Shape {
    final int n;
    final boolean three;
    final int blocks;
    final int sub;
    final int subLog;

    Shape(int n) {
      this.n = n;
      this.three = isThree(n);
      this.blocks = three ? 3 : n >= 4 ? 4 : 1;
      this.sub = n / blocks;
      this.subLog = Integer.numberOfTrailingZeros(sub);
    }

    void forward(long[] a, Prime m, BooleanSupplier c) {
      forwardTop(a, m);
      for (int s = 0; s < blocks; s++) {
        forwardBlock(a, s * sub, m, c);
      }
    }

    void forwardTop(long[] a, Prime m) {
      if (three) {
        radix3(a, sub, m.radix3(subLog)[0], m.w3, m.p, m.pinv);
      } else if (blocks == 4) {
        dif4(a, 0, sub, 0, sub, m.tables(subLog + 2)[0], m.p, m.pinv);
      }
    }

    void forwardBlock(long[] a, int off, Prime m, BooleanSupplier c) {
      dif(a, off, sub, m.tables(subLog)[0], m.p, m.pinv, c);
    }

    void inverseBlock(long[] a, int off, Prime m, BooleanSupplier c) {
      dit(a, off, sub, m.tables(subLog)[1], m.p, m.pinv, c);
    }

    void inverseTop(long[] a, Prime m) {
      if (three) {
        radix3Inverse(a, sub, m.radix3(subLog)[1], m.w3inv, m.p, m.pinv);
      } else if (blocks == 4) {
        dit4(a, 0, sub, 0, sub, m.tables(subLog + 2)[1], m.p, m.pinv);
      }
    }
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
    /** Of order 2^32: the power-of-two transforms' roots. */
    private final long root;
    /** Of order 3 * 2^32: root3^3 = root. */
    private final long root3;
    /** Cube roots of unity root3^(2^32) and its inverse, in Montgomery form. */
    final long w3;
    final long w3inv;
    /** 1 / length times the Montgomery factors, by {@link #code} of the length. */
    private final long[] scale = new long[66];
    private volatile long[][] tables = {new long[2], new long[2]};
    private final long[][][] radix3 = new long[33][][];

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
      BigInteger pm1 = bp.subtract(BigInteger.ONE);
      BigInteger g = BigInteger.valueOf(3);
      // g generates the 2- and 3-parts of the group: neither a square nor a cube, so root3 has order exactly 3 * 2^32.
      while (g.modPow(pm1.shiftRight(1), bp).equals(BigInteger.ONE)
          || g.modPow(pm1.divide(BigInteger.valueOf(3)), bp).equals(BigInteger.ONE)) {
        g = g.add(BigInteger.ONE);
      }
      BigInteger rho = g.modPow(pm1.divide(BigInteger.valueOf(3L << 32)), bp);
      this.root3 = rho.longValueExact();
      this.root = rho.pow(3).mod(bp).longValueExact();
      BigInteger cube = rho.modPow(BigInteger.ONE.shiftLeft(32), bp);
      this.w3 = toMont(cube.longValueExact());
      this.w3inv = toMont(cube.modInverse(bp).longValueExact());
      for (int log = 0; log <= 32; log++) {
        // Undoes the transform's factor (length) and the Montgomery factor 2^-64 left by the pointwise product.
        for (int f = 1; f <= 3; f += 2) {
          BigInteger nInv = BigInteger.valueOf(f).shiftLeft(log).modInverse(bp);
          scale[2 * log + (f == 3 ? 1 : 0)] = nInv.multiply(r).multiply(r).mod(bp).longValueExact();
        }
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
          powers(toMont(w.longValueExact()), fwd, h, h, 1);
          powers(toMont(w.modInverse(bp).longValueExact()), inv, h, h, 1);
        }
        t = new long[][] {fwd, inv};
        tables = t;
        return t;
      }
    }

    /**
     * Twiddles of the radix-3 pass of length 3 * 2^log, w of order 3 * 2^log: t[2j] = w^j, t[2j + 1] = w^2j for j <
     * 2^log (Montgomery form, interleaved so one cache line serves both); [0] forward, [1] inverse roots.
     */
    synchronized long[][] radix3(int log) {
      long[][] t = radix3[log];
      if (t == null) {
        int m = 1 << log;
        BigInteger bp = BigInteger.valueOf(p);
        BigInteger w = BigInteger.valueOf(root3).modPow(BigInteger.ONE.shiftLeft(32 - log), bp);
        long[] fwd = new long[2 * m];
        long[] inv = new long[2 * m];
        powers(toMont(w.longValueExact()), fwd, 0, m, 2);
        powers(toMont(w.pow(2).mod(bp).longValueExact()), fwd, 1, m, 2);
        BigInteger wi = w.modInverse(bp);
        powers(toMont(wi.longValueExact()), inv, 0, m, 2);
        powers(toMont(wi.pow(2).mod(bp).longValueExact()), inv, 1, m, 2);
        t = new long[][] {fwd, inv};
        radix3[log] = t;
      }
      return t;
    }

    /** out[from + stride * j] = w^j (Montgomery form) for j < count. */
    private void powers(long w, long[] out, int from, int count, int stride) {
      long x = one;
      for (int j = 0; j < count; j++) {
        out[from + stride * j] = x;
        x = mont(x, w, p, pinv);
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
      // With d = 2^61 - p < 2^41, v - (v >>> 61) p = (v mod 2^61) + (v >>> 61) d < 2^61 + 7d < 2p for any 64-bit v.
      f[i] = v - (v >>> 61) * p;
    }
  }

  // Two butterfly levels are fused into one radix-4 step: the same four multiplications as two radix-2 levels, but
  // half the loads, stores and loop overhead. A leftover single level (odd log length) is done radix-2.

  private static void dif(long[] a, int off, int len, long[] tw, long p, long pinv, BooleanSupplier c) {
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
    dif4(a, off, q, 0, q, tw, p, pinv);
    for (int k = 0; k < 4; k++) {
      dif(a, off + k * q, q, tw, p, pinv, c);
    }
  }

  private static void dit(long[] a, int off, int len, long[] tw, long p, long pinv, BooleanSupplier c) {
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
    for (int k = 0; k < 4; k++) {
      dit(a, off + k * q, q, tw, p, pinv, c);
    }
    Parallel.check(c);
    dit4(a, off, q, 0, q, tw, p, pinv);
  }

  /**
   * The radix-3 first pass of a forward transform of length 3m: for each j the thirds (x0, x1, x2) become
   * (x0 + x1 + x2, (x0 + w x1 + w^2 x2) r^j, (x0 + w^2 x1 + w x2) r^2j), w a cube root of unity, r of order 3m; with
   * w^2 = -1 - w that is one product by w, t = w (x1 - x2), then y1 = x0 - x2 + t and y2 = x0 - x1 - t. Each third is
   * then a length-m transform.
   */
  private static void radix3(long[] a, int m, long[] tw, long w, long p, long pinv) {
    long p2 = p << 1;
    for (int j = 0; j < m; j++) {
      long x0 = a[j];
      long x1 = a[j + m];
      long x2 = a[j + 2 * m];
      long s = x1 + x2 - p2;
      s += (s >> 63) & p2;
      long y0 = x0 + s - p2;
      a[j] = y0 + ((y0 >> 63) & p2);
      long t = montLazy(x1 - x2 + p2, w, p, pinv);
      long d = x0 - x2;
      d += (d >> 63) & p2;
      long e = x0 - x1;
      e += (e >> 63) & p2;
      a[j + m] = montLazy(d + t, tw[2 * j], p, pinv); // d + t < 4p
      a[j + 2 * m] = montLazy(e - t + p2, tw[2 * j + 1], p, pinv); // in (0, 3.5p)
    }
  }

  /** The inverse of {@link #radix3} (up to the factor 3), as the last pass of an inverse transform (inverse roots). */
  private static void radix3Inverse(long[] a, int m, long[] tw, long w, long p, long pinv) {
    long p2 = p << 1;
    for (int j = 0; j < m; j++) {
      long u0 = a[j];
      long u1 = montLazy(a[j + m], tw[2 * j], p, pinv);
      long u2 = montLazy(a[j + 2 * m], tw[2 * j + 1], p, pinv);
      long s = u1 + u2 - p2;
      s += (s >> 63) & p2;
      long x0 = u0 + s - p2;
      a[j] = x0 + ((x0 >> 63) & p2);
      long t = montLazy(u1 - u2 + p2, w, p, pinv);
      long d = u0 - u2;
      d += (d >> 63) & p2;
      long e = u0 - u1;
      e += (e >> 63) & p2;
      long x1 = d + t - p2;
      a[j + m] = x1 + ((x1 >> 63) & p2);
      long x2 = e - t;
      a[j + 2 * m] = x2 + ((x2 >> 63) & p2);
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

  private static void pointwise(long[] a, long[] b, int from, int to, long p, long pinv) {
    for (int i = from; i < to; i++) {
      a[i] = montLazy(a[i], b[i], p, pinv);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Chinese remaindering and carry propagation

  /**
   * Exact columns from the three residue arrays, then carries in the requested radix. {@code prescaled}: the 1/length
   * factor was already applied (to a cached operand), so the residues only need reducing from [0, 2p) to [0, p).
   */
  private static long[] recombine(long[][] res, int columns, int length, boolean prescaled, boolean decimal,
      boolean par, BooleanSupplier c) {
    Parallel.check(c);
    long[] out = new long[columns + 2];
    int code = code(length);
    long s0 = prescaled ? 0 : P0.scale[code];
    long s1 = prescaled ? 0 : P1.scale[code];
    long s2 = prescaled ? 0 : P2.scale[code];
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
