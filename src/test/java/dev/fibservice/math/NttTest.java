package dev.fibservice.math;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

class NttTest {
  private static final BooleanSupplier NEVER = () -> false;

  private static BigInteger random(Random r, int words) {
    return new BigInteger(64 * words, r).setBit(64 * words - 1);
  }

  /** Radix 10^18 limbs of x, cut from BigInteger.toString(). */
  static long[] decimalLimbs(BigInteger x) {
    String s = x.toString();
    int n = (s.length() + 17) / 18;
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      int end = s.length() - 18 * i;
      out[i] = Long.parseLong(s.substring(Math.max(0, end - 18), end));
    }
    return x.signum() == 0 ? new long[0] : out;
  }

  @Test
  void binaryProductsMatchBigInteger() {
    Random r = new Random(1);
    int[] sizes = {1, 2, 3, 7, 64, 100, 1000, 4095, 4096, 4097, 8191, 8192, 8193, 16_000, 40_000};
    for (int a : sizes) {
      BigInteger x = random(r, a);
      BigInteger y = random(r, Math.max(1, a / 3 + r.nextInt(a)));
      assertEquals(x.multiply(y), Nat.toBigInteger(Ntt.multiply(Nat.of(x), Nat.of(y), false, NEVER)), "a=" + a);
      long[] xs = Nat.of(x);
      assertEquals(x.multiply(x), Nat.toBigInteger(Ntt.multiply(xs, xs, false, NEVER)), "square a=" + a);
    }
  }

  @Test
  void extremeLimbsDoNotOverflow() {
    // All-ones limbs maximise every convolution column; long operands push the column sums towards 2^152.
    for (int words : new int[] {1, 5, 1000, 6144, 70_000}) {
      BigInteger ones = BigInteger.ONE.shiftLeft(64 * words).subtract(BigInteger.ONE);
      long[] x = Nat.of(ones);
      assertEquals(ones.multiply(ones), Nat.toBigInteger(Ntt.multiply(x, x, false, NEVER)), "words=" + words);
      long[] nines = new long[words];
      java.util.Arrays.fill(nines, Ntt.E18 - 1);
      // (B^w - 1)^2 = B^2w - 2 B^w + 1 in radix B = 10^18: limbs 1, 0 (w - 1 times), B - 2, B - 1 (w - 1 times).
      long[] expected = new long[2 * words];
      expected[0] = 1;
      expected[words] = Ntt.E18 - 2;
      java.util.Arrays.fill(expected, words + 1, 2 * words, Ntt.E18 - 1);
      assertArrayEquals(expected, Ntt.multiply(nines, nines, true, NEVER), "decimal words=" + words);
    }
  }

  @Test
  void decimalProductsMatchBigInteger() {
    Random r = new Random(2);
    for (int limbs : new int[] {1, 2, 5, 63, 64, 65, 128, 129, 1000, 5000, 9000}) {
      BigInteger x = random(r, limbs);
      BigInteger y = random(r, 1 + r.nextInt(limbs));
      long[] xd = decimalLimbs(x);
      long[] yd = decimalLimbs(y);
      long[] expected = decimalLimbs(x.multiply(y));
      assertArrayEquals(expected, Ntt.multiply(xd, yd, true, NEVER), "ntt limbs=" + limbs);
      if (Math.min(xd.length, yd.length) <= 128) {
        assertArrayEquals(expected, Radix.schoolbook(xd, yd), "schoolbook limbs=" + limbs);
      }
      Ntt.Transformed t = Ntt.transform(yd, Ntt.length(xd.length + yd.length - 1), true, NEVER);
      assertArrayEquals(expected, Ntt.multiply(xd, t, true, NEVER), "cached transform limbs=" + limbs);
    }
  }

  @Test
  void lengthIsTheSmallestPowerOfTwoOrThreeTimesOneThatHolds() {
    int expected = 1;
    for (int columns = 1; columns <= 1 << 17; columns++) {
      while (expected < columns) {
        expected = nextLength(expected);
      }
      assertEquals(expected, Ntt.length(columns), "columns=" + columns);
    }
    assertEquals(Ntt.MAX_LENGTH, Ntt.length(Ntt.MAX_LENGTH));
    assertEquals(Ntt.MAX_LENGTH, Ntt.length((1 << 29) + 1));
  }

  /** The next length after {@code len} in 1, 2, 3, 4, 6, 8, 12, 16, 24, ... */
  private static int nextLength(int len) {
    if (len < 3) {
      return len + 1;
    }
    return (len & (len - 1)) == 0 ? len / 2 * 3 : len / 3 * 4;
  }

  @Test
  void productsAtEveryLengthClassMatchBigInteger() throws Exception {
    Random r = new Random(8);
    for (int len = 1; len <= 3 << 14; len = nextLength(len)) {
      // columns exactly filling the length, and one more than the previous length holds
      for (int columns : new int[] {len, Math.max(1, previousLength(len) + 1)}) {
        int a = (columns + 1) / 2;
        int b = columns + 1 - a;
        boolean decimal = len <= 3 << 12; // larger decimal products: BigFibonacciTest's digits of F(10^7)
        checkProducts(r, a, b, len, decimal);
        if (columns % 2 == 1) {
          checkProducts(r, a, a, len, decimal); // a square of exactly these columns
        }
      }
    }
  }

  private static int previousLength(int len) {
    if (len <= 3) {
      return len - 1;
    }
    return (len & (len - 1)) == 0 ? len / 4 * 3 : len / 3 * 2;
  }

  /** Binary and decimal products of random a- and b-limb operands, sequential and on the engine's threads. */
  private static void checkProducts(Random r, int aLimbs, int bLimbs, int len, boolean decimal) throws Exception {
    assertEquals(len, Ntt.length(aLimbs + bLimbs - 1));
    BigInteger x = random(r, aLimbs);
    BigInteger y = aLimbs == bLimbs && r.nextBoolean() ? x : random(r, bLimbs);
    long[] xs = Nat.of(x);
    long[] ys = x == y ? xs : Nat.of(y);
    String what = aLimbs + "x" + bLimbs + " limbs, length " + len;
    BigInteger expected = x.multiply(y);
    assertEquals(expected, Nat.toBigInteger(Ntt.multiply(xs, ys, false, NEVER)), what);
    assertEquals(expected, Nat.toBigInteger(Parallel.invoke(() -> Ntt.multiply(xs, ys, false, NEVER))), "par " + what);
    if (!decimal) {
      return;
    }
    // decimal limbs below 10^18, as many as the binary ones
    long[] xd = decimalOperand(r, aLimbs);
    long[] yd = x == y ? xd : decimalOperand(r, bLimbs);
    BigInteger exp = fromDecimal(xd).multiply(fromDecimal(yd));
    long[] seq = Ntt.multiply(xd, yd, true, NEVER);
    assertEquals(exp, fromDecimal(seq), "decimal " + what);
    assertArrayEquals(seq, Parallel.invoke(() -> Ntt.multiply(xd, yd, true, NEVER)), "decimal par " + what);
    Ntt.Transformed t = Parallel.invoke(() -> Ntt.transform(yd, len, true, NEVER));
    assertArrayEquals(seq, Ntt.multiply(xd, t, true, NEVER), "cached transform " + what);
  }

  private static long[] decimalOperand(Random r, int limbs) {
    long[] d = new long[limbs];
    for (int i = 0; i < limbs; i++) {
      d[i] = r.nextInt(8) == 0 ? Ntt.E18 - 1 : Math.floorMod(r.nextLong(), Ntt.E18);
    }
    d[limbs - 1] = Math.max(1, d[limbs - 1]);
    return d;
  }

  /** The value of trimmed radix 10^18 limbs (each checked to be a limb), by BigInteger divide and conquer. */
  static BigInteger fromDecimal(long[] limbs) {
    assertTrue(limbs.length == 0 || limbs[limbs.length - 1] != 0, "trimmed");
    for (long l : limbs) {
      assertTrue(l >= 0 && l < Ntt.E18, "limb " + l);
    }
    return fromDecimal(limbs, 0, limbs.length, new HashMap<>());
  }

  private static BigInteger fromDecimal(long[] limbs, int from, int to, Map<Integer, BigInteger> powers) {
    if (to - from <= 16) {
      BigInteger v = BigInteger.ZERO;
      for (int i = to - 1; i >= from; i--) {
        v = v.multiply(BigInteger.valueOf(Ntt.E18)).add(BigInteger.valueOf(limbs[i]));
      }
      return v;
    }
    int half = Integer.highestOneBit(to - from - 1); // powers of two of limbs: few distinct powers to cache
    BigInteger lo = fromDecimal(limbs, from, from + half, powers);
    BigInteger hi = fromDecimal(limbs, from + half, to, powers);
    return hi.multiply(powers.computeIfAbsent(half, h -> BigInteger.valueOf(Ntt.E18).pow(h))).add(lo);
  }

  @Test
  void primesHaveTheRootsAndBoundsTheTransformsNeed() {
    BigInteger modulus = BigInteger.ONE;
    for (long p : Ntt.primes()) {
      BigInteger bp = BigInteger.valueOf(p);
      assertTrue(bp.isProbablePrime(100), p + " is prime");
      assertEquals(0, Math.floorMod(p - 1, 3L << 32), p + ": 3 * 2^32 divides p - 1");
      // lazy values in [0, 4p) stay positive longs; the binary load's cheap reduction needs 2^61 - p < 2^61 / 9
      assertTrue(p < 1L << 61 && (1L << 61) - p < (1L << 61) / 9, p + " is just below 2^61");
      modulus = modulus.multiply(bp);
    }
    long[] q = Ntt.primes();
    assertTrue(q[0] < 2 * q[1] && q[1] < 2 * q[2], "Garner's mixed-radix digits stay positive");
    // Every exact column is below the product of the primes: at most m terms, m <= the longest transform.
    BigInteger m = BigInteger.valueOf(Ntt.MAX_LENGTH);
    BigInteger binary = m.multiply(BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE).pow(2));
    BigInteger decimal = m.multiply(BigInteger.valueOf(Ntt.E18 - 1).pow(2));
    assertTrue(binary.compareTo(modulus) < 0, "binary columns fit the CRT range");
    assertTrue(decimal.compareTo(modulus) < 0, "decimal columns fit the CRT range");
    assertTrue(decimal.bitLength() <= 150, "decimal columns fit the 150 bits the carry pass splits");
    assertThrows(IllegalArgumentException.class, () -> Ntt.length(Ntt.MAX_LENGTH + 1));
  }

  @Test
  void zeroOperandsGiveZero() {
    assertEquals(0, Ntt.multiply(new long[0], new long[] {5}, false, NEVER).length);
    assertEquals(0, Radix.schoolbook(new long[] {5}, new long[0]).length);
  }
}
