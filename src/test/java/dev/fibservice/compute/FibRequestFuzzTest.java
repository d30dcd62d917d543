package dev.fibservice.compute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.fibservice.api.ServiceError;
import dev.fibservice.math.Algorithm;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;

/**
 * Fuzzes {@link FibRequest#parse}, the one reading of n and algorithm that HTTP paths and queries and TCP lines share,
 * against a model of its rules: n is an optional sign and ASCII digits whose value is 0 (also written -0) up to the
 * algorithm's limit; the algorithm is absent or one of the wire names. Everything else is a 400 whose detail names the
 * parameter. The input is n's text, then optionally a newline and the algorithm's.
 */
class FibRequestFuzzTest {

  private static final FibRequest.Limits LIMITS = new FibRequest.Limits(45, 200_000, 10_000_000);

  @FuzzTest
  @DictionaryFile(resourcePath = "FibRequestFuzzTest.dict")
  void parse(byte[] input) {
    String text = new String(input, StandardCharsets.UTF_8);
    int nl = text.indexOf('\n');
    String nText = nl < 0 ? text : text.substring(0, nl);
    String algorithmText = nl < 0 ? null : text.substring(nl + 1);

    Algorithm algorithm = algorithmText == null ? Algorithm.DOUBLING : Algorithm.fromWireName(algorithmText);
    BigInteger n = nText.matches("[+-]?[0-9]+") ? new BigInteger(nText) : null;
    boolean valid = algorithm != null && n != null && n.signum() >= 0
      && n.compareTo(BigInteger.valueOf(LIMITS.maxN(algorithm))) <= 0;
    try {
      FibRequest request = FibRequest.parse(nText, algorithmText, LIMITS);
      assertTrue(valid, () -> "accepted " + request + " from '" + nText + "', '" + algorithmText + "'");
      assertEquals(new FibRequest(n.intValueExact(), algorithm), request);
    } catch (ServiceError e) {
      assertTrue(!valid, () -> "refused '" + nText + "', '" + algorithmText + "': " + e.getMessage());
      assertEquals(400, e.status());
      String param = e.detail().getString("param");
      assertEquals(algorithm == null ? "algorithm" : "n", param, e.getMessage());
    }
  }
}
