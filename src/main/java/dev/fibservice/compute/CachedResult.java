package dev.fibservice.compute;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;

/**
 * A finished F(n) of {@code doubling} held by the {@link ResultCache}: its digits once, off the heap, laid out as the
 * JSON reply ({@code {"n":..,"algorithm":"doubling","value":"<digits>","digits":..,"computeMicros":..,"worker":..}}),
 * so that the JSON body is one slice of it and the text body the digits' slice and a newline. Nothing copies the
 * digits per request: a body is a view of this memory, which the socket is written from directly (a heap array would
 * be copied into a direct buffer by the transport at every write). Never written after it is built.
 *
 * <p>Reference counted: the cache holds one reference while the entry is in it, and everyone who reads it holds one
 * from {@link ResultCache#acquire} until {@link #release}, e.g. until its response is written; the memory is freed
 * when the last one goes.
 */
public final class CachedResult {

  /** The text body's last byte, shared by every entry; never freed. */
  private static final ByteBuf NEWLINE = Unpooled.unreleasableBuffer(
    Unpooled.directBuffer(1, 1).writeByte('\n').asReadOnly());

  private final int n;
  private final long computeMicros;
  private final String worker;
  /** The JSON reply: the head, the digits, the tail. */
  private final ByteBuf json;
  private final int digitsAt;
  private final int digits;

  private CachedResult(int n, long computeMicros, String worker, ByteBuf json, int digitsAt, int digits) {
    this.n = n;
    this.computeMicros = computeMicros;
    this.worker = worker;
    this.json = json;
    this.digitsAt = digitsAt;
    this.digits = digits;
  }

  /**
   * An entry holding one reference (its creator's), with {@code value}'s ASCII digits copied off the heap once; outside
   * any cache until {@link ResultCache#put} keeps it (the big-response warm-up uses one of its own).
   */
  public static CachedResult of(int n, String value, long computeMicros, String worker) {
    byte[] head = ("{\"n\":" + n + ",\"algorithm\":\"doubling\",\"value\":\"").getBytes(StandardCharsets.US_ASCII);
    // the rest as JsonObject encodes it (the worker's name escaped as JSON), after the closing quote of the value
    String rest = new JsonObject().put("digits", value.length()).put("computeMicros", computeMicros)
      .put("worker", worker).encode();
    byte[] tail = ("\"," + rest.substring(1)).getBytes(StandardCharsets.UTF_8);
    int length = head.length + value.length() + tail.length;
    ByteBuf json = Unpooled.directBuffer(length, length);
    json.writeBytes(head);
    // one array copy (String's own intrinsic), not Netty's loop over the characters
    json.writeBytes(value.getBytes(StandardCharsets.US_ASCII));
    json.writeBytes(tail);
    return new CachedResult(n, computeMicros, worker, json, head.length, value.length());
  }

  public int n() {
    return n;
  }

  /** How long the computation that made it took. */
  public long computeMicros() {
    return computeMicros;
  }

  /** The worker that computed it, as replies name it. */
  public String worker() {
    return worker;
  }

  /** Decimal digits of F(n). */
  public int digits() {
    return digits;
  }

  /** What it costs the cache: the memory off the heap, and the entry's objects on it. */
  long bytes() {
    return json.capacity() + 256L;
  }

  /** The JSON body's length in bytes. */
  public int jsonLength() {
    return json.writerIndex();
  }

  /** The text body's length: the digits and a newline. */
  public int textLength() {
    return digits + 1;
  }

  /**
   * The JSON body, a view of this entry's memory: valid while the caller holds its reference (released, say, when
   * the write it was handed to has completed).
   */
  public Buffer json() {
    return BufferInternal.buffer(json.slice(0, json.writerIndex()).asReadOnly());
  }

  /**
   * The text body (the digits and a newline), a view of this entry's memory: as {@link #json()}. Both parts are off
   * the heap: the transport writes a composite of such parts with one gathering write, no copy (and Netty's
   * FixedCompositeByteBuf judges "direct" from the parts after its first, so a heap part first would be mistaken).
   */
  public Buffer text() {
    return BufferInternal.buffer(Unpooled.wrappedUnmodifiableBuffer(json.slice(digitsAt, digits), NEWLINE.duplicate()));
  }

  /** The reply of {@code fib.compute}, its value a String of its own (a copy of the digits). */
  public JsonObject toJson() {
    return new JsonObject().put("n", n).put("algorithm", "doubling")
      .put("value", json.toString(digitsAt, digits, StandardCharsets.ISO_8859_1)).put("digits", digits)
      .put("computeMicros", computeMicros).put("worker", worker);
  }

  CachedResult retain() {
    json.retain();
    return this;
  }

  /** Gives up one reference; the memory is freed with the last. */
  public void release() {
    json.release();
  }

  /** References held now (for tests). */
  int references() {
    return json.refCnt();
  }
}
