package dev.fibservice.math;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Timeout;
import dev.fibservice.config.Settings;

import java.math.BigInteger;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * Differential fuzzing of F(n), by each algorithm in its range of n, against a reference that shares no code with the
 * engine: textbook fast doubling on (F(k), F(k+1)) with BigInteger. The doubling is checked both ways the service
 * runs it (radix 2^64 for {@code compute}, radix 10^18 for the digits it answers), for n log-uniform up to
 * fib.maxN.doubling's default or within 3 of where its code changes course (the table's end, the switch from
 * BigInteger to NTT squaring, the move into the engine's pool); the recursive range is tested whole.
 */
class FibonacciFuzzTest {

  private static final int MAX_DOUBLING = ((Number) Settings.FIB_MAX_DOUBLING.defaultValue()).intValue();
  private static final int MAX_ITERATIVE = ((Number) Settings.FIB_MAX_ITERATIVE.defaultValue()).intValue();
  private static final int MAX_RECURSIVE = ((Number) Settings.FIB_MAX_RECURSIVE.defaultValue()).intValue();
  /** The recursive runs in the fuzzer stay cheap (F(30) is 2.7 million calls); {@link #recursiveWholeRange} does all. */
  private static final int FUZZED_RECURSIVE = 30;

  private static final int[] DOUBLING_THRESHOLDS = doublingThresholds();

  @FuzzTest
  @Timeout(value = 10, unit = TimeUnit.MINUTES) // a large input on a loaded machine (EngineInputs)
  void fibMatchesReference(FuzzedDataProvider data) {
    Algorithm algorithm = data.pickValue(Algorithm.values());
    int n = switch (algorithm) {
      case DOUBLING -> EngineInputs.size(data, MAX_DOUBLING, DOUBLING_THRESHOLDS) - (data.consumeBoolean() ? 1 : 0);
      case ITERATIVE -> EngineInputs.size(data, MAX_ITERATIVE) - (data.consumeBoolean() ? 1 : 0);
      case RECURSIVE -> data.consumeInt(0, FUZZED_RECURSIVE);
    };
    Cancellation never = new Cancellation();
    BigInteger expected = reference(n);
    assertEquals(expected, Fibonacci.compute(algorithm, n, never), () -> "F(" + n + ") by " + algorithm.wireName());
    if (algorithm == Algorithm.DOUBLING) {
      long[] limbs = BigFibonacci.decimalLimbs(n, never);
      // at least one limb: F(0) is {0}, the one limb that is not trimmed
      assertEquals(expected, n == 0 && limbs.length == 1 && limbs[0] == 0 ? BigInteger.ZERO
          : NttTest.fromDecimal(limbs), () -> "F(" + n + ") in radix 10^18");
      if (n <= 100_000) {
        assertEquals(expected.toString(), Fibonacci.digits(algorithm, n, never), () -> "the digits of F(" + n + ")");
      }
    }
  }

  /** The recursive algorithm for every n it accepts by default (about 15 s, so only in `make fuzz`). */
  @Test
  @EnabledIfEnvironmentVariable(named = "JAZZER_FUZZ", matches = ".+")
  void recursiveWholeRange() {
    for (int n = 0; n <= MAX_RECURSIVE; n++) {
      assertEquals(reference(n), Fibonacci.compute(Algorithm.RECURSIVE, n, new Cancellation()), "F(" + n + ")");
    }
  }

  /** The reference passes its own small check: F(0..300) by additions. */
  @Test
  void referenceIsRight() {
    BigInteger a = BigInteger.ZERO;
    BigInteger b = BigInteger.ONE;
    for (int n = 0; n <= 300; n++) {
      assertEquals(a, reference(n), "F(" + n + ")");
      BigInteger next = a.add(b);
      a = b;
      b = next;
    }
  }

  /** F(n) by textbook fast doubling: F(2k) = F(k) (2 F(k+1) - F(k)), F(2k+1) = F(k)^2 + F(k+1)^2. */
  static BigInteger reference(int n) {
    BigInteger a = BigInteger.ZERO; // F(k)
    BigInteger b = BigInteger.ONE; // F(k+1)
    for (int bit = 31 - Integer.numberOfLeadingZeros(Math.max(n, 1)); bit >= 0; bit--) {
      BigInteger c = a.multiply(b.shiftLeft(1).subtract(a));
      BigInteger d = a.multiply(a).add(b.multiply(b));
      if (((n >>> bit) & 1) == 0) {
        a = c;
        b = d;
      } else {
        a = d;
        b = c.add(d);
      }
    }
    return n == 0 ? BigInteger.ZERO : a;
  }

  /**
   * Where the doubling changes course: the table of longs ends at 92; the BigInteger steps give way to NTT squarings
   * once F(c) has {@link BigFibonacci#NTT_BITS} bits, so n near 2c and 4c for the first such c take one path or the
   * other by their low bits; from 50,000 on the work moves into the engine's pool.
   */
  private static int[] doublingThresholds() {
    int c = 1;
    BigInteger a = BigInteger.ONE; // F(c)
    BigInteger b = BigInteger.ZERO; // F(c - 1)
    while (a.bitLength() < BigFibonacci.NTT_BITS) {
      BigInteger next = a.add(b);
      b = a;
      a = next;
      c++;
    }
    return new int[] {2, 92, 93, c, 2 * c, 2 * c + 2, 4 * c, 4 * c + 4, 8 * c, 50_000};
  }
}
