package io.edgecache.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends a connection whose read found no direct memory, instead of losing its event loop.
 *
 * <p>On io_uring the transport takes a receive buffer when a socket turns readable, inside its
 * completion loop. When {@code -XX:MaxDirectMemorySize} is used up (stalled readers hold what they
 * have queued), that allocation's {@code OutOfDirectMemoryError} escapes the loop and ends the
 * event loop's thread: every connection on it hangs and nothing more is answered there (Netty
 * 4.2.18; {@code DirectMemoryJarIT} saw it in about one run in five). On epoll the same failure
 * reaches the pipeline, where {@link DirectWriteGuard} closes the connection.
 *
 * <p>Here the allocation that found no memory gets an empty buffer instead: the transport reads
 * nothing, takes that as the end of the stream and closes this one connection; its client sees it
 * closed, as after any failure, and the event loop and every other connection on it go on. Every
 * io_uring socket of the proxy's Vert.x gets the guard from {@link GuardedTransport}, the cluster's
 * event-bus links included; only io_uring ones: epoll would take an empty read for "no data yet"
 * and wait.
 *
 * <p>Thread-safe; the handles it makes are used on their channel's event loop.
 */
public final class ReadMemoryGuard implements RecvByteBufAllocator {
  private static final Logger log = LoggerFactory.getLogger(ReadMemoryGuard.class);
  private static final AtomicLong ENDED = new AtomicLong();

  /** The io_uring socket channel's class (a runtime dependency only). */
  private static final String IO_URING_SOCKET = "io.netty.channel.uring.IoUringSocketChannel";

  private final RecvByteBufAllocator inner;

  private ReadMemoryGuard(RecvByteBufAllocator inner) {
    this.inner = inner;
  }

  /** Connections ended because a read found no memory, since start (the metric's source). */
  public static AtomicLong ended() {
    return ENDED;
  }

  /**
   * Puts the guard on {@code ch} when it is an io_uring socket, before its first read:
   * {@link GuardedTransport} does so for every socket Vert.x makes.
   */
  static void install(Channel ch) {
    if (!ch.getClass().getName().equals(IO_URING_SOCKET)) {
      return;
    }
    ChannelConfig config = ch.config();
    RecvByteBufAllocator current = config.getRecvByteBufAllocator();
    if (!(current instanceof ReadMemoryGuard)) {
      config.setRecvByteBufAllocator(new ReadMemoryGuard(current));
    }
  }

  @Override
  public Handle newHandle() {
    return new Guarded((ExtendedHandle) inner.newHandle());
  }

  /** The transport's handle, but an allocation that found no memory reads nothing. */
  private static final class Guarded extends DelegatingHandle implements ExtendedHandle {
    Guarded(ExtendedHandle delegate) {
      super(delegate);
    }

    @Override
    public ByteBuf allocate(ByteBufAllocator alloc) {
      try {
        return super.allocate(alloc);
      } catch (OutOfMemoryError e) {
        long n = ENDED.incrementAndGet();
        if (Long.bitCount(n) == 1) { // the 1st, 2nd, 4th, 8th...
          log.warn("ended a connection whose read found no memory ({} so far): {}", n, e.toString());
        }
        return Unpooled.EMPTY_BUFFER; // direct, no room: read as the end of the stream
      }
    }

    @Override
    public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
      return ((ExtendedHandle) delegate()).continueReading(maybeMoreDataSupplier);
    }
  }
}
