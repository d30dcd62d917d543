package dev.fibservice.compute;

import dev.fibservice.api.ServiceError;
import dev.fibservice.math.Algorithm;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FibRequestTest {

  private static final FibRequest.Limits LIMITS = new FibRequest.Limits(45, 200_000, 10_000_000);

  @Test
  void parsesTextWithDefaultAlgorithm() {
    assertEquals(new FibRequest(30, Algorithm.DOUBLING), FibRequest.parse("30", null, LIMITS));
    assertEquals(new FibRequest(30, Algorithm.RECURSIVE), FibRequest.parse("30", "recursive", LIMITS));
    assertEquals(new FibRequest(7, Algorithm.DOUBLING), FibRequest.parse("007", null, LIMITS));
    assertEquals(new FibRequest(0, Algorithm.DOUBLING), FibRequest.parse("-0", null, LIMITS));
    assertEquals(new FibRequest(10_000_000, Algorithm.DOUBLING), FibRequest.parse("10000000", null, LIMITS));
  }

  @Test
  void namesEachTextProblem() {
    assertBad("n must be a whole number, got 'abc'", () -> FibRequest.parse("abc", null, LIMITS));
    assertBad("n must be a whole number, got '1.5'", () -> FibRequest.parse("1.5", null, LIMITS));
    assertBad("n must not be negative, got -3", () -> FibRequest.parse("-3", null, LIMITS));
    assertBad("n = 46 is above the limit of algorithm recursive (n <= 45, fib.maxN.recursive)", () -> FibRequest.parse("46", "recursive", LIMITS));
    assertBad("n = 99999999999999999999999 is above the limit of algorithm doubling (n <= 10000000, fib.maxN.doubling)",
      () -> FibRequest.parse("99999999999999999999999", null, LIMITS));
    assertBad("unknown algorithm 'fast'; expected one of doubling, iterative, recursive",
      () -> FibRequest.parse("3", "fast", LIMITS));
    assertBad("n is missing; expected a whole number from 0 to 10000000", () -> FibRequest.parse("", null, LIMITS));
  }

  @Test
  void parsesJson() {
    assertEquals(new FibRequest(50, Algorithm.DOUBLING), FibRequest.fromJson(new JsonObject().put("n", 50), LIMITS));
    assertEquals(new FibRequest(50, Algorithm.ITERATIVE),
      FibRequest.fromJson(new JsonObject("{\"n\":50,\"algorithm\":\"iterative\"}"), LIMITS));
  }

  @Test
  void namesEachJsonProblem() {
    assertBad("body must be a JSON object", () -> FibRequest.fromJson("30", LIMITS));
    assertBad("body must be a JSON object", () -> FibRequest.fromJson(null, LIMITS));
    assertBad("n is missing", () -> FibRequest.fromJson(new JsonObject(), LIMITS));
    assertBad("n must be a JSON integer, got 'abc'", () -> FibRequest.fromJson(new JsonObject().put("n", "abc"), LIMITS));
    assertBad("n must be a JSON integer, got 1.0E99", () -> FibRequest.fromJson(new JsonObject("{\"n\":1e99}"), LIMITS));
    assertBad("n must not be negative, got -1", () -> FibRequest.fromJson(new JsonObject().put("n", -1), LIMITS));
    assertBad("above the limit", () -> FibRequest.fromJson(new JsonObject().put("n", Long.MAX_VALUE), LIMITS));
    assertBad("algorithm must be a string", () -> FibRequest.fromJson(new JsonObject().put("n", 1).put("algorithm", 3), LIMITS));
  }

  private static void assertBad(String expected, org.junit.jupiter.api.function.Executable call) {
    ServiceError e = assertThrows(ServiceError.class, call);
    assertEquals(400, e.status());
    assertTrue(e.getMessage().contains(expected), () -> "'" + e.getMessage() + "' should contain '" + expected + "'");
  }
}
