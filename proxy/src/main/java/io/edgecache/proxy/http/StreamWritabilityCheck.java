package io.edgecache.proxy.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2RemoteFlowController;
import io.vertx.core.net.impl.ConnectionBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure no HTTP/2 stream waits forever for a drain that already happened.
 *
 * <p>Vert.x writes a stream's body only while Netty's flow controller says the stream is
 * writable, and learns of every change from the controller's listener, which it counts as a
 * toggle. The controller keeps a mark per stream of what it last reported. When the socket's
 * buffer fills, every stream is reported unwritable; when it drains, every stream whose mark
 * differs from the truth is reported writable again. But the controller sets the connection's
 * mark first and then walks the streams, judging each by the socket's writability <em>at that
 * moment</em>: when the walk itself writes (Vert.x drains a stream's queue as soon as it hears)
 * and the socket fills and drains again before the walk ends, the streams later in the walk keep
 * an "unwritable" mark while they are writable, and the next writability event sees the
 * connection's mark equal to the socket and walks nothing. Those streams then wait for good,
 * their clients get nothing more until the idle timeout closes the connection (seen with disk
 * hits multiplexed on one connection while other streams were reset: 1 connection in 10 stalled).
 *
 * <p>This handler sits after the HTTP/2 codec, so it sees each writability event after the
 * controller has handled it. When the socket is writable it asks the controller to look again at
 * each active stream (a window increment of zero, which changes nothing but the check): a stream
 * whose mark is stale is reported writable then, and Vert.x resumes it. A stream whose mark is
 * right is left as it is. The cost is a walk of the connection's streams per writability event.
 */
final class StreamWritabilityCheck extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(StreamWritabilityCheck.class);
  private final Http2ConnectionHandler codec;

  private StreamWritabilityCheck(Http2ConnectionHandler codec) {
    this.codec = codec;
  }

  /** Puts a check after {@code conn}'s HTTP/2 codec; does nothing for other connections. */
  static void install(ConnectionBase conn) {
    ChannelHandlerContext vertx = conn.channelHandlerContext();
    if (vertx.handler() instanceof Http2ConnectionHandler codec) {
      vertx.pipeline().addAfter(vertx.name(), "edgecache-stream-writability", new StreamWritabilityCheck(codec));
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (ctx.channel().isWritable()) {
      recheck();
    }
    super.channelWritabilityChanged(ctx);
  }

  private void recheck() {
    Http2RemoteFlowController flow = codec.encoder().flowController();
    try {
      codec.connection().forEachActiveStream(stream -> {
        flow.incrementWindowSize(stream, 0);
        return true;
      });
    } catch (Http2Exception e) {
      log.debug("stream writability re-check stopped: {}", e.toString());
    }
  }
}
