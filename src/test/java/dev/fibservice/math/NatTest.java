package dev.fibservice.math;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import java.util.Random;
import org.junit.jupiter.api.Test;

class NatTest {
  private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

  private static BigInteger unsigned(long x) {
    return BigInteger.valueOf(x).and(TWO_64.subtract(BigInteger.ONE));
  }

  @Test
  void divisionByNormalizedTenToTheEighteenMatchesBigInteger() {
    BigInteger d = unsigned(Nat.E18_NORM);
    Random r = new Random(5);
    long[] specialLow = {0, 1, -1, Long.MIN_VALUE, Long.MAX_VALUE, Nat.E18_NORM, Nat.E18_NORM - 1};
    for (int i = 0; i < 200_000; i++) {
      BigInteger u1 = switch (i % 4) {
        case 0 -> d.subtract(BigInteger.ONE);
        case 1 -> BigInteger.valueOf(r.nextInt(1000));
        default -> new BigInteger(64, r).mod(d);
      };
      long u0 = i % 3 == 0 ? specialLow[r.nextInt(specialLow.length)] : r.nextLong();
      BigInteger[] qr = u1.shiftLeft(64).add(unsigned(u0)).divideAndRemainder(d);
      long q = Nat.divE18Norm(u1.longValue(), u0);
      assertEquals(qr[0].longValue(), q, () -> "u1=" + u1 + " u0=" + Long.toUnsignedString(u0));
      assertEquals(qr[1].longValue(), u0 - q * Nat.E18_NORM);
    }
  }

  @Test
  void arithmeticMatchesBigInteger() {
    Random r = new Random(6);
    for (int i = 0; i < 2000; i++) {
      BigInteger a = new BigInteger(1 + r.nextInt(2000), r);
      BigInteger b = new BigInteger(1 + r.nextInt(2000), r);
      if (i % 10 == 0) {
        a = BigInteger.ONE.shiftLeft(64 * (1 + r.nextInt(20))).subtract(BigInteger.ONE); // carries ripple through
      }
      long[] x = Nat.of(a);
      long[] y = Nat.of(b);
      assertEquals(a, Nat.toBigInteger(x));
      assertEquals(a.add(b), Nat.toBigInteger(Nat.add(x, y)));
      BigInteger big = a.max(b);
      BigInteger small = a.min(b);
      assertEquals(big.subtract(small), Nat.toBigInteger(Nat.subtract(Nat.of(big), Nat.of(small))));
      assertEquals(a.shiftLeft(2), Nat.toBigInteger(Nat.shiftLeft(x, 2)));
      assertEquals(a.add(BigInteger.TWO), Nat.toBigInteger(Nat.addSmall(x, 2)));
      if (a.compareTo(BigInteger.TWO) >= 0) {
        assertEquals(a.subtract(BigInteger.TWO), Nat.toBigInteger(Nat.subtractSmall(x, 2)));
      }
    }
    assertEquals(0, Nat.of(BigInteger.ZERO).length);
    assertThrows(ArithmeticException.class, () -> Nat.subtract(new long[] {1}, new long[] {2}));
    assertThrows(IllegalArgumentException.class, () -> Nat.of(BigInteger.ONE.negate()));
  }

  @Test
  void decimalArithmeticMatchesBigInteger() {
    Random r = new Random(9);
    BigInteger e18 = BigInteger.valueOf(Ntt.E18);
    for (int i = 0; i < 2000; i++) {
      BigInteger a = new BigInteger(1 + r.nextInt(3000), r);
      BigInteger b = new BigInteger(1 + r.nextInt(3000), r);
      if (i % 10 == 0) {
        a = e18.pow(1 + r.nextInt(20)).subtract(BigInteger.ONE); // all nines: carries ripple through
      }
      if (i % 10 == 1) {
        b = e18.pow(1 + r.nextInt(20)); // zero limbs: borrows ripple through
      }
      long[] x = NttTest.decimalLimbs(a);
      long[] y = NttTest.decimalLimbs(b);
      for (int m : new int[] {1, 2, 4}) {
        BigInteger ma = a.multiply(BigInteger.valueOf(m));
        assertEquals(ma.add(b), NttTest.fromDecimal(Nat.combineDecimal(x, m, y, 1)), "m=" + m);
        if (ma.compareTo(b) >= 0) {
          assertEquals(ma.subtract(b), NttTest.fromDecimal(Nat.combineDecimal(x, m, y, -1)), "m=" + m);
        } else {
          assertThrows(ArithmeticException.class, () -> Nat.combineDecimal(x, m, y, -1));
        }
      }
      assertEquals(a.add(BigInteger.TWO), NttTest.fromDecimal(Nat.addSmallDecimal(x, 2)));
      if (a.compareTo(BigInteger.TWO) >= 0) {
        assertEquals(a.subtract(BigInteger.TWO), NttTest.fromDecimal(Nat.subtractSmallDecimal(x, 2)));
      }
    }
  }
}
