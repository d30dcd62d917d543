package dev.fibservice.compute;

import java.math.BigInteger;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;

/** Exact F(n) by fast doubling on BigInteger, and its decimal digits. */
public final class BigFibonacci {

  private BigFibonacci() {
  }

  public static BigInteger fib(int n, BooleanSupplier cancelled) {
    if (n < 0) {
      throw new IllegalArgumentException("n must be >= 0, got " + n);
    }
    BigInteger a = BigInteger.ZERO; // F(k)
    BigInteger b = BigInteger.ONE;  // F(k+1)
    for (int bit = 31 - Integer.numberOfLeadingZeros(n); bit >= 0; bit--) {
      if (cancelled.getAsBoolean()) {
        throw new CancellationException("cancelled");
      }
      BigInteger c = a.multiply(b.shiftLeft(1).subtract(a)); // F(2k)
      BigInteger d = a.multiply(a).add(b.multiply(b));       // F(2k+1)
      if (((n >>> bit) & 1) == 0) {
        a = c;
        b = d;
      } else {
        a = d;
        b = c.add(d);
      }
    }
    return a;
  }

  public static String decimal(BigInteger x, BooleanSupplier cancelled) {
    if (cancelled.getAsBoolean()) {
      throw new CancellationException("cancelled");
    }
    return x.toString();
  }
}
