package dev.fibservice.bridge;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * The frames of the event-bus bridge protocol: a 4-byte big-endian length, then that many bytes of a UTF-8 JSON
 * object with a string {@code type}. A frame's length is checked before a byte of it is buffered: a frame under 2 bytes
 * or over {@code bridge.maxFrameBytes} is refused from its length alone.
 */
final class Frames {

  /** The length prefix. */
  static final int HEADER = 4;
  /** {@link #next}: the frame is not all there yet. */
  static final int INCOMPLETE = -1;
  /** {@link #next}: the frame's length is refused ({@link #refusal} says why). */
  static final int REFUSED = -2;

  private Frames() {
  }

  /** One frame: length, then the JSON. */
  static Buffer frame(JsonObject json) {
    return frame(json.toBuffer());
  }

  /** One frame around JSON already encoded. */
  static Buffer frame(Buffer payload) {
    return Buffer.buffer(payload.length() + HEADER).appendInt(payload.length()).appendBuffer(payload);
  }

  /** The body of an error frame. */
  static JsonObject error(String message) {
    return new JsonObject().put("type", "err").put("message", message);
  }

  /**
   * Where the frame that starts at {@code start} of {@code input} (whose bytes end at {@code end}) ends: the index
   * after its last byte, {@link #INCOMPLETE} while bytes of it are missing, or {@link #REFUSED}.
   */
  static int next(Buffer input, int start, int end, int maxFrameBytes) {
    if (end - start < HEADER) {
      return INCOMPLETE;
    }
    long length = input.getUnsignedInt(start);
    if (length < 2 || length > maxFrameBytes) {
      return REFUSED;
    }
    long next = start + HEADER + length;
    return next > end ? INCOMPLETE : (int) next;
  }

  /** Why the frame that starts at {@code start} was {@link #REFUSED}, for its error frame. */
  static String refusal(Buffer input, int start, int maxFrameBytes) {
    long length = input.getUnsignedInt(start);
    return length < 2
      ? "frame_too_small: a frame holds a JSON object, at least 2 bytes ({}), this one announced " + length
      : "frame_too_large: a frame holds at most " + maxFrameBytes + " bytes (bridge.maxFrameBytes), this one announced "
      + length;
  }

  /** The message a frame's payload holds; {@link Malformed} when it is not a JSON object with a string "type". */
  static JsonObject decode(Buffer payload) {
    JsonObject msg;
    try {
      msg = new JsonObject(payload);
    } catch (RuntimeException e) {
      throw new Malformed("malformed_frame: not a UTF-8 JSON object");
    }
    if (!(msg.getValue("type") instanceof String)) {
      throw new Malformed("malformed_frame: no string \"type\"");
    }
    return msg;
  }

  /** A frame that is no message: its error frame's words. */
  static final class Malformed extends RuntimeException {
    Malformed(String message) {
      super(message, null, false, false);
    }
  }
}
