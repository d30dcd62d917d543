package dev.fibservice.net;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.vertx.core.streams.impl.InboundBuffer;

/**
 * Turns a client's FIN (Netty's input-shutdown event, on a channel that allows half-closure) into the end of the
 * socket's data stream, queued behind every byte read before it. Vert.x relays user events at once, ahead of data a
 * paused socket still holds; its end marker instead travels the same queues as the data, so the socket's end handler
 * runs only after its data handler has had every byte. Stateless: one instance serves every channel.
 */
@ChannelHandler.Sharable
final class InputEnd extends ChannelInboundHandlerAdapter {

  static final InputEnd INSTANCE = new InputEnd();

  private InputEnd() {
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
    if (event instanceof ChannelInputShutdownEvent) {
      ctx.fireChannelRead(InboundBuffer.END_SENTINEL);
      // Vert.x flushes and re-arms reading at the end of a read: a read outside Netty's read loop must end too
      ctx.fireChannelReadComplete();
    }
    super.userEventTriggered(ctx, event);
  }
}
