package dev.fibservice.bridge;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.fibservice.FibService;
import dev.fibservice.FuzzNode;
import dev.fibservice.NoBlockedEventLoops;
import dev.fibservice.TestNodes;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzes the SockJS event-bus bridge of a real node through its raw WebSocket endpoint ({@code /eventbus/websocket}),
 * with the JDK's WebSocket client. The input is one message per line, sent in order as text frames, then a last
 * {@code send} to fib.compute: its answer must come (the socket still works, nothing before it hung or closed it),
 * and every frame the bridge wrote before it is a documented one: {@code rec}, or {@code err} with a documented word
 * or a documented failureCode (never 500).
 */
@NoBlockedEventLoops.Exempt(FuzzNode.INSTRUMENTED)
class SockJsFuzzTest {

  private static final Set<String> WORDS = Set.of("invalid_json", "missing_type", "missing_address",
    "max_address_length_reached", "invalid_type", "missing_reply_address", "invalid_reply_address", "access_denied",
    "address_already_registered", "max_handlers_reached", "busy");
  private static final Set<Integer> FAILURE_CODES = Set.of(400, 403, 404, 409, 499, 503, 504);
  private static final String LAST = "{\"type\":\"send\",\"address\":\"fib.compute\",\"replyAddress\":\"fuzz-last\","
    + "\"body\":{\"n\":10}}";

  private static FibService node;
  private static HttpClient client;

  @BeforeAll
  @Timeout(value = 10, unit = TimeUnit.MINUTES) // Jazzer instrumenting all it loads, on a busy machine
  static void start() throws Exception {
    node = FuzzNode.start(null);
    client = HttpClient.newHttpClient();
  }

  @AfterAll
  static void stop() throws Exception {
    TestNodes.stop(node);
  }

  @FuzzTest
  @DictionaryFile(resourcePath = "SockJsFuzzTest.dict")
  void messagesGetDocumentedAnswers(byte[] input) throws Exception {
    FuzzNode.allowLoopback();
    List<String> frames = new CopyOnWriteArrayList<>();
    CompletableFuture<JsonObject> last = new CompletableFuture<>();
    // generous bounds (hang guards): under Jazzer, on a busy machine, a first handshake took over 5 s
    WebSocket ws = client.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(30))
      .buildAsync(URI.create("ws://127.0.0.1:" + node.httpPort() + "/eventbus/websocket"), new WebSocket.Listener() {
        private final java.io.ByteArrayOutputStream message = new java.io.ByteArrayOutputStream();

        /** This transport writes the bridge's frames as binary messages, the JSON as it is. */
        @Override
        public CompletionStage<?> onBinary(WebSocket socket, java.nio.ByteBuffer data, boolean whole) {
          byte[] bytes = new byte[data.remaining()];
          data.get(bytes);
          message.writeBytes(bytes);
          if (whole) {
            received(message.toString(StandardCharsets.UTF_8));
            message.reset();
          }
          socket.request(1);
          return null;
        }

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean whole) {
          message.writeBytes(data.toString().getBytes(StandardCharsets.UTF_8));
          if (whole) {
            received(message.toString(StandardCharsets.UTF_8));
            message.reset();
          }
          socket.request(1);
          return null;
        }

        private void received(String frame) {
          frames.add(frame);
          if ("fuzz-last".equals(new JsonObject(frame).getString("address"))) {
            last.complete(new JsonObject(frame));
          }
        }

        @Override
        public CompletionStage<?> onClose(WebSocket socket, int status, String reason) {
          last.completeExceptionally(new AssertionError("the bridge closed the socket: " + status + " " + reason));
          return null;
        }
      }).get(30, TimeUnit.SECONDS);
    String text = new String(input, StandardCharsets.UTF_8);
    try {
      for (String message : text.split("\n")) {
        ws.sendText(message, true).get(10, TimeUnit.SECONDS);
      }
      ws.sendText(LAST, true).get(10, TimeUnit.SECONDS);
      JsonObject answer = last.get(15, TimeUnit.SECONDS);
      assertNotNull(answer.getValue("body"), () -> "the last send failed after " + text + ": " + frames);
      for (String frame : frames) {
        JsonObject f = new JsonObject(frame);
        String what = "to " + text.replace("\n", "\\n") + ": " + frame;
        if ("rec".equals(f.getString("type"))) {
          continue;
        }
        assertTrue("err".equals(f.getString("type")), "an undocumented frame " + what);
        if (f.containsKey("failureCode")) {
          assertTrue(FAILURE_CODES.contains(f.getInteger("failureCode")), "an undocumented failureCode " + what);
        } else {
          assertTrue(WORDS.contains(f.getString("body")), "an undocumented error " + what);
        }
      }
    } finally {
      ws.abort();
    }
  }
}
