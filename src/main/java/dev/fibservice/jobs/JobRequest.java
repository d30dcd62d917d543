package dev.fibservice.jobs;

import dev.fibservice.api.ServiceError;
import dev.fibservice.api.Text;
import dev.fibservice.compute.FibRequest;
import dev.fibservice.config.Key;
import dev.fibservice.config.Settings;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;

/**
 * One validated job submit: what to compute ({@link FibRequest}, with the words of /fib) and how to run it: its
 * priority, when (a delay or an instant), its own deadline and how many attempts it may take. Each field has its
 * range, and a value out of it is a 400 naming the field (and the config key of its limit). Fields this release does
 * not know are ignored, as in every body.
 *
 * @param delayMs     how long after the submit it may start (0: at once), or null when {@code runAt} says when
 * @param runAt       the instant from which it may start, or null
 * @param timeoutMs   its own deadline (at most jobs.timeoutMs), or null for jobs.timeoutMs
 * @param maxAttempts attempts it may take before it is FAILED (jobs.attempts when it names none)
 */
public record JobRequest(FibRequest fib, int priority, Long delayMs, Instant runAt, Integer timeoutMs, int maxAttempts) {

  public static final int MIN_PRIORITY = 0;
  public static final int MAX_PRIORITY = 9;
  /**
   * In between, leaning to the urgent side: four levels above it for what must go first, five below for what may
   * wait.
   */
  public static final int DEFAULT_PRIORITY = 5;

  /** What bounds a submit's fields, from the configuration. */
  public record Limits(FibRequest.Limits fib, long maxDelayMs, int maxTimeoutMs, int defaultAttempts, int maxAttempts) {

    public static Limits from(Settings settings) {
      return new Limits(FibRequest.Limits.from(settings), settings.getLong(Settings.JOBS_MAX_DELAY_MS),
        settings.getInt(Settings.JOBS_TIMEOUT_MS), settings.getInt(Settings.JOBS_ATTEMPTS),
        settings.getInt(Settings.JOBS_MAX_ATTEMPTS));
    }
  }

  /** A job body: {@code {"n":..,"algorithm":..,"priority":..,"delayMs"|"runAt":..,"timeoutMs":..,"maxAttempts":..}}. */
  public static JobRequest fromJson(Object body, Limits limits) {
    FibRequest fib = FibRequest.fromJson(body, limits.fib());
    return options((JsonObject) body, fib, limits);
  }

  /** The fields besides n and algorithm, from {@code json}, for {@code fib} (a batch shares them over its n). */
  static JobRequest options(JsonObject json, FibRequest fib, Limits limits) {
    int priority = (int) whole(json, "priority", MIN_PRIORITY, MAX_PRIORITY, null, DEFAULT_PRIORITY);
    boolean hasDelay = json.getValue("delayMs") != null;
    boolean hasRunAt = json.getValue("runAt") != null;
    if (hasDelay && hasRunAt) {
      throw ServiceError.badRequest("give delayMs or runAt, not both", new JsonObject().put("param", "runAt"));
    }
    Long delayMs = hasRunAt ? null : whole(json, "delayMs", 0, limits.maxDelayMs(), Settings.JOBS_MAX_DELAY_MS, 0);
    Instant runAt = hasRunAt ? instant(json.getValue("runAt"), limits.maxDelayMs()) : null;
    Integer timeoutMs = json.getValue("timeoutMs") == null ? null
      : (int) whole(json, "timeoutMs", 1, limits.maxTimeoutMs(), Settings.JOBS_TIMEOUT_MS, 0);
    int attempts = (int) whole(json, "maxAttempts", 1, limits.maxAttempts(), Settings.JOBS_MAX_ATTEMPTS,
      limits.defaultAttempts());
    return new JobRequest(fib, priority, delayMs, runAt, timeoutMs, attempts);
  }

  /** Whether it must wait for its time: SCHEDULED rather than PENDING (a runAt already past runs at once). */
  public boolean delayed() {
    return delayMs != null ? delayMs > 0 : runAt.isAfter(Instant.now());
  }

  /**
   * The request's identity for Idempotency-Key: SHA-256 over every field as resolved (a default spelled out or left
   * out is the same request; a delay is compared as given, not as the instant it makes).
   */
  public String hash() {
    String canonical = fib.n() + "|" + fib.algorithm().wireName() + "|" + priority + "|" + delayMs + "|" + runAt + "|"
      + timeoutMs + "|" + maxAttempts;
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(canonical.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /** A JSON integer field within [min, max], or {@code absent} when the field is missing or null. */
  static long whole(JsonObject json, String field, long min, long max, Key limit, long absent) {
    Object raw = json.getValue(field);
    if (raw == null) {
      return absent;
    }
    if (!(raw instanceof Integer || raw instanceof Long)) {
      throw ServiceError.badRequest(field + " must be a JSON integer from " + min + " to " + max + ", got "
          + Text.abbreviate(raw instanceof String s ? "'" + s + "'" : String.valueOf(raw)),
        new JsonObject().put("param", field).put("value", Text.abbreviate(String.valueOf(raw))));
    }
    long value = ((Number) raw).longValue();
    if (value < min || value > max) {
      JsonObject detail = new JsonObject().put("param", field).put("value", value).put("min", min).put("max", max);
      if (limit != null && value > max) {
        detail.put("limit", limit.name());
      }
      throw ServiceError.badRequest(field + " must be from " + min + " to " + max + (limit != null && value > max
        ? " (" + limit.name() + ")" : "") + ", got " + value, detail);
    }
    return value;
  }

  /** An ISO-8601 instant ("2030-01-01T00:00:00Z"), at most jobs.maxDelayMs ahead. */
  private static Instant instant(Object raw, long maxDelayMs) {
    Instant at;
    try {
      at = Instant.parse((String) raw);
    } catch (ClassCastException | DateTimeParseException e) {
      throw ServiceError.badRequest("runAt must be an ISO-8601 instant in UTC such as \"2030-01-01T12:00:00Z\", got "
        + Text.abbreviate(raw instanceof String s ? "'" + s + "'" : String.valueOf(raw)),
        new JsonObject().put("param", "runAt").put("value", Text.abbreviate(String.valueOf(raw))));
    }
    Instant latest = Instant.now().plusMillis(maxDelayMs);
    if (at.isAfter(latest)) {
      throw ServiceError.badRequest("runAt " + at + " is more than " + maxDelayMs + " ms ahead ("
          + Settings.JOBS_MAX_DELAY_MS.name() + ")", new JsonObject().put("param", "runAt").put("value", at.toString())
        .put("limit", Settings.JOBS_MAX_DELAY_MS.name()).put("max", maxDelayMs));
    }
    return at;
  }
}
