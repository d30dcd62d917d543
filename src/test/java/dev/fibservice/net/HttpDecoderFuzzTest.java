package dev.fibservice.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.fibservice.FuzzInput;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Fuzzes the HTTP/1.x request guard ({@link GuardedRequestDecoder} and {@link HttpGuard}) in a Netty
 * {@link EmbeddedChannel}, against Netty's plain {@link HttpRequestDecoder} with the same limits (a differential check):
 * for every input, the requests the guard lets through to Vert.x are, in order, the requests the plain decoder parses
 * (method, URI, version, headers in order, body bytes, decoder failures), up to one the guard refuses; a refused request
 * is answered after every response owed before it, with its documented status (400, or 501 for a coding before
 * chunked) and JSON error, then the connection closes; a half-close closes the connection once everything received
 * before it is answered; and no exception leaves the pipeline. The input is the bytes a client sends (the seeds: real
 * requests and the attacks of the hand-written tests), fed to the guard in the reads its options line says, to the
 * plain decoder in one piece.
 */
class HttpDecoderFuzzTest {

  private static final HttpServerOptions DEFAULTS = new HttpServerOptions();

  /** The guards' timeouts, kept by a sweep that never ticks within a run (each input is fed at once). */
  private static Vertx vertx;
  private static HttpGuards guards;

  @BeforeAll
  static void startSweep() {
    vertx = Vertx.vertx();
    guards = WireTest.guards(vertx);
  }

  @AfterAll
  static void stopSweep() {
    vertx.close().await();
  }

  /**
   * The input is the byte stream a client sends, optionally followed by a line of options ({@link FuzzInput}):
   * {@code half-close} (a FIN after the stream), {@code split=3,10,...} (the sizes of the reads the
   * guard gets; the plain decoder gets the stream whole), {@code uri=N}, {@code headers=N} and {@code chunk=N} (the
   * decoder's limits; by default the smallest http.maxUriBytes and http.maxHeaderBytes accept, 256 and 1024, so that
   * short inputs reach them).
   */
  @FuzzTest
  @DictionaryFile(resourcePath = "HttpDecoderFuzzTest.dict")
  void guardParsesLikeNettyOrRefuses(byte[] input) {
    FuzzInput o = FuzzInput.of(input);
    HttpServerOptions options = new HttpServerOptions()
      .setMaxInitialLineLength(o.number("uri", 256, 1 << 20, 256))
      .setMaxHeaderSize(o.number("headers", 1024, 1 << 20, 1024))
      .setMaxChunkSize(o.number("chunk", 1, 1 << 20, DEFAULTS.getMaxChunkSize()));
    byte[] stream = o.stream;
    boolean halfClose = o.has("half-close");

    Parsed plain = parse(new PlainDecoder(options), null, stream, new int[0], halfClose);
    HttpGuard guard = new HttpGuard(guards, null);
    Parsed guarded = parse(new GuardedRequestDecoder(options, guard), guard, stream, o.splits(), halfClose);

    int passed = guarded.requests.size();
    List<FullHttpResponse> answers = guarded.responses;
    FullHttpResponse refusal = answers.size() > guarded.answered ? answers.get(answers.size() - 1) : null;
    // Netty's decoder fails a bad request line at once; the guard judges a request's version once its head is whole:
    // while the input has ended inside that head, the guard has neither passed nor refused it yet, and waits
    boolean waiting = refusal == null && guarded.channel.isOpen() && plain.requests.size() == passed + 1
      && plain.requests.get(passed).failed;
    try {
      guarded.requests.stream().filter(r -> !r.failed).forEach(HttpDecoderFuzzTest::assertUnambiguous);
      if (waiting) {
        assertEquals(plain.requests.subList(0, passed), guarded.requests, "the requests before an unfinished head");
      } else if (refusal == null) {
        assertEquals(plain.requests, guarded.requests, "the guard let through what the plain decoder parsed");
      } else {
        assertEquals(plain.requests.subList(0, Math.min(passed, plain.requests.size())), guarded.requests,
          "the requests before the refused one");
        assertEquals(guarded.answered + 1, answers.size(), "one refusal, after the answers owed before it");
        assertRefusal(refusal, plain.requests.size() > passed ? plain.requests.get(passed) : null);
        assertFalse(guarded.channel.isOpen(), "the connection closes after a refusal");
      }
      if (halfClose && !guarded.unfinished) {
        assertFalse(guarded.channel.isOpen(), "a half-closed connection closes once all it sent is answered");
      }
      if (!halfClose && refusal == null && !guarded.failed) {
        assertTrue(guarded.channel.isOpen(), "nothing closes a connection whose requests were all fine");
      }
    } finally {
      guarded.release();
      plain.release();
    }
  }

