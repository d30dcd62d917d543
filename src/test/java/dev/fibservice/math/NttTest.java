package dev.fibservice.math;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigInteger;
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
    for (int words : new int[] {1, 5, 1000, 70_000}) {
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
      Ntt.Transformed t = Ntt.transform(yd, Ntt.logLength(xd.length, yd.length), true, NEVER);
      assertArrayEquals(expected, Ntt.multiply(xd, t, true, NEVER), "cached transform limbs=" + limbs);
    }
  }

  @Test
  void zeroOperandsGiveZero() {
    assertEquals(0, Ntt.multiply(new long[0], new long[] {5}, false, NEVER).length);
    assertEquals(0, Radix.schoolbook(new long[] {5}, new long[0]).length);
  }
}
