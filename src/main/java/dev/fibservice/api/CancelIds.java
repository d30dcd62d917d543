package dev.fibservice.api;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The ids that cancel a computation ({@code x-cancel-id}, then {@code fib.cancel}): whoever knows one can stop that
 * work, so each is a capability, 128 bits from a {@link SecureRandom} (32 lowercase hex digits) that nobody can guess
 * from the ids seen before it. Request ids ({@link RequestIds}) only name requests in the logs and stay cheap.
 */
public final class CancelIds {

  /** Hex digits of an id: 128 bits. */
  public static final int LENGTH = 32;

  /**
   * One DRBG (NIST SP 800-90A, seeded from the operating system) per thread: the default NativePRNG is one
   * synchronized source for the whole JVM, and two event loops asking at once waited on each other (1.4-1.8 us per
   * id against 0.6 us here, two threads on this 2-core machine).
   */
  private static final ThreadLocal<SecureRandom> RANDOM = ThreadLocal.withInitial(CancelIds::drbg);
  private static final HexFormat HEX = HexFormat.of();

  private CancelIds() {
  }

  /** A fresh cancel id. */
  public static String next() {
    byte[] bits = new byte[LENGTH / 2];
    RANDOM.get().nextBytes(bits);
    return HEX.formatHex(bits);
  }

  /** The generator of the calling thread (for the test that checks what it is). */
  static SecureRandom generator() {
    return RANDOM.get();
  }

  private static SecureRandom drbg() {
    try {
      return SecureRandom.getInstance("DRBG");
    } catch (NoSuchAlgorithmException e) {
      // every JDK since 9 has DRBG; should a trimmed one lack it, the platform default is still a SecureRandom
      return new SecureRandom();
    }
  }
}
