package dev.fibservice.bridge;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bridge's framing on its own: bytes in, frames out, whatever pieces the bytes come in. */
class FramesTest {

  private static final int MAX = 64;

  /** The frames of a byte stream that arrives in pieces of {@code piece} bytes, read as the bridge reads them. */
  private static List<JsonObject> read(Buffer stream, int piece) {
    List<JsonObject> frames = new ArrayList<>();
    Buffer input = Buffer.buffer();
    int start = 0;
    for (int from = 0; from < stream.length(); from += piece) {
      input.appendBuffer(stream.getBuffer(from, Math.min(stream.length(), from + piece)));
      int next;
      while ((next = Frames.next(input, start, input.length(), MAX)) >= 0) {
        frames.add(Frames.decode(input.getBuffer(start + Frames.HEADER, next)));
        start = next;
      }
      assertEquals(Frames.INCOMPLETE, next, "no frame of this stream is refused");
    }
    assertEquals(stream.length(), start, "every byte belongs to a frame");
    return frames;
  }

  @Test
  void framesComeOutWholeHoweverTheBytesArrive() {
    JsonObject ping = new JsonObject().put("type", "ping");
    JsonObject send = new JsonObject().put("type", "send").put("address", "fib.compute").put("body",
      new JsonObject().put("n", 30));
    Buffer stream = Buffer.buffer().appendBuffer(Frames.frame(ping)).appendBuffer(Frames.frame(send))
      .appendBuffer(Frames.frame(ping));
    for (int piece : new int[] {1, 2, 3, 4, 5, 7, 16, stream.length()}) {
      assertEquals(List.of(ping, send, ping), read(stream, piece), "pieces of " + piece + " bytes");
    }
  }

  @Test
  void aFrameIsItsLengthBigEndianThenItsJson() {
    Buffer frame = Frames.frame(new JsonObject().put("type", "pong"));
    byte[] json = "{\"type\":\"pong\"}".getBytes(StandardCharsets.UTF_8);
    assertEquals(json.length, frame.getInt(0));
    assertEquals(Buffer.buffer(json), frame.getBuffer(Frames.HEADER, frame.length()));
    assertEquals(new JsonObject().put("type", "err").put("message", "access_denied"), Frames.error("access_denied"));
  }

  @Test
  void aLengthIsJudgedBeforeABodyByteIsBuffered() {
    assertEquals(Frames.INCOMPLETE, Frames.next(Buffer.buffer(new byte[] {0, 0, 0}), 0, 3, MAX), "a partial header");
    assertEquals(Frames.INCOMPLETE, Frames.next(Buffer.buffer().appendInt(MAX), 0, 4, MAX), "a frame of max length");
    for (long length : new long[] {0, 1}) {
      Buffer header = Buffer.buffer().appendUnsignedInt(length);
      assertEquals(Frames.REFUSED, Frames.next(header, 0, 4, MAX), "length " + length);
      assertTrue(Frames.refusal(header, 0, MAX).startsWith("frame_too_small: a frame holds a JSON object, at least 2"
        + " bytes ({}), this one announced " + length), Frames.refusal(header, 0, MAX));
    }
    // over the limit, up to a 4 GiB prefix: no int overflow makes it look small or negative
    for (long length : new long[] {MAX + 1, Integer.MAX_VALUE, 0x80000000L, 0xFFFFFFFFL}) {
      Buffer header = Buffer.buffer().appendUnsignedInt(length);
      assertEquals(Frames.REFUSED, Frames.next(header, 0, 4, MAX), "length " + length);
      assertEquals("frame_too_large: a frame holds at most 64 bytes (bridge.maxFrameBytes), this one announced "
        + length, Frames.refusal(header, 0, MAX));
    }
  }

  @Test
  void aFrameStartsWhereTheLastEnded() {
    Buffer two = Buffer.buffer().appendString("xx").appendBuffer(Frames.frame(new JsonObject().put("type", "ping")));
    int end = Frames.next(two, 2, two.length(), MAX);
    assertEquals(two.length(), end);
    assertEquals(Frames.INCOMPLETE, Frames.next(two, 2, two.length() - 1, MAX), "one byte short");
  }

  @Test
  void aPayloadThatIsNoMessageIsMalformed() {
    String[] payloads = {"not json", "[1,2]", "{\"address\":\"fib.compute\"}", "{\"type\":42}", "{\"type\":null}"};
    String[] reasons = {"not a UTF-8 JSON object", "not a UTF-8 JSON object", "no string \"type\"",
      "no string \"type\"", "no string \"type\""};
    for (int i = 0; i < payloads.length; i++) {
      Buffer payload = Buffer.buffer(payloads[i]);
      Frames.Malformed e = assertThrows(Frames.Malformed.class, () -> Frames.decode(payload), payloads[i]);
      assertEquals("malformed_frame: " + reasons[i], e.getMessage(), payloads[i]);
    }
    Buffer invalidUtf8 = Buffer.buffer(new byte[] {'{', '"', 't', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'});
    assertThrows(Frames.Malformed.class, () -> Frames.decode(invalidUtf8));
    assertEquals("send", Frames.decode(Buffer.buffer("{\"type\":\"send\"}")).getString("type"));
  }
}
