package dev.fibservice.compute;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;

/**
 * F(n) as a front answers it: its JSON body or its text body (the digits and a newline). From a cached result, both are
 * views of the cache's memory, never a copy of the digits: the caller holds a reference until it {@link #release}s it,
 * once the body is written. From a reply of {@code fib.compute} (a light result, another algorithm, the cache off),
 * they are encoded from its JSON.
 */
public final class Reply {

  private final CachedResult cached;
  private final JsonObject json;
  private Buffer encoded;
  private boolean encodedText;

  private Reply(CachedResult cached, JsonObject json) {
    this.cached = cached;
    this.json = json;
  }

  /** From a cached result, whose reference the reply now holds. */
  public static Reply of(CachedResult cached) {
    return new Reply(cached, null);
  }

  /** From a reply of {@code fib.compute}. */
  static Reply of(JsonObject json) {
    return new Reply(null, json);
  }

  /** Whether the bodies are views of a cached result. */
  public boolean cached() {
    return cached != null;
  }

  /** The body: {@code text} for the digits and a newline, else the JSON. */
  public Buffer body(boolean text) {
    if (cached != null) {
      return text ? cached.text() : cached.json();
    }
    if (encoded == null || encodedText != text) {
      encoded = text ? Buffer.buffer((json.getString("value") + "\n").getBytes(StandardCharsets.ISO_8859_1))
        : json.toBuffer();
      encodedText = text;
    }
    return encoded;
  }

  /** The body's length in bytes (a HEAD response's Content-Length). */
  public int length(boolean text) {
    if (cached != null) {
      return text ? cached.textLength() : cached.jsonLength();
    }
    return body(text).length();
  }

  /** The body has been written (or will not be): a cached result's memory may go. Once only. */
  public void release() {
    if (cached != null) {
      cached.release();
    }
  }
}
