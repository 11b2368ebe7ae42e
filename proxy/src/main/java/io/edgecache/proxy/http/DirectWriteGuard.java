package io.edgecache.proxy.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.net.impl.VertxConnection;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops a client connection at its first write that found no memory: that write is lost, so no
 * later one may reach the client, and the connection is closed.
 *
 * <p>The transport copies each heap buffer it is given (a memory or disk body) into a direct one.
 * When {@code -XX:MaxDirectMemorySize} is used up (many stalled readers hold what they have
 * queued, see {@link ClientQueue}) that copy fails with an {@code OutOfMemoryError}: the write's
 * promise fails, its bytes are dropped, and nothing else happens. Left alone, the next slice of
 * the same body, written a moment later when some memory was free again, went out after the gap:
 * a client got the body with 32 KiB missing in the middle and the right length. Or, when nothing
 * followed, the client waited for the rest forever.
 *
 * <p>This handler sits between the HTTP codec and Vert.x, where every write of the connection
 * passes in order, and looks at each write's outcome: after an {@code OutOfMemoryError} (in the
 * encoder or the transport) every later write is dropped and the connection closes. The client
 * sees a truncated transfer, as for any failure after the head, never wrong bytes; what the
 * connection had queued is freed. The cost per write is a look at its promise once written. On a
 * TLS connection, HTTP/1.x or HTTP/2, a second guard sits below the TLS handler, where the
 * encrypted records meet the transport ({@link #installBelowTls}). Both also stop once any
 * allocation of the connection found no memory ({@link NotingAllocator}): a failure inside the TLS
 * handler drops bytes that no write's outcome reports.
 */
final class DirectWriteGuard extends ChannelDuplexHandler {
  private static final Logger log = LoggerFactory.getLogger(DirectWriteGuard.class);
  private static final String TLS_NAME = "edgecache-direct-write-guard-tls";
  /** Connections closed for want of memory, since start. */
  static final AtomicLong CLOSED = new AtomicLong();
  /** The connection's allocator, which tells whether any of its allocations found no memory. */
  private final NotingAllocator alloc;
  /** Below the TLS handler: closing here goes straight to the socket. */
  private final boolean belowTls;
  /** A write failed for want of memory: nothing more goes out. Event loop only. */
  private boolean stopped;

  private DirectWriteGuard(NotingAllocator alloc, boolean belowTls) {
    this.alloc = alloc;
    this.belowTls = belowTls;
  }

  /** Puts a guard on {@code conn}'s channel, between its HTTP codec and Vert.x. */
  static void install(VertxConnection conn) {
    ChannelHandlerContext vertx = conn.channelHandlerContext();
    vertx.pipeline().addBefore(vertx.name(), "edgecache-direct-write-guard",
        new DirectWriteGuard(NotingAllocator.of(vertx.channel()), false));
  }

  /**
   * On a TLS connection (HTTP/1.x or HTTP/2), puts a guard below the TLS handler too, next to the
   * transport: the TLS handler queues what it is given and encrypts it at flush, so a guard above
   * it never sees that write fail. A record the transport could not copy is lost after it was
   * sealed, and every later record then fails the client's decryption (its nonce counts records):
   * no wrong bytes reach the client, but the connection is dead and would go on sending what
   * nobody can read. The guard closes it at once and counts it.
   */
  static void installBelowTls(Channel ch) {
    if (ch.pipeline().get(SslHandler.class) != null && ch.pipeline().get(TLS_NAME) == null) {
      ch.pipeline().addFirst(TLS_NAME, new DirectWriteGuard(NotingAllocator.of(ch), true));
    }
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (!stopped && alloc.failure() != null) {
      stop(ctx, alloc.failure()); // e.g. the TLS handler lost what it was encrypting
    }
    if (stopped) {
      ReferenceCountUtil.release(msg);
      promise.tryFailure(new java.nio.channels.ClosedChannelException());
      return;
    }
    ctx.write(msg, promise);
    // the encoder and the transport's copy into direct memory run within that call, so a write
    // that found no memory has failed by now: no listener is needed (it cost a few percent of a
    // 1 KiB hit); a void promise reports the failure through exceptionCaught instead
    if (!promise.isVoid() && promise.isDone() && promise.cause() instanceof OutOfMemoryError oom) {
      stop(ctx, oom);
    } else if (alloc.failure() != null) {
      stop(ctx, alloc.failure());
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // a failure in a decoder arrives wrapped (DecoderException); a few levels are enough
    Throwable t = cause;
    for (int depth = 0; t != null && depth < 4; depth++, t = t.getCause()) {
      if (t instanceof OutOfMemoryError) {
        stop(ctx, t);
        return;
      }
    }
    ctx.fireExceptionCaught(cause);
  }

  private void stop(ChannelHandlerContext ctx, Throwable cause) {
    if (stopped) {
      return;
    }
    stopped = true;
    if (alloc.firstClose()) {
      long n = CLOSED.incrementAndGet();
      if (Long.bitCount(n) == 1) { // the 1st, 2nd, 4th, 8th...: a flood of these is not a flood of lines
        log.warn("closed a client connection whose write found no memory ({} so far): {}", n, cause.toString());
      }
    }
    if (belowTls) {
      ctx.close(); // the socket only: the TLS handler may be in the middle of its own work
    } else {
      ctx.channel().close();
    }
  }
}
