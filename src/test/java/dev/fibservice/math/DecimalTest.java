package dev.fibservice.math;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

class DecimalTest {
  private static final BooleanSupplier NEVER = () -> false;

  private static void check(BigInteger x) {
    assertEquals(x.toString(), BigFibonacci.decimal(x, NEVER), () -> "bits=" + x.bitLength());
  }

  @Test
  void smallAndEdgeValues() {
    check(BigInteger.ZERO);
    check(BigInteger.ONE);
    check(BigInteger.valueOf(Long.MAX_VALUE));
    check(BigInteger.ONE.shiftLeft(64));
    for (int bits = 1; bits <= Radix.TO_STRING_BITS + 2000; bits++) {
      check(BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE));
      check(BigInteger.ONE.shiftLeft(bits));
    }
  }

  @Test
  void sizesAroundLeafAndTreeBoundaries() {
    Random r = new Random(3);
    List<Integer> words = new ArrayList<>();
    // Tree splits happen at LEAF_WORDS * 2^j words; schoolbook/NTT switches once the power has > SCHOOL_LIMBS limbs.
    for (int j = 0; j <= 9; j++) {
      int m = Radix.LEAF_WORDS << j;
      for (int d = -2; d <= 2; d++) {
        words.add(m + d);
      }
    }
    for (int w : words) {
      check(new BigInteger(64 * w, r).setBit(64 * w - 1));
      check(BigInteger.ONE.shiftLeft(64 * w).subtract(BigInteger.ONE));
      check(BigInteger.ONE.shiftLeft(64 * w - 1));
    }
  }

  @Test
  void powersOfTenAndNinesAndZeroLimbs() {
    for (int k : new int[] {1300, 1301, 2000, 4499, 4500, 4501, 9000, 18_000, 36_000, 36_001, 100_000}) {
      BigInteger p = BigInteger.TEN.pow(k);
      check(p);
      check(p.subtract(BigInteger.ONE));
      check(p.add(BigInteger.ONE));
      // Decimal limbs of zeros in the middle and a binary number with long runs of zero words.
      check(p.multiply(p).add(BigInteger.valueOf(7)));
      check(BigInteger.ONE.shiftLeft(4 * k).add(BigInteger.ONE.shiftLeft(k)).add(BigInteger.ONE));
    }
  }

  @Test
  void randomSizesUpToHalfAMillionBits() {
    Random r = new Random(4);
    for (int i = 0; i < 40; i++) {
      int bits = Radix.TO_STRING_BITS + r.nextInt(i < 30 ? 100_000 : 500_000);
      check(new BigInteger(bits, r));
    }
  }

  @Test
  void fibonacciValuesNearThresholds() {
    for (int n : new int[] {6_000, 6_001, 50_000, 123_457, 300_000}) {
      check(BigFibonacci.fib(n, NEVER));
    }
  }

  @Test
  void concurrentCallsShareCachesSafely() throws Exception {
    Radix.clearCaches();
    int[] ns = {150_000, 310_000, 220_000, 400_000};
    String[] expected = new String[ns.length];
    BigInteger[] values = new BigInteger[ns.length];
    for (int i = 0; i < ns.length; i++) {
      values[i] = BigFibonacciTest.reference(ns[i]);
      expected[i] = values[i].toString();
    }
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(ns.length);
    try {
      List<java.util.concurrent.Future<String>> results = new ArrayList<>();
      for (int i = 0; i < ns.length; i++) {
        int n = ns[i];
        results.add(pool.submit(() -> BigFibonacci.decimal(BigFibonacci.fib(n, NEVER), NEVER)));
      }
      for (int i = 0; i < ns.length; i++) {
        assertEquals(expected[i], results.get(i).get(), "n=" + ns[i]);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
