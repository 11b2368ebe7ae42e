package io.edgecache.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.Channel;

/**
 * A client connection's buffer allocator, which remembers that one of its allocations found no
 * memory: the connection may have lost bytes it was about to send, so {@link DirectWriteGuard}
 * lets nothing more out.
 *
 * <p>Why a write's outcome is not enough: the TLS handler takes what the connection writes into a
 * queue and encrypts it later, 16 KiB at a time, into a buffer from this allocator. When that
 * buffer cannot be had, the 16 KiB taken from the queue are dropped; if they were the middle of one
 * larger write (a body sent whole from its direct copy) no write fails at all. And when that
 * happened while the handler was decoding what the client sent, it encrypts and sends what is
 * still queued before it gives up (Netty 4.2.18, {@code SslHandler.handleUnwrapThrowable}): the
 * client got the body with 16 KiB missing and every record intact. Noting the failure here, where
 * it happens, lets the guard below the TLS handler drop those records before they leave and close
 * the connection; the client sees a truncated transfer, never wrong bytes.
 *
 * <p>Allocations go straight to the allocator the connection had; one field is written when one
 * fails. The buffers' own {@link ByteBuf#alloc()} is that allocator, so a buffer that grows is not
 * seen here (the TLS handler sizes its buffer ahead).
 */
final class NotingAllocator implements ByteBufAllocator {
  /** Netty's default initial capacity ({@code AbstractByteBufAllocator}). */
  private static final int INITIAL = 256;
  private final ByteBufAllocator inner;
  /** The first allocation failure, or null; set on whichever thread allocated. */
  private volatile OutOfMemoryError failure;
  /** The connection was closed for want of memory. Event loop only. */
  private boolean closed;

  private NotingAllocator(ByteBufAllocator inner) {
    this.inner = inner;
  }

  /** {@code ch}'s allocator, made one that notes failures if it was not already. */
  static NotingAllocator of(Channel ch) {
    ByteBufAllocator a = ch.config().getAllocator();
    if (a instanceof NotingAllocator n) {
      return n;
    }
    NotingAllocator n = new NotingAllocator(a);
    ch.config().setAllocator(n);
    return n;
  }

  /** The first allocation of this connection that found no memory, or null. */
  OutOfMemoryError failure() {
    return failure;
  }

  /** True the first time only: the connection is closed for want of memory, and counted once. */
  boolean firstClose() {
    if (closed) {
      return false;
    }
    closed = true;
    return true;
  }

  private OutOfMemoryError noted(OutOfMemoryError e) {
    if (failure == null) {
      failure = e;
    }
    return e;
  }

  // the shorter forms take the defaults every Netty allocator has (256 bytes, no maximum)
  @Override
  public ByteBuf buffer() {
    return buffer(INITIAL);
  }

  @Override
  public ByteBuf buffer(int initialCapacity) {
    return buffer(initialCapacity, Integer.MAX_VALUE);
  }

  @Override
  public ByteBuf buffer(int initialCapacity, int maxCapacity) {
    try {
      return inner.buffer(initialCapacity, maxCapacity);
    } catch (OutOfMemoryError e) {
      throw noted(e);
    }
  }

  @Override
  public ByteBuf ioBuffer() {
    return ioBuffer(INITIAL);
  }

  @Override
  public ByteBuf ioBuffer(int initialCapacity) {
    return ioBuffer(initialCapacity, Integer.MAX_VALUE);
  }

  @Override
  public ByteBuf ioBuffer(int initialCapacity, int maxCapacity) {
    try {
      return inner.ioBuffer(initialCapacity, maxCapacity);
    } catch (OutOfMemoryError e) {
      throw noted(e);
    }
  }

  @Override
  public ByteBuf heapBuffer() {
    return heapBuffer(INITIAL);
  }

  @Override
  public ByteBuf heapBuffer(int initialCapacity) {
    return heapBuffer(initialCapacity, Integer.MAX_VALUE);
  }

  @Override
  public ByteBuf heapBuffer(int initialCapacity, int maxCapacity) {
    try {
      return inner.heapBuffer(initialCapacity, maxCapacity);
    } catch (OutOfMemoryError e) {
      throw noted(e);
    }
  }

  @Override
  public ByteBuf directBuffer() {
    return directBuffer(INITIAL);
  }

  @Override
  public ByteBuf directBuffer(int initialCapacity) {
    return directBuffer(initialCapacity, Integer.MAX_VALUE);
  }

  @Override
  public ByteBuf directBuffer(int initialCapacity, int maxCapacity) {
    try {
      return inner.directBuffer(initialCapacity, maxCapacity);
    } catch (OutOfMemoryError e) {
      throw noted(e);
    }
  }

  @Override
  public CompositeByteBuf compositeBuffer() {
    return inner.compositeBuffer();
  }

  @Override
  public CompositeByteBuf compositeBuffer(int maxNumComponents) {
    return inner.compositeBuffer(maxNumComponents);
  }

  @Override
  public CompositeByteBuf compositeHeapBuffer() {
    return inner.compositeHeapBuffer();
  }

  @Override
  public CompositeByteBuf compositeHeapBuffer(int maxNumComponents) {
    return inner.compositeHeapBuffer(maxNumComponents);
  }

  @Override
  public CompositeByteBuf compositeDirectBuffer() {
    return inner.compositeDirectBuffer();
  }

  @Override
  public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) {
    return inner.compositeDirectBuffer(maxNumComponents);
  }

  @Override
  public boolean isDirectBufferPooled() {
    return inner.isDirectBufferPooled();
  }

  @Override
  public int calculateNewCapacity(int minNewCapacity, int maxCapacity) {
    return inner.calculateNewCapacity(minNewCapacity, maxCapacity);
  }
}
