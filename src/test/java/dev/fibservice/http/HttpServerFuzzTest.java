package dev.fibservice.http;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.fibservice.FibService;
import dev.fibservice.FuzzInput;
import dev.fibservice.FuzzNode;
import dev.fibservice.NoBlockedEventLoops;
import dev.fibservice.TestNodes;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzes the whole HTTP server of a real node (the database on) over a loopback socket: the request guard, Vert.x's
 * decoder, the router with its percent-decoded paths and queries, the routes (/fib, /hello, /people, /jobs, the
 * page's files, the SockJS paths) and their bodies. The input is what a client sends ({@link FuzzInput}: seeds are
 * real requests and the hand-written tests' attacks; {@code split=} sends it in pieces), then a half-close. Every
 * answer has a documented status (never a 500), every error is JSON naming the problem, and the server answers every
 * complete request it read (in order) before it closes, unless it closed after an error of its own (a refused or
 * unreadable request), all within a bounded time: no hang.
 */
@NoBlockedEventLoops.Exempt(FuzzNode.INSTRUMENTED)
class HttpServerFuzzTest {

  /** The statuses docs/http-api.md lists (and 1xx interim answers, 101 for a WebSocket handshake). */
  private static final Set<Integer> DOCUMENTED = Set.of(100, 101, 200, 201, 202, 204, 206, 304, 400, 403, 404, 405, 406,
    409, 413, 414, 415, 416, 417, 431, 501, 503, 504);

  private static FibService node;

  @BeforeAll
  @Timeout(value = 10, unit = TimeUnit.MINUTES) // Jazzer instrumenting all it loads, on a busy machine
  static void start() throws Exception {
    node = FuzzNode.start("fuzz_http");
  }

  @AfterAll
  static void stop() throws Exception {
    TestNodes.stop(node);
  }

  @FuzzTest
  @DictionaryFile(resourcePath = "HttpServerFuzzTest.dict")
  void requestsGetDocumentedAnswers(byte[] input) throws IOException {
    FuzzNode.allowLoopback();
    FuzzInput o = FuzzInput.of(input);
    List<Head> heads = heads(o.stream);
    byte[] answer = FuzzNode.exchange(node.httpPort(), o.stream, o.splits());
    List<Response> responses;
    try {
      responses = responses(answer, heads);
    } catch (RuntimeException e) {
      throw new AssertionError("unreadable answer: " + new String(answer, StandardCharsets.ISO_8859_1), e);
    }
    String what = "to " + printable(o.stream) + ": " + responses;
    for (Response r : responses) {
      assertTrue(DOCUMENTED.contains(r.status), "an undocumented status " + what);
      if (r.status >= 400 && r.body.length > 0) {
        JsonObject error;
        try {
          error = new JsonObject(new String(r.body, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
          throw new AssertionError("an error that is not JSON " + what, e);
        }
        assertTrue(error.getValue("error") instanceof String s && !s.isBlank(), "an error without words " + what);
      }
    }
    // the requests the server owes an answer: every complete one, up to the first that does not keep the connection
    int owed = 0;
    for (Head h : heads) {
      if (!h.complete) {
        break;
      }
      owed++;
      if (!HttpUtil.isKeepAlive(h.request)) {
        break;
      }
    }
    long finals = responses.stream().filter(r -> r.status >= 200 || r.status == 101).count();
    assertTrue(finals <= owed + 1, "more answers than requests " + what);
    if (finals < owed && !responses.isEmpty() && responses.get(responses.size() - 1).status != 101) {
      Response last = responses.get(responses.size() - 1);
      assertTrue(last.status >= 400 || last.close, "closed with requests unanswered, after a " + last.status + " "
        + what);
    }
    assertFalse(owed > 0 && responses.isEmpty(), "closed without an answer " + what);
  }

  /** A request head Netty's own decoder read, and whether its body came whole. */
  record Head(HttpRequest request, boolean complete) {
  }

  /** The request heads Netty's own decoder reads from the stream (until one it cannot read). */
  private static List<Head> heads(byte[] stream) {
    EmbeddedChannel channel = new EmbeddedChannel(new HttpRequestDecoder(256, 1024, 8192));
    List<Head> heads = new ArrayList<>();
    try {
      channel.writeInbound(Unpooled.wrappedBuffer(stream));
      channel.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
      HttpRequest head = null;
      Object msg;
      while ((msg = channel.readInbound()) != null) {
        try {
          if (((HttpObject) msg).decoderResult().isFailure()) {
            break;
          }
          if (msg instanceof HttpRequest r) {
            head = r;
          }
          if (msg instanceof LastHttpContent && head != null) {
            heads.add(new Head(head, true));
            head = null;
          }
        } finally {
          ReferenceCountUtil.release(msg);
        }
      }
      if (head != null) {
        heads.add(new Head(head, false)); // answered before its body came, as a GET or HEAD may be
      }
    } finally {
      channel.finishAndReleaseAll();
    }
    return heads;
  }

  record Response(int status, boolean close, byte[] body) {
    @Override
    public String toString() {
      return status + (close ? " (close)" : "") + " " + new String(body, 0, Math.min(body.length, 200),
        StandardCharsets.UTF_8);
    }
  }

  /** The responses in the answer, framed as HTTP/1.1 says (HEAD and 1xx/204/304 without a body). */
  private static List<Response> responses(byte[] a, List<Head> heads) {
    List<Response> out = new ArrayList<>();
    int at = 0;
    int finals = 0;
    while (at < a.length) {
      int headEnd = indexOf(a, "\r\n\r\n", at);
      if (headEnd < 0) {
        throw new IllegalStateException("a response head without its end at " + at);
      }
      String[] lines = new String(a, at, headEnd - at, StandardCharsets.ISO_8859_1).split("\r\n");
      int status = Integer.parseInt(lines[0].split(" ")[1]);
      long length = -1;
      boolean chunked = false;
      boolean close = false;
      for (int i = 1; i < lines.length; i++) {
        String[] kv = lines[i].split(":", 2);
        String name = kv[0].trim().toLowerCase(Locale.ROOT);
        String value = kv[1].trim().toLowerCase(Locale.ROOT);
        switch (name) {
          case "content-length" -> length = Long.parseLong(value);
          case "transfer-encoding" -> chunked = value.contains("chunked");
          case "connection" -> close = value.contains("close");
          default -> {
          }
        }
      }
      at = headEnd + 4;
      boolean head = finals < heads.size() && heads.get(finals).request.method().name().equals("HEAD");
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      if (status == 101) {
        out.add(new Response(status, close, new byte[0]));
        return out; // the connection speaks WebSocket from here on
      }
      if (status >= 200 && !head && status != 204 && status != 304) {
        if (chunked) {
          while (true) {
            int lineEnd = indexOf(a, "\r\n", at);
            int size = Integer.parseInt(new String(a, at, lineEnd - at, StandardCharsets.ISO_8859_1).split(";")[0]
              .trim(), 16);
            at = lineEnd + 2;
            if (size == 0) {
              at = indexOf(a, "\r\n", at) + 2; // no trailers from this server
              break;
            }
            body.write(a, at, size);
            at += size + 2;
          }
        } else if (length >= 0) {
          body.write(a, at, (int) length);
          at += (int) length;
        } else {
          body.write(a, at, a.length - at);
          at = a.length;
        }
      }
      if (status >= 200) {
        finals++;
      }
      out.add(new Response(status, close, body.toByteArray()));
    }
    return out;
  }

  private static int indexOf(byte[] a, String what, int from) {
    byte[] w = what.getBytes(StandardCharsets.ISO_8859_1);
    outer:
    for (int i = from; i <= a.length - w.length; i++) {
      for (int j = 0; j < w.length; j++) {
        if (a[i + j] != w[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static String printable(byte[] stream) {
    String s = new String(stream, 0, Math.min(stream.length, 600), StandardCharsets.ISO_8859_1);
    return "'" + s.replace("\r", "\\r").replace("\n", "\\n") + "'";
  }
}
