package dev.fibservice.math;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

class BigFibonacciTest {
  private static final BooleanSupplier NEVER = () -> false;

  private static final String F1000 = "434665576869374564356885276750406258025646605173717804024817290895365554179490"
      + "518904038798400792551692959225930803226347752096896232398733224711616429964409065331879382989696499285160037"
      + "04476137795166849228875";

  /** Plain BigInteger fast doubling on (F(k), F(k+1)), independent of the engine's formulas. */
  static BigInteger reference(int n) {
    BigInteger a = BigInteger.ZERO;
    BigInteger b = BigInteger.ONE;
    for (int i = 31 - Integer.numberOfLeadingZeros(Math.max(n, 1)); i >= 0; i--) {
      BigInteger d = a.multiply(b.shiftLeft(1).subtract(a));
      BigInteger e = a.multiply(a).add(b.multiply(b));
      a = d;
      b = e;
      if (((n >>> i) & 1) != 0) {
        BigInteger t = a.add(b);
        a = b;
        b = t;
      }
    }
    return n == 0 ? BigInteger.ZERO : a;
  }

  @Test
  void smallValuesMatchIteration() {
    BigInteger a = BigInteger.ZERO;
    BigInteger b = BigInteger.ONE;
    for (int n = 0; n <= 3000; n++) {
      assertEquals(a, BigFibonacci.fib(n, NEVER), "F(" + n + ")");
      BigInteger t = a.add(b);
      a = b;
      b = t;
    }
  }

  @Test
  void f1000IsKnown() {
    assertEquals(F1000, BigFibonacci.fib(1000, NEVER).toString());
    assertEquals(F1000, BigFibonacci.decimal(BigFibonacci.fib(1000, NEVER), NEVER));
  }

  @Test
  void largeValuesMatchReferenceAroundThresholds() {
    TreeSet<Integer> ns = new TreeSet<>();
    // F(k) reaches NTT_BITS at k ~ NTT_BITS / log2(phi); n ~ 2k, 4k, 8k put the switch at different doubling steps.
    int k = (int) (BigFibonacci.NTT_BITS / 0.6942419);
    for (int scale : new int[] {1, 2, 3, 4, 8}) {
      for (int d = -3; d <= 3; d++) {
        ns.add(scale * k + d);
        ns.add(2 * scale * k + d);
      }
    }
    // Transform lengths switch where products cross powers of two of 64-bit limbs.
    for (int words = 1 << 10; words <= 1 << 14; words <<= 1) {
      int n = (int) (words * 64 / 0.6942419);
      ns.add(n - 1);
      ns.add(n);
      ns.add(n + 1);
    }
    Random random = new Random(7);
    for (int i = 0; i < 12; i++) {
      ns.add(random.nextInt(500_000));
    }
    ns.add(500_000);
    ns.add(524_287);
    ns.add(524_288);
    for (int n : ns) {
      assertEquals(reference(n), BigFibonacci.fib(n, NEVER), "F(" + n + ")");
    }
  }

  @Test
  void digitsMatchAroundThresholds() {
    TreeSet<Integer> ns = new TreeSet<>();
    for (int n = 0; n <= 300; n++) {
      ns.add(n);
    }
    int k = (int) (BigFibonacci.NTT_BITS / 0.6942419);
    for (int scale : new int[] {1, 2, 3, 4, 8}) {
      for (int d = -3; d <= 3; d++) {
        ns.add(scale * k + d);
        ns.add(2 * scale * k + d);
      }
    }
    // The last product's columns (twice the limbs of F(n/2)) cross every transform length class 2^j and 3 * 2^j:
    // F(n) has about n * log10(phi) / 18 decimal limbs, one more every 86 steps of n.
    for (int len = 1 << 9; len <= 1 << 14; len *= 2) {
      for (int columns : new int[] {len, len / 2 * 3}) {
        int n = (int) (columns * 18 / 0.20898764);
        for (int d = -150; d <= 150; d += 100) {
          ns.add(n + d);
        }
      }
    }
    ns.add(50_000);
    ns.add(49_999);
    for (int n : ns) {
      String expected = n < 20_000 ? reference(n).toString() : BigFibonacci.decimal(BigFibonacci.fib(n, NEVER), NEVER);
      assertEquals(expected, BigFibonacci.digits(n, NEVER), "F(" + n + ")");
    }
    assertEquals(F1000, BigFibonacci.digits(1000, NEVER));
    // independent of the engine: JDK's BigInteger.toString of the plain doubling
    for (int n : new int[] {99_999, 262_144, 300_001}) {
      assertEquals(reference(n).toString(), BigFibonacci.digits(n, NEVER), "F(" + n + ")");
    }
  }

  @Test
  void identitiesHoldAtOneMillion() {
    int k = 500_000;
    BigInteger fk = BigFibonacci.fib(k, NEVER);
    BigInteger fk1 = BigFibonacci.fib(k + 1, NEVER);
    assertEquals(fk.multiply(fk1.shiftLeft(1).subtract(fk)), BigFibonacci.fib(2 * k, NEVER), "F(2k)");
    assertEquals(fk.multiply(fk).add(fk1.multiply(fk1)), BigFibonacci.fib(2 * k + 1, NEVER), "F(2k+1)");

    int n = 1_000_000;
    BigInteger prev = BigFibonacci.fib(n - 1, NEVER);
    BigInteger cur = BigFibonacci.fib(n, NEVER);
    BigInteger next = BigFibonacci.fib(n + 1, NEVER);
    assertEquals(cur, next.subtract(prev), "F(n) = F(n+1) - F(n-1)");
    assertEquals(BigInteger.ONE, prev.multiply(next).subtract(cur.multiply(cur)), "Cassini, n even");
    BigInteger next2 = cur.add(next);
    assertEquals(BigInteger.ONE.negate(), cur.multiply(next2).subtract(next.multiply(next)), "Cassini, n odd");
  }