  /**
   * What the guard lets through is framed one way only and names its host (RFC 9112 sections 3.2, 6.1, 6.3): said here
   * independently of the guard's code, so that a check it drops is noticed, not just a request it mangles. (A
   * Content-Length beside chunked shows as the plain decoder's mark, which the guard's request lacks.)
   */
  private static void assertUnambiguous(Request r) {
    assertTrue(r.version.equals("HTTP/1.1") || r.version.equals("HTTP/1.0"), "a " + r.version + " request passed");
    if (r.version.equals("HTTP/1.1")) {
      assertTrue(r.has("host"), "an HTTP/1.1 request without Host passed: " + r);
    }
    if (r.has("transfer-encoding")) {
      assertEquals("HTTP/1.1", r.version, "Transfer-Encoding outside HTTP/1.1 passed: " + r);
      String codings = String.join(",", r.values("transfer-encoding"));
      assertTrue(codings.matches("(?i)[ \\t,]*chunked[ \\t,]*"), "Transfer-Encoding other than chunked passed: " + r);
    }
  }

  /**
   * Netty's own request decoder with the limits of these options; where it drops a Content-Length sent beside
   * {@code chunked} it leaves a mark, so that a request the guard should have refused for it compares unequal.
   */
  private static final class PlainDecoder extends HttpRequestDecoder {
    static final String HAD_CONTENT_LENGTH = "x-fuzz-content-length-dropped";

    PlainDecoder(HttpServerOptions options) {
      super(options.getMaxInitialLineLength(), options.getMaxHeaderSize(), options.getMaxChunkSize(), true,
        options.getDecoderInitialBufferSize());
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
      super.handleTransferEncodingChunkedWithContentLength(message);
      message.headers().add(HAD_CONTENT_LENGTH, "1");
    }
  }

  /** The status and JSON error of a refused request; consistent with what the plain decoder made of it. */
  private static void assertRefusal(FullHttpResponse refusal, Request plainView) {
    int status = refusal.status().code();
    assertTrue(status == 400 || status == 501, "a refusal is 400 or 501, got " + status);
    assertEquals("close", refusal.headers().get(HttpHeaderNames.CONNECTION));
    assertEquals("application/json", refusal.headers().get(HttpHeaderNames.CONTENT_TYPE));
    JsonObject body = new JsonObject(refusal.content().toString(StandardCharsets.UTF_8));
    assertInstanceOf(String.class, body.getValue("error"), body.encode());
    assertEquals(refusal.content().readableBytes(), refusal.headers().getInt(HttpHeaderNames.CONTENT_LENGTH));
    if (plainView != null && !plainView.failed) {
      // only the version, framing and Host are refused: the plain decoder saw a version other than 1.x, a
      // Transfer-Encoding (it may have dropped a Content-Length beside it), or the Host is missing or not host[:port]
      JsonObject detail = body.getJsonObject("detail");
      String header = detail.getString("header");
      if (detail.containsKey("version")) {
        assertTrue(!plainView.version.equals("HTTP/1.1") && !plainView.version.equals("HTTP/1.0"),
          "refused the version of an HTTP/1.x request: " + body);
      } else if ("Transfer-Encoding".equals(header)) {
        assertTrue(plainView.has("transfer-encoding"), "refused a Transfer-Encoding the request lacks: " + body);
      } else {
        assertEquals("Host", header, body.encode());
      }
    }
  }

