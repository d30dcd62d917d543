package dev.fibservice.net;

import dev.fibservice.api.Text;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.impl.HostAndPortImpl;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Vert.x's HTTP/1.x request decoder, refusing the framing a request smuggler relies on before any byte of its body is
 * read (RFC 9112 sections 6.1 and 6.3), and any version but HTTP/1.1 and HTTP/1.0 (section 2.3): Transfer-Encoding together with Content-Length, Transfer-Encoding in an
 * HTTP/1.0 request, and any Transfer-Encoding but a final chunked; also an HTTP/1.1 request without Host, and a Host
 * that is not host[:port] (section 3.2; Vert.x's router would fail on it with a 500). The check runs in the decoder because the decoder itself removes a Content-Length sent beside
 * {@code chunked}. A refused request becomes a failed decoder result carrying a {@link RejectedRequest}, and the
 * decoder skips every byte after it, so nothing sent behind it is ever parsed as a request of its own; {@link
 * HttpGuard} answers it. It also tells the guard when a request's first byte is in, which starts the header timeout.
 * Per request it costs two header look-ups and a scan of the Host value, no allocation.
 */
final class GuardedRequestDecoder extends VertxHttpRequestDecoder {

  private static final String CHUNKED = "chunked";

  private final HttpGuard guard;
  /** Bytes of a request have come and its headers are not all in yet. */
  private boolean inHead;
  /** A request's headers are in and its body (if any) is not yet. */
  private boolean inBody;

  GuardedRequestDecoder(HttpServerOptions options, HttpGuard guard) {
    super(options);
    this.guard = guard;
    guard.decoder(this);
  }

  /** Whether bytes of a request have come whose headers are not all in yet. */
  boolean inHead() {
    return inHead;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
    if (!inHead && !inBody && buffer.isReadable()) {
      inHead = true;
      guard.headStarted();
    }
    int from = out.size();
    super.decode(ctx, buffer, out);
    for (int i = from; i < out.size(); i++) {
      Object msg = out.get(i);
      if (msg instanceof HttpRequest) {
        inHead = false;
        inBody = true;
      }
      if (msg instanceof LastHttpContent) {
        inBody = false;
      }
    }
  }

  /**
   * The header's name as sent. Vert.x's decoder recognizes its common names by all bytes but the ninth, so that
   * {@code Content-\u000bype} was Content-Type and {@code Content-Xength} Content-Length (a name a proxy in front
   * ignores, framing the body here: request smuggling). Found by fuzzing (HttpServerFuzzTest, then
   * HttpDecoderFuzzTest's crash-name-read-as-content-length); a name it mistook is taken as sent, which Netty's header
   * validation then refuses when it is not a token.
   */
  @Override
  protected AsciiString splitHeaderName(byte[] sb, int start, int length) {
    AsciiString name = super.splitHeaderName(sb, start, length);
    for (int i = 0; i < length; i++) {
      if (lower(sb[start + i]) != lower(name.byteAt(i))) {
        return new AsciiString(sb, start, length, true);
      }
    }
    return name;
  }

  private static int lower(byte b) {
    return b >= 'A' && b <= 'Z' ? b + ('a' - 'A') : b;
  }

  /** Called by the decoder once a request's headers are in, before it decides how the body is framed. */
  @Override
  protected boolean isContentAlwaysEmpty(HttpMessage msg) {
    if (msg instanceof HttpRequest request) {
      check(request);
    }
    return super.isContentAlwaysEmpty(msg);
  }

  static void check(HttpRequest request) {
    HttpVersion version = request.protocolVersion();
    if (version != HttpVersion.HTTP_1_1 && version != HttpVersion.HTTP_1_0) {
      // Vert.x's decoder takes any "name/d.d" (Netty's own only "HTTP/d.d"), and its request then has no version: a
      // null that the routes were never meant to meet (found by fuzzing: "GET /fib/30 HPTP/1.1")
      String text = Text.abbreviate(version.text(), 20);
      throw new RejectedRequest(400, "the request line must end in HTTP/1.1 or HTTP/1.0, got '" + text
        + "' (RFC 9112, section 2.3)", new JsonObject().put("version", text));
    }
    HttpHeaders headers = request.headers();
    if (headers.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
      transferEncoding(request, headers);
    }
    // the decoder keeps header values as the Strings it made: this get() allocates nothing
    String host = headers.get(HttpHeaderNames.HOST);
    if (host == null) {
      if (request.protocolVersion() == HttpVersion.HTTP_1_1) {
        throw new RejectedRequest(400, "an HTTP/1.1 request must carry a Host header (RFC 9112, section 3.2)",
          new JsonObject().put("header", "Host"));
      }
    } else if (!host.isEmpty() && !HostAndPortImpl.isValidAuthority(host)) {
      throw new RejectedRequest(400, "the Host header must be host[:port], got '" + Text.abbreviate(host, 60)
        + "' (RFC 9112, section 3.2)", new JsonObject().put("header", "Host").put("value", Text.abbreviate(host, 60)));
    }
  }

  private static void transferEncoding(HttpRequest request, HttpHeaders headers) {
    String value = String.join(", ", headers.getAll(HttpHeaderNames.TRANSFER_ENCODING));
    JsonObject detail = new JsonObject().put("header", "Transfer-Encoding").put("value", Text.abbreviate(value, 60));
    if (headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
      throw new RejectedRequest(400, "a request must not carry both Content-Length and Transfer-Encoding: its body"
        + " length is ambiguous (RFC 9112, section 6.1)", detail);
    }
    if (request.protocolVersion() != HttpVersion.HTTP_1_1) {
      throw new RejectedRequest(400, "Transfer-Encoding is not allowed in an " + request.protocolVersion().text()
        + " request (RFC 9112, section 6.1)", detail);
    }
    List<String> codings = new ArrayList<>();
    for (String coding : value.split(",")) {
      String name = coding.trim().toLowerCase(Locale.ROOT);
      if (!name.isEmpty()) {
        codings.add(name);
      }
    }
    if (codings.isEmpty() || !CHUNKED.equals(codings.get(codings.size() - 1))) {
      throw new RejectedRequest(400, "chunked must be the final transfer coding of a request, got Transfer-Encoding: '"
        + Text.abbreviate(value, 60) + "' (RFC 9112, section 6.3)", detail);
    }
    List<String> before = codings.subList(0, codings.size() - 1);
    if (before.contains(CHUNKED)) {
      throw new RejectedRequest(400, "chunked must not be applied more than once (RFC 9112, section 7)", detail);
    }
    if (!before.isEmpty()) {
      throw new RejectedRequest(501, "transfer coding '" + Text.abbreviate(before.get(0), 60) + "' is not supported;"
        + " send the body with Transfer-Encoding: chunked alone, or with Content-Length", detail);
    }
  }
}
