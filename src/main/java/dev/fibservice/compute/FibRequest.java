package dev.fibservice.compute;

import dev.fibservice.api.ServiceError;
import dev.fibservice.api.Text;
import dev.fibservice.config.Key;
import dev.fibservice.config.Settings;
import dev.fibservice.math.Algorithm;
import dev.fibservice.math.Fibonacci;
import io.vertx.core.json.JsonObject;

/**
 * One validated request: n within the algorithm's limit. The same parsing and the same wording serve
 * HTTP, TCP and the event bus, so a client sees one set of rules whatever it speaks.
 */
public record FibRequest(int n, Algorithm algorithm) {

  /** The largest n each algorithm accepts. */
  public record Limits(int recursive, int iterative, int doubling) {

    public static Limits from(Settings settings) {
      return new Limits(settings.getInt(Settings.FIB_MAX_RECURSIVE), settings.getInt(Settings.FIB_MAX_ITERATIVE),
        settings.getInt(Settings.FIB_MAX_DOUBLING));
    }

    public int maxN(Algorithm algorithm) {
      return switch (algorithm) {
        case RECURSIVE -> recursive;
        case ITERATIVE -> iterative;
        case DOUBLING -> doubling;
      };
    }

    /** The config key of the algorithm's limit, which the error names. */
    public static Key key(Algorithm algorithm) {
      return switch (algorithm) {
        case RECURSIVE -> Settings.FIB_MAX_RECURSIVE;
        case ITERATIVE -> Settings.FIB_MAX_ITERATIVE;
        case DOUBLING -> Settings.FIB_MAX_DOUBLING;
      };
    }
  }

  public JsonObject toJson() {
    return new JsonObject().put("n", n).put("algorithm", algorithm.wireName());
  }

  public boolean light() {
    return Fibonacci.isLight(algorithm, n);
  }

  /** From text (an HTTP path or query parameter, a TCP line); a null algorithm means the default. */
  public static FibRequest parse(String nText, String algorithmText, Limits limits) {
    Algorithm algorithm = algorithm(algorithmText);
    int plain = plainNumber(nText);
    if (plain >= 0) {
      return checked(plain, algorithm, limits, nText);
    }
    if (nText == null || nText.isEmpty()) {
      throw bad("n is missing; expected a whole number from 0 to " + limits.maxN(algorithm), nText);
    }
    if (!nText.matches("[+-]?\\d+")) {
      throw bad("n must be a whole number, got '" + Text.abbreviate(nText) + "'", nText);
    }
    if (nText.startsWith("-") && !nText.matches("-0+")) {
      throw bad("n must not be negative, got " + Text.abbreviate(nText), nText);
    }
    String digits = nText.replaceFirst("^[+-]?0*(?=\\d)", "");
    long n = digits.length() > 10 ? Long.MAX_VALUE : Long.parseLong(digits);
    return checked(n, algorithm, limits, nText);
  }

  /** The value of 1 to 9 ASCII digits (the common case, read without a regular expression), else -1. */
  private static int plainNumber(String text) {
    if (text == null || text.isEmpty() || text.length() > 9) {
      return -1;
    }
    int value = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  /** From an event-bus body: {"n": int, "algorithm": "..."} with algorithm optional. */
  public static FibRequest fromJson(Object body, Limits limits) {
    if (!(body instanceof JsonObject json)) {
      throw ServiceError.badRequest("body must be a JSON object like {\"n\":30,\"algorithm\":\"doubling\"}",
        new JsonObject().put("param", "body"));
    }
    Object algorithmRaw = json.getValue("algorithm");
    if (algorithmRaw != null && !(algorithmRaw instanceof String)) {
      throw ServiceError.badRequest("algorithm must be a string, one of " + Algorithm.NAMES,
        new JsonObject().put("param", "algorithm").put("value", String.valueOf(algorithmRaw)));
    }
    Algorithm algorithm = algorithm((String) algorithmRaw);
    Object nRaw = json.getValue("n");
    if (nRaw == null) {
      throw bad("n is missing; expected a whole number from 0 to " + limits.maxN(algorithm), null);
    }
    if (!(nRaw instanceof Integer || nRaw instanceof Long)) {
      throw bad("n must be a JSON integer, got " + Text.abbreviate(nRaw instanceof String s ? "'" + s + "'"
        : String.valueOf(nRaw)), String.valueOf(nRaw));
    }
    long n = ((Number) nRaw).longValue();
    if (n < 0) {
      throw bad("n must not be negative, got " + n, String.valueOf(n));
    }
    return checked(n, algorithm, limits, String.valueOf(n));
  }

  private static FibRequest checked(long n, Algorithm algorithm, Limits limits, String raw) {
    int max = limits.maxN(algorithm);
    if (n > max) {
      String key = Limits.key(algorithm).name();
      throw ServiceError.badRequest("n = " + Text.abbreviate(raw) + " is above the limit of algorithm "
          + algorithm.wireName() + " (n <= " + max + ", " + key + ")",
        new JsonObject().put("param", "n").put("value", Text.abbreviate(raw)).put("algorithm", algorithm.wireName())
          .put("limit", key).put("max", max));
    }
    return new FibRequest((int) n, algorithm);
  }

  private static Algorithm algorithm(String text) {
    if (text == null) {
      return Algorithm.DOUBLING;
    }
    Algorithm algorithm = Algorithm.fromWireName(text);
    if (algorithm == null) {
      throw ServiceError.badRequest("unknown algorithm '" + Text.abbreviate(text) + "'; expected one of "
        + Algorithm.NAMES, new JsonObject().put("param", "algorithm").put("value", Text.abbreviate(text))
        .put("accepted", Algorithm.NAMES));
    }
    return algorithm;
  }

  private static ServiceError bad(String message, String value) {
    JsonObject detail = new JsonObject().put("param", "n");
    if (value != null) {
      detail.put("value", Text.abbreviate(value));
    }
    return ServiceError.badRequest(message, detail);
  }
}
