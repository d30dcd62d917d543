package dev.fibservice.math;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Timeout;

import java.math.BigInteger;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * Differential fuzzing of the binary-to-decimal conversion (what the service prints) against
 * {@link BigInteger#toString}: sizes log-uniform or within 3 words of a threshold (one word, where BigInteger's own
 * toString stops; every leaf and power boundary 28 * 2^j; the parallel split at 1024 words; the two-thread formatting
 * past 4096 limbs), values random, all ones, sparse, single bits, or next to a power of ten (all nines, a one and
 * zeros); and the Moller-Granlund division by 10^18 under it against BigInteger's.
 */
class RadixFuzzTest {

  private static final int MAX_WORDS = 1 << 15;
  private static final int[] THRESHOLDS = IntStream.concat(
      IntStream.iterate(Radix.LEAF_WORDS, w -> w <= MAX_WORDS, w -> 2 * w).flatMap(w -> IntStream.of(w, 2 * w + 1)),
      IntStream.of(1, 2, 1024, 3827)).toArray();
  private static final BigInteger E18_NORM = new BigInteger(Long.toUnsignedString(Nat.E18_NORM));
  private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

  @FuzzTest
  @Timeout(value = 10, unit = TimeUnit.MINUTES) // a large input on a loaded machine (EngineInputs)
  void decimalMatchesToString(FuzzedDataProvider data) {
    checkDivision(data.consumeLong(), data.consumeLong());
    int words = EngineInputs.size(data, MAX_WORDS, THRESHOLDS);
    BigInteger x;
    if (data.consumeBoolean()) {
      // 10^k + d, k digits about the size of `words`: every decimal limb 0 or all nines, carries across all of them
      int k = (int) (words * 64 * Math.log10(2));
      x = BigInteger.TEN.pow(k).add(BigInteger.valueOf(data.consumeInt(-3, 3))).max(BigInteger.ZERO);
    } else {
      x = Nat.toBigInteger(EngineInputs.operand(data, words, 0));
    }
    assertEquals(x.toString(), BigFibonacci.decimal(x, new Cancellation()), () -> "decimal of a " + x.bitLength()
        + "-bit value");
  }

  /** floor((u1 * 2^64 + u0) / E18_NORM) as the engine computes it, for u1 < E18_NORM (unsigned). */
  private static void checkDivision(long high, long u0) {
    long u1 = Long.remainderUnsigned(high, Nat.E18_NORM);
    BigInteger u = new BigInteger(Long.toUnsignedString(u1)).multiply(TWO_64)
        .add(new BigInteger(Long.toUnsignedString(u0)));
    assertEquals(u.divide(E18_NORM), new BigInteger(Long.toUnsignedString(Nat.divE18Norm(u1, u0))),
        () -> "divE18Norm(" + Long.toUnsignedString(u1) + ", " + Long.toUnsignedString(u0) + ")");
  }
}
