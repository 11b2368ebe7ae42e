package io.edgecache.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.LastHttpContent;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.VertxConnection;
import java.lang.reflect.Method;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a broken origin response from poisoning the next request on the same pooled connection.
 *
 * <p>With pipelining off, nothing legitimate can follow a complete response before the next
 * request is sent. An origin that sends more body bytes than its Content-Length announced leaves
 * those bytes in the decoder; left there, they would be read as the start of the <em>next</em>
 * response and fail an innocent request (which a retry would then send twice). At the end of each
 * response this guard looks at what the decoder still holds; if anything, it drops it and closes
 * the connection so the pool never hands it out again. Uses Netty's decoder buffer through
 * reflection; if that is not possible the guard is simply not installed.
 */
final class OriginFramingGuard extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(OriginFramingGuard.class);
  private static final Method INTERNAL_BUFFER = method(ByteToMessageDecoder.class, "internalBuffer");
  private static final Method INBOUND_HANDLER = method(io.netty.channel.CombinedChannelDuplexHandler.class, "inboundHandler");

  private final ByteToMessageDecoder decoder;

  private OriginFramingGuard(ByteToMessageDecoder decoder) {
    this.decoder = decoder;
  }

  static void install(HttpConnection conn) {
    if (INTERNAL_BUFFER == null || INBOUND_HANDLER == null || !(conn instanceof VertxConnection vc)) {
      return;
    }
    try {
      ChannelPipeline p = vc.channelHandlerContext().pipeline();
      HttpClientCodec codec = p.get(HttpClientCodec.class);
      if (codec != null && INBOUND_HANDLER.invoke(codec) instanceof ByteToMessageDecoder d) {
        p.addAfter(p.context(codec).name(), "edgecache-framing-guard", new OriginFramingGuard(d));
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.debug("origin framing guard not installed: {}", e.toString());
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    int leftover = 0;
    if (msg instanceof LastHttpContent) {
      ByteBuf held = (ByteBuf) INTERNAL_BUFFER.invoke(decoder);
      if (held != null && held.isReadable()) {
        leftover = held.readableBytes();
        held.skipBytes(leftover);
      }
    }
    ctx.fireChannelRead(msg);
    if (leftover > 0) {
      log.debug("origin {} sent {} bytes beyond its response; closing the connection", ctx.channel().remoteAddress(), leftover);
      ctx.channel().close();
    }
  }

  private static Method method(Class<?> type, String name) {
    try {
      Method m = type.getDeclaredMethod(name);
      m.setAccessible(true);
      return m;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }
}