  private static byte[] latin1(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  /** Runs the input through a channel: the decoder, the guard when given, and a stand-in for Vert.x that answers. */
  private static Parsed parse(HttpRequestDecoder decoder, HttpGuard guard, byte[] input, int[] splits,
      boolean halfClose) {
    Parsed parsed = new Parsed();
    EmbeddedChannel channel = new EmbeddedChannel();
    channel.pipeline().addLast(Wire.HTTP_DECODER, decoder);
    if (guard != null) {
      channel.pipeline().addLast(Wire.HTTP_GUARD, guard);
    }
    channel.pipeline().addLast(Wire.VERTX_HANDLER, parsed);
    parsed.channel = channel;
    int at = 0;
    for (int i = 0; at < input.length && channel.isOpen(); i++) {
      int size = i < splits.length ? Math.min(splits[i], input.length - at) : input.length - at;
      // writeInbound rethrows whatever a handler threw: a crash of the fuzz test
      channel.writeInbound(Unpooled.wrappedBuffer(input, at, size));
      at += size;
    }
    if (halfClose && channel.isOpen()) {
      channel.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
      channel.checkException();
    }
    Object out;
    while ((out = channel.readOutbound()) != null) {
      parsed.responses.add((FullHttpResponse) out);
    }
    return parsed;
  }

  /** What a decoder made of a request: its head, its body so far, whether it ended, and whether decoding failed. */
  record Request(String method, String uri, String version, List<Map.Entry<String, String>> headers, String body,
      boolean ended, boolean failed) {
    boolean has(String name) {
      return !values(name).isEmpty();
    }

    List<String> values(String name) {
      return headers.stream().filter(h -> h.getKey().equalsIgnoreCase(name)).map(Map.Entry::getValue).toList();
    }
  }

  /**
   * The handler in Vert.x's place: records what reaches it and answers each request in order as Vert.x does (a
   * request it cannot read: 414, 431 or 400 and close; a body that breaks off: close).
   */
  private static final class Parsed extends ChannelInboundHandlerAdapter {
    EmbeddedChannel channel;
    final List<Request> requests = new ArrayList<>();
    final List<FullHttpResponse> responses = new ArrayList<>();
    /** Responses this handler wrote. */
    int answered;
    /** A request whose body had not ended when the input did. */
    boolean unfinished;
    /** The decoder failed on a request (which Vert.x answers, then closes). */
    boolean failed;
    private HttpRequest head;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof HttpRequest request) {
          head = request;
          body.reset();
          unfinished = true;
          if (request.decoderResult().isFailure()) {
            record(false, true);
            Throwable cause = request.decoderResult().cause();
            answer(ctx, cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
              : cause instanceof TooLongHttpHeaderException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
              : HttpResponseStatus.BAD_REQUEST);
            ctx.close();
            return;
          }
        }
        if (msg instanceof HttpContent content) {
          if (content.decoderResult().isFailure()) {
            record(false, true);
            ctx.close();
            return;
          }
          byte[] bytes = new byte[content.content().readableBytes()];
          content.content().getBytes(content.content().readerIndex(), bytes);
          body.writeBytes(bytes);
          if (content instanceof LastHttpContent last) {
            last.trailingHeaders().forEach(h -> body.writeBytes(latin1("\n" + h.getKey() + ": " + h.getValue())));
            record(true, false);
            answer(ctx, HttpResponseStatus.OK);
          }
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    private void record(boolean ended, boolean failedNow) {
      unfinished = !ended && !failedNow;
      failed |= failedNow;
      if (failedNow) {
        // what a decoder keeps of a request it could not read is its own (Netty's: "GET /bad-request HTTP/1.0");
        // that it failed is what counts, and that Vert.x answers it with an error
        requests.add(new Request("", "", "", List.of(), "", false, true));
        head = null;
        return;
      }
      requests.add(new Request(head.method().name(), head.uri(), head.protocolVersion().text(),
        head.headers().entries().stream().map(e -> Map.entry(e.getKey(), e.getValue())).toList(),
        body.toString(StandardCharsets.ISO_8859_1), ended, failedNow));
      head = null;
    }

    private void answer(ChannelHandlerContext ctx, HttpResponseStatus status) {
      answered++;
      ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.EMPTY_BUFFER));
    }

    void release() {
      responses.forEach(ReferenceCountUtil::release);
      channel.finishAndReleaseAll();
    }
  }
}
