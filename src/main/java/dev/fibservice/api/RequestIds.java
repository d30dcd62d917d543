package dev.fibservice.api;

import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The ids of requests, in one format: the service makes 16 lowercase hex digits (64 random bits: unique across a
 * cluster's work in flight for all practical purposes, and no secret); a client may name its request itself
 * ({@code X-Request-Id}), for the logs. A request id never cancels anything: that takes a {@link CancelIds} id.
 */
public final class RequestIds {

  /** The longest id a client may give; a longer one is ignored and the service makes one. */
  public static final int MAX_CLIENT_LENGTH = 128;

  private static final HexFormat HEX = HexFormat.of();

  private RequestIds() {
  }

  /** A fresh id. */
  public static String next() {
    return HEX.toHexDigits(ThreadLocalRandom.current().nextLong());
  }

  /** A client's id for its request when it gave a usable one (a string of 1 to 128 characters), else null. */
  public static String fromClient(Object value) {
    return value instanceof String id && !id.isEmpty() && id.length() <= MAX_CLIENT_LENGTH ? id : null;
  }
}
