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
 *       decoder has skipped all that came after it.</li>
 * </ul>
 * Per request it costs two type checks and two increments; nothing is allocated.
 */
final class HttpGuard extends ChannelDuplexHandler {

  private static final Logger log = LoggerFactory.getLogger(HttpGuard.class);

  private int requests;
  private int responses;
  private boolean inputShutdown;
  private RejectedRequest rejected;

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
    }
    super.channelRead(ctx, msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    if (msg instanceof LastHttpContent && !interim(msg) && ++responses == requests && (inputShutdown || rejected != null)) {
      if (rejected != null) {
        ctx.write(msg, promise);
        reject(ctx);
      } else {
        // the last response owed to a client that half-closed: once it is out, so is the connection
        ChannelPromise written = promise.unvoid();
        ctx.write(msg, written);
        written.addListener(ChannelFutureListener.CLOSE);
      }
      return;
    }
    super.write(ctx, msg, promise);
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
