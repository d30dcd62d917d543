package dev.fibservice.math;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FibonacciTest {

  private static final BooleanSupplier NEVER = () -> false;
  private static final String F1000 = "43466557686937456435688527675040625802564660517371780402481729089536555417949051890"
    + "403879840079255169295922593080322634775209689623239873322471161642996440906533187938298969649928516003704476137"
    + "795166849228875";

  @Test
  void startsAtZeroAndOne() {
    for (Algorithm a : Algorithm.values()) {
      assertEquals(BigInteger.ZERO, Fibonacci.compute(a, 0, NEVER), a.wireName());
      assertEquals(BigInteger.ONE, Fibonacci.compute(a, 1, NEVER), a.wireName());
      assertEquals(BigInteger.ONE, Fibonacci.compute(a, 2, NEVER), a.wireName());
      assertEquals(BigInteger.valueOf(832040), Fibonacci.compute(a, 30, NEVER), a.wireName());
    }
  }

  @Test
  void algorithmsAgreeUpTo2000() {
    BigInteger a = BigInteger.ZERO;
    BigInteger b = BigInteger.ONE;
    for (int n = 0; n <= 2000; n++) {
      assertEquals(a, Fibonacci.compute(Algorithm.DOUBLING, n, NEVER), "doubling n=" + n);
      assertEquals(a, Fibonacci.compute(Algorithm.ITERATIVE, n, NEVER), "iterative n=" + n);
      if (n <= 25) {
        assertEquals(a, Fibonacci.compute(Algorithm.RECURSIVE, n, NEVER), "recursive n=" + n);
      }
      BigInteger next = a.add(b);
      a = b;
      b = next;
    }
  }

  @Test
  void knownValues() {
    assertEquals(new BigInteger("12200160415121876738"), Fibonacci.compute(Algorithm.DOUBLING, 93, NEVER));
    assertEquals(new BigInteger("12200160415121876738"), Fibonacci.compute(Algorithm.ITERATIVE, 93, NEVER));
    assertEquals(F1000, Fibonacci.decimal(Fibonacci.compute(Algorithm.DOUBLING, 1000, NEVER), NEVER));
    assertEquals(F1000, Fibonacci.digits(Algorithm.DOUBLING, 1000, NEVER));
    assertEquals(F1000, Fibonacci.digits(Algorithm.ITERATIVE, 1000, NEVER));
    assertEquals("1134903170", Fibonacci.digits(Algorithm.RECURSIVE, 45, NEVER));
    assertEquals(209, F1000.length());
    assertEquals(F1000, Fibonacci.decimal(Fibonacci.compute(Algorithm.ITERATIVE, 1000, NEVER), NEVER));
  }

  @Test
  void doublingIdentityForLargeN() {
    for (int k : new int[] {50_000, 123_457, 300_000}) {
      BigInteger fk = Fibonacci.compute(Algorithm.DOUBLING, k, NEVER);
      BigInteger fk1 = Fibonacci.compute(Algorithm.DOUBLING, k + 1, NEVER);
      BigInteger f2k = Fibonacci.compute(Algorithm.DOUBLING, 2 * k, NEVER);
      assertEquals(f2k, fk.multiply(fk1.shiftLeft(1).subtract(fk)), "F(2k) identity at k=" + k);
    }
  }

  @Test
  void iterativeMatchesDoublingForLargeN() {
    assertEquals(Fibonacci.compute(Algorithm.DOUBLING, 20_000, NEVER), Fibonacci.compute(Algorithm.ITERATIVE, 20_000, NEVER));
  }

  @Test
  void negativeAndTooLargeForRecursionAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> Fibonacci.compute(Algorithm.DOUBLING, -1, NEVER));
    assertThrows(IllegalArgumentException.class, () -> Fibonacci.compute(Algorithm.RECURSIVE, 93, NEVER));
  }

  @Test
  void everyAlgorithmStopsWhenCancelled() throws Exception {
    // sizes that would run for minutes or longer if the flag were ignored
    assertStops(Algorithm.RECURSIVE, 80);
    assertStops(Algorithm.ITERATIVE, 50_000_000);
    assertStops(Algorithm.DOUBLING, 1_000_000_000);
  }

  private static void assertStops(Algorithm algorithm, int n) throws Exception {
    AtomicBoolean cancelled = new AtomicBoolean();
    CompletableFuture<BigInteger> run = CompletableFuture.supplyAsync(() -> Fibonacci.compute(algorithm, n, cancelled::get));
    Thread.sleep(100);
    cancelled.set(true);
    ExecutionException e = assertThrows(ExecutionException.class, () -> run.get(60, TimeUnit.SECONDS), algorithm.wireName());
    assertInstanceOf(CancellationException.class, e.getCause(), algorithm.wireName());
  }

  @Test
  void lightCostClassFollowsTheAlgorithm() {
    assertEquals(true, Fibonacci.isLight(Algorithm.RECURSIVE, 10));
    assertEquals(false, Fibonacci.isLight(Algorithm.RECURSIVE, 40));
    assertEquals(true, Fibonacci.isLight(Algorithm.DOUBLING, 1000));
    assertEquals(false, Fibonacci.isLight(Algorithm.DOUBLING, 10_000_000));
  }
}
