package dev.fibservice.api;

import dev.fibservice.client.FibClient;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cancel id is a capability: 128 bits from a SecureRandom, every one of them random. Both makers are checked, the
 * fronts' ({@link CancelIds}) and the client library's ({@link FibClient#newId()}), which ships alone.
 */
class CancelIdsTest {

  private static final int IDS = 20_000;

  @Test
  void theFrontsIdsAre128RandomBitsFromASecureRandom() {
    assertInstanceOf(SecureRandom.class, CancelIds.generator());
    assertEquals("DRBG", CancelIds.generator().getAlgorithm());
    assertEveryBitRandom(CancelIds::next);
  }

  @Test
  void theClientLibrarysIdsAre128RandomBitsToo() {
    assertEveryBitRandom(FibClient::newId);
  }

  @Test
  void requestIdsAreAnotherThing() {
    // 64 bits, cheap: a request id names a request in the logs and must never be mistaken for a cancel id
    assertEquals(16, RequestIds.next().length());
  }

  /**
   * 32 lowercase hex digits; no repeats; each of the 128 bit positions is 1 in about half of the ids (a 64-bit id
   * padded to 32 digits, or a bit fixed to keep the length, would fail here).
   */
  private static void assertEveryBitRandom(Supplier<String> ids) {
    Set<String> seen = new HashSet<>();
    int[] ones = new int[128];
    for (int i = 0; i < IDS; i++) {
      String id = ids.get();
      assertTrue(id.matches("[0-9a-f]{32}"), id);
      assertTrue(seen.add(id), "repeated: " + id);
      BigInteger bits = new BigInteger(id, 16);
      for (int b = 0; b < 128; b++) {
        ones[b] += bits.testBit(b) ? 1 : 0;
      }
    }
    for (int b = 0; b < 128; b++) {
      // a fair bit: 10,000 +- 141 (one standard deviation); 10 of them is a bound no fair bit reaches in practice
      assertTrue(Math.abs(ones[b] - IDS / 2) < 1_500, "bit " + b + " was 1 in " + ones[b] + " of " + IDS + " ids");
    }
  }
}