  @Test
  void digitCountsOfOneMillionAndTenMillion() {
    BigInteger f6 = BigFibonacci.fib(1_000_000, NEVER);
    String s6 = BigFibonacci.decimal(f6, NEVER);
    assertEquals(208_988, s6.length());
    assertEquals(f6.toString(), s6);
    assertEquals(s6, BigFibonacci.digits(1_000_000, NEVER));

    BigInteger f7 = BigFibonacci.fib(10_000_000, NEVER);
    String s7 = BigFibonacci.decimal(f7, NEVER);
    assertEquals(2_089_877, s7.length());
    // Leading digits as printed by GMP (gmpy2.fib(10**7).digits()); trailing digits by an independent modular loop.
    assertTrue(s7.startsWith("1129834378225399760"), s7.substring(0, 20));
    BigInteger mod = BigInteger.TEN.pow(9);
    assertEquals(f7.mod(mod), new BigInteger(s7.substring(s7.length() - 9)));
    assertEquals(fibMod(10_000_000, 1_000_000_000L), f7.mod(mod).longValueExact());
    assertEquals(s7, BigFibonacci.digits(10_000_000, NEVER));
    String s7odd = BigFibonacci.digits(10_000_001, NEVER);
    assertEquals(BigFibonacci.decimal(BigFibonacci.fib(10_000_001, NEVER), NEVER), s7odd);
  }

  private static long fibMod(int n, long m) {
    long a = 0;
    long b = 1;
    for (int i = 0; i < n; i++) {
      long t = (a + b) % m;
      a = b;
      b = t;
    }
    return a;
  }

  @Test
  void rejectsBadArguments() {
    assertThrows(IllegalArgumentException.class, () -> BigFibonacci.fib(-1, NEVER));
    assertThrows(IllegalArgumentException.class, () -> BigFibonacci.digits(-1, NEVER));
    assertThrows(IllegalArgumentException.class, () -> BigFibonacci.decimal(BigInteger.valueOf(-5), NEVER));
    assertThrows(NullPointerException.class, () -> BigFibonacci.fib(10, null));
  }

  @Test
  void alreadyCancelledThrowsImmediately() {
    assertThrows(CancellationException.class, () -> BigFibonacci.fib(10_000_000, () -> true));
    assertThrows(CancellationException.class, () -> BigFibonacci.digits(10_000_000, () -> true));
    BigInteger big = BigInteger.ONE.shiftLeft(1 << 20);
    assertThrows(CancellationException.class, () -> BigFibonacci.decimal(big, () -> true));
  }

  @Test
  void cancellationStopsFibAndDecimal() throws Exception {
    for (long delayMs : new long[] {5, 60, 250}) {
      AtomicBoolean flag = new AtomicBoolean();
      AtomicReference<Throwable> outcome = new AtomicReference<>();
      Thread worker = new Thread(() -> {
        try {
          BigFibonacci.decimal(BigFibonacci.fib(10_000_000, flag::get), flag::get);
        } catch (Throwable t) {
          outcome.set(t);
        }
      });
      worker.start();
      TimeUnit.MILLISECONDS.sleep(delayMs);
      flag.set(true);
      worker.join(5_000); // hang guard only
      assertFalse(worker.isAlive(), "worker still running " + delayMs + " ms after start");
      if (outcome.get() != null || delayMs < 200) {
        assertInstanceOf(CancellationException.class, outcome.get(), "delay " + delayMs + " ms");
      }
    }
  }

  @Test
  void cancellationStopsDigitsAtAnyPoint() {
    java.util.concurrent.atomic.AtomicInteger polls = new java.util.concurrent.atomic.AtomicInteger();
    BigFibonacci.digits(3_000_000, () -> polls.incrementAndGet() < 0);
    int total = polls.get();
    assertTrue(total > 500, "polls " + total);
    // the flag turns true at the k-th poll, early, midway and late in the computation (no timing involved)
    for (int k : new int[] {1, 5, total / 3, total / 2, total - 10}) {
      java.util.concurrent.atomic.AtomicInteger seen = new java.util.concurrent.atomic.AtomicInteger();
      assertThrows(CancellationException.class, () -> BigFibonacci.digits(3_000_000, () -> seen.incrementAndGet() >= k),
          "cancelled at poll " + k + " of " + total);
    }
  }

  @Test
  void cancellationStopsConversionOfTenMillion() throws Exception {
    BigInteger f7 = BigFibonacci.fib(10_000_000, NEVER);
    AtomicBoolean flag = new AtomicBoolean();
    AtomicReference<Throwable> outcome = new AtomicReference<>();
    Thread worker = new Thread(() -> {
      try {
        BigFibonacci.decimal(f7, flag::get);
      } catch (Throwable t) {
        outcome.set(t);
      }
    });
    worker.start();
    TimeUnit.MILLISECONDS.sleep(20);
    flag.set(true);
    worker.join(5_000);
    assertFalse(worker.isAlive());
    assertInstanceOf(CancellationException.class, outcome.get());
  }
}
