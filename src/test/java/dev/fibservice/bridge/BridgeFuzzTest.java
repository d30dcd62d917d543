package dev.fibservice.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.fibservice.FibService;
import dev.fibservice.FuzzInput;
import dev.fibservice.FuzzNode;
import dev.fibservice.NoBlockedEventLoops;
import dev.fibservice.TestNodes;
import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzes the TCP event-bus bridge of a real node over a loopback socket. The input is one frame per line, each sent
 * with its true length, except a line {@code !len=N rest}, whose frame announces N bytes and carries {@code rest};
 * {@code split=} in the options line ({@link FuzzInput}) sends the bytes in pieces; then a half-close. Every frame the
 * bridge writes is a length and a JSON object of a documented type; every error is a documented one (its words, or a
 * failure with a documented failureCode, never 500); a refused frame's error is the last frame before the bridge closes;
 * at most one answer comes per frame sent; and the bridge closes the connection in bounded time: no hang.
 */
@NoBlockedEventLoops.Exempt(FuzzNode.INSTRUMENTED)
class BridgeFuzzTest {

  /** The error words of the bridge (docs/clients.md), each the start of an error frame's message. */
  private static final List<String> WORDS = List.of("frame_too_small", "frame_too_large", "malformed_frame",
    "unknown_type", "missing_address", "access_denied", "missing_reply_address", "busy");
  /** The words after which the bridge closes the connection. */
  private static final List<String> CLOSING = List.of("frame_too_small", "frame_too_large", "malformed_frame: not",
    "malformed_frame: no string");
  private static final Set<Integer> FAILURE_CODES = Set.of(400, 403, 404, 409, 499, 503, 504);

  private static FibService node;

  @BeforeAll
  @Timeout(value = 10, unit = TimeUnit.MINUTES) // Jazzer instrumenting all it loads, on a busy machine
  static void start() throws Exception {
    node = FuzzNode.start(null);
  }

  @AfterAll
  static void stop() throws Exception {
    TestNodes.stop(node);
  }

  @FuzzTest
  @DictionaryFile(resourcePath = "BridgeFuzzTest.dict")
  void framesGetDocumentedAnswers(byte[] input) throws IOException {
    FuzzNode.allowLoopback();
    FuzzInput o = FuzzInput.of(input);
    ByteArrayOutputStream frames = new ByteArrayOutputStream();
    int sent = 0;
    String text = new String(o.stream, StandardCharsets.ISO_8859_1);
    for (String line : text.split("\n")) {
      byte[] bytes = line.getBytes(StandardCharsets.ISO_8859_1);
      int length = bytes.length;
      if (line.startsWith("!len=")) {
        int space = line.indexOf(' ');
        String n = line.substring(5, space < 0 ? line.length() : space);
        bytes = space < 0 ? new byte[0] : line.substring(space + 1).getBytes(StandardCharsets.ISO_8859_1);
        length = n.matches("\\d{1,10}") ? (int) Long.parseLong(n) : bytes.length;
      }
      frames.writeBytes(ByteBuffer.allocate(4).putInt(length).array());
      frames.writeBytes(bytes);
      sent++;
    }
    byte[] answer = FuzzNode.exchange(node.bridgePort(), frames.toByteArray(), o.splits());
    List<JsonObject> replies = frames(answer);
    String what = "to " + text.replace("\n", "\\n") + ": " + replies;
    assertTrue(replies.size() <= sent + 1, "more answers than frames " + what); // +1: a fib.stats push
    for (int i = 0; i < replies.size(); i++) {
      JsonObject r = replies.get(i);
      String type = r.getString("type");
      assertTrue(Set.of("message", "err", "pong").contains(type), "an undocumented frame " + what);
      if (!"err".equals(type)) {
        continue;
      }
      String message = r.getString("message");
      assertTrue(message != null && !message.isBlank(), "an error without words " + what);
      if (r.containsKey("failureCode")) {
        assertTrue(FAILURE_CODES.contains(r.getInteger("failureCode")), "an undocumented failureCode " + what);
      } else {
        assertTrue(WORDS.stream().anyMatch(message::startsWith), "an undocumented error " + what);
        if (CLOSING.stream().anyMatch(message::startsWith)) {
          assertEquals(replies.size() - 1, i, "frames after the error that closes the connection " + what);
        }
      }
    }
  }

  private static List<JsonObject> frames(byte[] a) {
    List<JsonObject> out = new ArrayList<>();
    ByteBuffer in = ByteBuffer.wrap(a);
    while (in.remaining() > 0) {
      assertTrue(in.remaining() >= 4, "a frame cut inside its length");
      int length = in.getInt();
      assertTrue(length >= 2 && length <= in.remaining(), "a frame of " + length + " bytes, " + in.remaining() + " came");
      byte[] json = new byte[length];
      in.get(json);
      out.add(new JsonObject(new String(json, StandardCharsets.UTF_8)));
    }
    return out;
  }

}
