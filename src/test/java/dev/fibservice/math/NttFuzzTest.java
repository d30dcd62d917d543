package dev.fibservice.math;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Timeout;

import java.math.BigInteger;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Differential fuzzing of the NTT product against {@link BigInteger#multiply}: operands of log-uniform sizes, or whose
 * column count is within 3 of a transform length (where the length switches between 2^k and 3 * 2^k, and where the
 * passes turn from depth-first blocks to breadth-first, from 4096 on, and products run in parallel), in radix 2^64 and
 * 10^18, squares, products with a cached transform (used twice, so it must not be altered), on the caller's thread or
 * in the engine's pool (where primes, blocks and the Garner halves run concurrently).
 */
class NttFuzzTest {

  /** Columns up to 2^16: transforms of up to 3 * 2^15 and 2^16 points, breadth-first passes included. */
  private static final int MAX_COLUMNS = 1 << 16;
  private static final int[] SWITCHES = EngineInputs.transformLengths(2, MAX_COLUMNS);

  @FuzzTest
  @Timeout(value = 10, unit = TimeUnit.MINUTES) // a large input on a loaded machine (EngineInputs)
  void productsMatchBigInteger(FuzzedDataProvider data) {
    boolean decimal = data.consumeBoolean();
    boolean inPool = data.consumeBoolean();
    int mode = data.consumeInt(0, 2); // 0 a product, 1 a square, 2 with b's transform cached
    int columns = EngineInputs.size(data, MAX_COLUMNS, SWITCHES);
    int aLimbs = mode == 1 ? (columns + 1) / 2 : data.consumeInt(1, columns);
    int bLimbs = columns + 1 - aLimbs;
    long radix = decimal ? Ntt.E18 : 0;
    long[] a = EngineInputs.operand(data, aLimbs, radix);
    long[] b = mode == 1 ? a : EngineInputs.operand(data, bLimbs, radix);
    int length = Ntt.length(columns + (mode == 2 ? data.consumeInt(0, columns) : 0));
    long[] aCopy = a.clone();
    long[] bCopy = b.clone();
    Cancellation never = new Cancellation();

    String what = (decimal ? "decimal " : "binary ") + aLimbs + " x " + bLimbs + " limbs"
        + (mode == 1 ? " (square)" : mode == 2 ? " (cached transform of length " + length + ")" : "")
        + (inPool ? " in the pool" : "");
    BigInteger x = value(a, decimal);
    BigInteger expected = x.multiply(mode == 1 ? x : value(b, decimal));
    if (mode == 2) {
      Supplier<long[][]> twice = () -> {
        Ntt.Transformed t = Ntt.transform(b, length, decimal, never);
        return new long[][] {Ntt.multiply(a, t, decimal, never), Ntt.multiply(a, t, decimal, never)};
      };
      long[][] products = inPool ? Parallel.invoke(twice) : twice.get();
      assertEquals(expected, value(products[0], decimal), what);
      assertEquals(expected, value(products[1], decimal), what + ", used a second time");
    } else {
      long[] product = inPool ? Parallel.invoke(() -> Ntt.multiply(a, b, decimal, never))
          : Ntt.multiply(a, b, decimal, never);
      assertEquals(expected, value(product, decimal), what);
    }
    assertArrayEquals(aCopy, a, what + ": operand a altered");
    assertArrayEquals(bCopy, b, what + ": operand b altered");
  }

  /** The value of trimmed limbs in either radix (checks that they are trimmed, and below 10^18 in decimal). */
  static BigInteger value(long[] limbs, boolean decimal) {
    if (limbs.length > 0) {
      assertNotEquals(0, limbs[limbs.length - 1], "a leading zero limb");
    }
    return decimal ? NttTest.fromDecimal(limbs) : Nat.toBigInteger(limbs);
  }
}
