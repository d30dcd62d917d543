package dev.fibservice.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.http.HttpConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Between Vert.x's HTTP codec and its connection, on one HTTP/1.x channel: counts the requests that come in and the
 * final responses that go out, so that it knows when every request received so far has been answered (Vert.x answers
 * pipelined requests one at a time, in order). With that it
 * <ul>
 *   <li>closes a half-closed connection (the client sent FIN) once the last request received before the FIN is
 *       answered, or at once when nothing is pending;</li>
 *   <li>answers a request the decoder refused ({@link RejectedRequest}) in its turn, after the responses owed before
 *       it, with a JSON error and {@code Connection: close}, then closes. Vert.x never sees that request, and the
 *       decoder has skipped all that came after it;</li>
 *   <li>keeps the connection's header and idle timeouts ({@link HttpGuards}) on its sweep: waiting for a request
 *       (idle), from a request's first byte to its headers (header), in a request (idle, counting traffic either way);
 *       a WebSocket after its upgrade is only ever waiting (its frames count as traffic);</li>
 *   <li>reports the connection's failures and its close ({@link HttpGuards.Listener}), so that nothing else needs a
 *       handler or an entry of its own per connection.</li>
 * </ul>
 * Per request it costs a few type checks, increments and flag writes; nothing is allocated.
 */
final class HttpGuard extends ChannelDuplexHandler implements TimeoutSweep.Timed {

  private static final Logger log = LoggerFactory.getLogger(HttpGuard.class);

  /** Waiting for a request: the idle timeout. */
  private static final byte WAITING = 0;
  /** A request's first bytes are in, its headers not yet: the header timeout, which traffic does not extend. */
  private static final byte HEAD = 1;
  /** Requests received are not all answered: the idle timeout, counting traffic either way. */
  private static final byte BUSY = 2;

  private final HttpGuards guards;
  private final HttpConnection connection;
  private GuardedRequestDecoder decoder;
  private int requests;
  private int responses;
  private boolean inputShutdown;
  private RejectedRequest rejected;
  private byte phase = WAITING;
  /** Traffic, or a change of phase, since the sweep's last tick. */
  private boolean touched = true;
  /** The tick at which the current timeout started. */
  private long since;

  HttpGuard(HttpGuards guards, HttpConnection connection) {
    this.guards = guards;
    this.connection = connection;
  }

  /** The decoder ahead of this guard, which tells it of a request's first byte. */
  void decoder(GuardedRequestDecoder decoder) {
    this.decoder = decoder;
  }

  /** The decoder has the first bytes of a request whose headers are not in yet. */
  void headStarted() {
    if (phase == WAITING) {
      phase = HEAD;
      touched = true;
    } else if (phase == BUSY) {
      touched = true;
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    guards.sweep.add(this);
  }

  @Override
  public boolean due(long now) {
    if (touched) {
      touched = false;
      since = now;
      return false;
    }
    return now - since >= (phase == HEAD ? guards.headerTimeoutMs : guards.idleTimeoutMs);
  }

  @Override
  public void expire() {
    log.debug("closing HTTP connection from {}: {}", connection.remoteAddress(), phase == HEAD
      ? "its request's headers took longer than the header timeout" : "no traffic within the idle timeout");
    // through the whole pipeline: after a WebSocket upgrade, the HTTP connection no longer owns the channel
    Wire.channel(connection).close();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof HttpRequest request) {
      DecoderResult result = request.decoderResult();
      if (result.isFailure() && result.cause() instanceof RejectedRequest rejection) {
        ReferenceCountUtil.release(msg);
        rejected = rejection;
        if (responses == requests) {
          reject(ctx);
        }
        return;
      }
      requests++;
      phase = BUSY;
      touched = true;
    } else if (phase != HEAD) {
      // a request's body, or a WebSocket's frames
      touched = true;
    }
    super.channelRead(ctx, msg);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
    guards.listener.failed(connection, cause);
    // an answer already written (a 405 before the body broke off) leaves before Vert.x closes the connection
    ctx.channel().flush();
    super.exceptionCaught(ctx, cause);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    guards.sweep.remove(this);
    guards.listener.closed(connection);
    super.channelInactive(ctx);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    if (phase != HEAD) {
      touched = true;
    }
    if (msg instanceof LastHttpContent && !interim(msg) && ++responses == requests) {
      // all answered: waiting for the next request, unless its first bytes are in already
      phase = decoder != null && decoder.inHead() ? HEAD : WAITING;
      touched = true;
      if (inputShutdown || rejected != null) {
        lastResponse(ctx, msg, promise);
        return;
      }
    }
    super.write(ctx, msg, promise);
  }

  /** The last response owed to a client that half-closed, or before a refused request: then the connection closes. */
  private void lastResponse(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (rejected != null) {
      ctx.write(msg, promise);
      reject(ctx);
    } else {
      // the last response owed to a client that half-closed: once it is out, so is the connection
      ChannelPromise written = promise.unvoid();
      ctx.write(msg, written);
      written.addListener(ChannelFutureListener.CLOSE);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
    if (event instanceof ChannelInputShutdownEvent) {
      // the decoder ahead of us has passed on all it could make of the input (an unfinished request head
      // becomes a bad request that Vert.x answers and counts like any other)
      inputShutdown = true;
      if (responses == requests && rejected == null) {
        ctx.channel().close();
      }
    }
    super.userEventTriggered(ctx, event);
  }

  /** A 1xx response (100 Continue, 103 Early Hints) is not the answer to its request. */
  private static boolean interim(Object msg) {
    return msg instanceof HttpResponse response && response.status().code() < 200;
  }

  private void reject(ChannelHandlerContext ctx) {
    RejectedRequest rejection = rejected;
    log.debug("refused a request: {}", rejection.getMessage());
    ByteBuf body = Unpooled.wrappedBuffer(rejection.body().toBuffer().getBytes());
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
      HttpResponseStatus.valueOf(rejection.status()), body);
    response.headers()
      .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
      .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
      .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    // through the channel's close, so that Vert.x's connection sees it closing as it sees any other close
    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }
}
