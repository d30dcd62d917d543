package dev.fibservice.math;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;

import java.util.SplittableRandom;

/**
 * What the engine's differential fuzz tests draw from a fuzzer's input: sizes spread log-uniformly, or within a few of
 * a threshold of the engine's code, and operands whose limbs come in the patterns carries get wrong (all maximal,
 * runs of zeros and maxima, single bits) as well as random ones.
 *
 * <p>The tests that use it allow one input 10 minutes, not the suite's 2: on a shared 2-core machine at a load of 30,
 * one of the largest products with its BigInteger oracle took 158 s (Jazzer reported a timeout); on a quiet machine the
 * same input takes seconds.
 */
final class EngineInputs {

  private EngineInputs() {
  }

  /** A size in [1, max], log-uniform; or, when {@code thresholds} is not empty, often within 3 of one of them. */
  static int size(FuzzedDataProvider data, int max, int... thresholds) {
    if (thresholds.length > 0 && data.consumeBoolean()) {
      int t = thresholds[data.consumeInt(0, thresholds.length - 1)];
      return Math.max(1, Math.min(max, t + data.consumeInt(-3, 3)));
    }
    int bits = data.consumeInt(0, 31 - Integer.numberOfLeadingZeros(max)); // 2^bits <= max
    int low = 1 << bits;
    int high = (int) Math.min(max, 2L * low - 1);
    return data.consumeInt(low, high);
  }

  /** Every 2^k and 3 * 2^k in [lo, hi]: the transform lengths, where the transform's length switches. */
  static int[] transformLengths(int lo, int hi) {
    return java.util.stream.IntStream.rangeClosed(0, 30)
        .flatMap(k -> java.util.stream.IntStream.of(1 << k, 3 << k))
        .filter(v -> v >= lo && v <= hi).sorted().distinct().toArray();
  }

  /**
   * {@code limbs} limbs below {@code radix} (0 for 2^64), the top one non-zero (trimmed), in a pattern the input
   * picks: random, all maximal, all maximal but random runs of zeros, a single set bit in the top limb, small values.
   */
  static long[] operand(FuzzedDataProvider data, int limbs, long radix) {
    int pattern = data.consumeInt(0, 4);
    SplittableRandom r = new SplittableRandom(data.consumeLong());
    long max = radix == 0 ? -1L : radix - 1;
    long[] x = new long[limbs];
    for (int i = 0; i < limbs; i++) {
      x[i] = switch (pattern) {
        case 0 -> limb(r, radix);
        case 1 -> max;
        case 2 -> r.nextInt(4) == 0 ? 0 : max;
        case 3 -> 0;
        default -> r.nextInt(3);
      };
    }
    if (pattern == 3) {
      x[limbs - 1] = radix == 0 ? 1L << r.nextInt(64) : pow10(r.nextInt(18));
    }
    if (x[limbs - 1] == 0) {
      x[limbs - 1] = 1;
    }
    return x;
  }

  private static long limb(SplittableRandom r, long radix) {
    return radix == 0 ? r.nextLong() : r.nextLong(radix);
  }

  private static long pow10(int k) {
    long v = 1;
    for (int i = 0; i < k; i++) {
      v *= 10;
    }
    return v;
  }
}
