package dev.fibservice.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.fibservice.FibService;
import dev.fibservice.FuzzInput;
import dev.fibservice.FuzzNode;
import dev.fibservice.NoBlockedEventLoops;
import dev.fibservice.TestNodes;
import dev.fibservice.compute.FibRequest;
import dev.fibservice.config.Settings;
import dev.fibservice.math.Algorithm;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzes the TCP line protocol on a real node over a loopback socket: the input is what the client sends, written in
 * the pieces its options line says ({@code \n#! split=3,1,...}, so that lines break at every boundary), then a
 * half-close.
 * The replies must be exactly those of a model of the protocol: one per line, in order (F(n) for a valid line, an
 * {@code [Error]} line for a bad one), until an empty line, {@code quit} or a line over tcp.maxLineBytes (answered
 * {@code [Error] line too long}) ends the session; and the server closes the connection after the last reply, never
 * before it and never leaving it open.
 */
@NoBlockedEventLoops.Exempt(FuzzNode.INSTRUMENTED)
class LineSessionFuzzTest {

  private static FibService node;
  private static int maxLine;
  private static FibRequest.Limits limits;

  @BeforeAll
  @Timeout(value = 10, unit = TimeUnit.MINUTES) // Jazzer instrumenting all it loads, on a busy machine
  static void start() throws Exception {
    node = FuzzNode.start(null);
    Settings settings = node.node().settings();
    maxLine = settings.getInt(Settings.TCP_MAX_LINE);
    limits = FibRequest.Limits.from(settings);
  }

  @AfterAll
  static void stop() throws Exception {
    TestNodes.stop(node);
  }

  @FuzzTest
  @DictionaryFile(resourcePath = "LineSessionFuzzTest.dict")
  void linesGetTheirReplies(byte[] input) throws IOException {
    FuzzNode.allowLoopback();
    FuzzInput o = FuzzInput.of(input);
    byte[] stream = o.stream;
    int[] splits = o.splits();

    List<String> expected = model(stream);
    String replies = new String(FuzzNode.exchange(node.tcpPort(), stream, splits), StandardCharsets.UTF_8);
    assertTrue(replies.isEmpty() || replies.endsWith("\n"), "every reply ends with a newline: " + replies);
    List<String> got = replies.isEmpty() ? List.of()
      : List.of(replies.substring(0, replies.length() - 1).split("\n", -1));
    // an error's words vary (they name the problem); that it is an error, and which one ends the session, does not
    List<String> kinds = got.stream().map(r -> r.startsWith("[Error] ") && !r.equals(tooLong()) && r.length() > 8
      ? "[Error]" : r).toList();
    assertEquals(expected, kinds, () -> "replies to '" + new String(stream, StandardCharsets.ISO_8859_1) + "': " + got);
  }

  /** The replies the protocol owes for this stream, followed by a half-close. */
  private static List<String> model(byte[] stream) {
    List<String> replies = new ArrayList<>();
    int pos = 0;
    while (true) {
      int lf = indexOf(stream, (byte) '\n', pos);
      if (lf < 0) {
        int end = stream.length;
        if (end - pos > maxLine + 1) {
          replies.add(tooLong());
          return replies;
        }
        if (end > pos && stream[end - 1] == '\r') {
          end--;
        }
        if (end - pos > maxLine) {
          replies.add(tooLong());
        } else if (end > pos) {
          line(new String(stream, pos, end - pos, StandardCharsets.UTF_8), replies);
        }
        return replies;
      }
      int end = lf > pos && stream[lf - 1] == '\r' ? lf - 1 : lf;
      if (end - pos > maxLine) {
        replies.add(tooLong());
        return replies;
      }
      if (!line(new String(stream, pos, end - pos, StandardCharsets.UTF_8), replies)) {
        return replies;
      }
      pos = lf + 1;
    }
  }

  /** One line's reply; false when the line ends the session. */
  private static boolean line(String raw, List<String> replies) {
    String line = raw.strip();
    if (line.isEmpty() || line.equalsIgnoreCase("quit")) {
      return false;
    }
    String[] words = line.split("[ \t\n\u000b\f\r]+");
    if (words.length > 2 || words.length == 0) {
      replies.add("[Error]");
      return true;
    }
    Algorithm algorithm = words.length == 2 ? Algorithm.fromWireName(words[1]) : Algorithm.DOUBLING;
    BigInteger n = words[0].matches("[+-]?[0-9]+") ? new BigInteger(words[0]) : null;
    if (algorithm == null || n == null || n.signum() < 0 || n.compareTo(BigInteger.valueOf(limits.maxN(algorithm))) > 0
      || !line.startsWith(words[0])) {
      replies.add("[Error]");
    } else {
      replies.add(fib(n.intValueExact()).toString());
    }
    return true;
  }

  private static String tooLong() {
    return "[Error] line too long: at most " + maxLine + " bytes (tcp.maxLineBytes)";
  }

  private static BigInteger fib(int n) {
    BigInteger a = BigInteger.ZERO;
    BigInteger b = BigInteger.ONE;
    for (int i = 0; i < n; i++) {
      BigInteger next = a.add(b);
      a = b;
      b = next;
    }
    return a;
  }

  private static int indexOf(byte[] bytes, byte b, int from) {
    for (int i = from; i < bytes.length; i++) {
      if (bytes[i] == b) {
        return i;
      }
    }
    return -1;
  }
}
