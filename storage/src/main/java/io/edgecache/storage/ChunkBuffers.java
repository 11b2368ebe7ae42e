package io.edgecache.storage;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;
import io.netty.util.internal.CleanableDirectBuffer;
import io.netty.util.internal.PlatformDependent;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where chunks read off disk live until a socket has taken them: direct buffers the disk tier
 * keeps for reuse, so that what it holds can be counted ({@link #held}) and a leak would show.
 *
 * <p>Why its own: a chunk is allocated on a disk worker and freed on an event loop, in sizes of a
 * whole chunk (512 KiB by default). Netty's pooled allocator, without thread caches for that
 * reason, gave its 4 MiB pages back to the system whenever they emptied and mapped new ones a
 * moment later: page faults and zeroing on every few reads, which made 1 MiB disk hits slower than
 * copying through the heap (measured). Here a freed buffer of 64 KiB or more waits in a queue of
 * its size (rounded up to 64 KiB) for the next read, up to {@link #IDLE_MAX_BYTES} waiting in all;
 * smaller ones and those past that bound are freed at once.
 *
 * <p>Direct memory is the transport's too (every heap buffer written to a socket is copied into
 * it), so the disk tier uses it only while it is not {@linkplain #directMemoryTight tight}, the
 * measure the proxy's write queues and body copies go by too; past it, and when an allocation
 * finds no memory, chunks are read into heap arrays as they were before direct reads.
 *
 * <p>Thread-safe.
 */
public final class ChunkBuffers {
  /** Buffers of this size and larger are kept for reuse; sizes are rounded up to a multiple of it. */
  static final int POOLED_GRAIN = 64 * 1024;
  /** Bytes of freed buffers kept for reuse, at most. */
  static final long IDLE_MAX_BYTES = 32L << 20;

  private static final Map<Integer, Queue<CleanableDirectBuffer>> IDLE = new ConcurrentHashMap<>();
  private static final AtomicLong IDLE_BYTES = new AtomicLong();
  private static final AtomicLong HELD = new AtomicLong();

  /** The JDK's count of its direct buffers, which Netty's are when Netty does not count its own. */
  private static final BufferPoolMXBean JDK_DIRECT = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)
      .stream().filter(b -> "direct".equals(b.getName())).findFirst().orElse(null);

  private ChunkBuffers() {}

  /**
   * Direct memory in use: Netty's own count when it keeps one (as the jar runs it), else the JDK's
   * direct buffers. The one measure the disk tier and the proxy's write queues go by.
   */
  public static long directMemoryUsed() {
    long used = PlatformDependent.usedDirectMemory(); // -1 when Netty does not count its own
    if (used >= 0) {
      return used;
    }
    return JDK_DIRECT != null ? JDK_DIRECT.getMemoryUsed() : 0;
  }

  /** Whether more than half of {@code -XX:MaxDirectMemorySize} is in use: then nothing optional goes there. */
  public static boolean directMemoryTight() {
    return directMemoryUsed() > PlatformDependent.maxDirectMemory() / 2;
  }

  /**
   * Chunk buffers handed out and not yet released, across every disk store of this JVM: those of
   * this pool and those over LevelDB's own memory ({@link Leases}).
   */
  public static long held() {
    return HELD.get();
  }

  /** Counts {@code delta} buffers over LevelDB's memory as handed out (negative: released). */
  static void leased(int delta) {
    HELD.addAndGet(delta);
  }

  /**
   * An empty direct buffer for {@code length} bytes, owned by the caller (released once).
   *
   * @throws OutOfMemoryError when no direct memory is left
   */
  static ByteBuf allocate(int length) {
    int capacity = length < POOLED_GRAIN ? Math.max(length, 1) : roundUp(length);
    CleanableDirectBuffer memory = null;
    if (capacity >= POOLED_GRAIN) {
      Queue<CleanableDirectBuffer> q = IDLE.get(capacity);
      memory = q == null ? null : q.poll();
      if (memory != null) {
        IDLE_BYTES.addAndGet(-capacity);
      }
    }
    if (memory == null) {
      // Netty's counted, explicitly freed direct memory where it keeps one (as the jar runs it);
      // freeing it is this pool's job, so an expensive explicit free is allowed
      memory = PlatformDependent.allocateDirect(capacity, true);
    }
    memory.buffer().clear();
    HELD.incrementAndGet();
    return new Chunk(memory);
  }

  private static int roundUp(int length) {
    long r = ((long) length + POOLED_GRAIN - 1) / POOLED_GRAIN * POOLED_GRAIN;
    return (int) Math.min(r, Integer.MAX_VALUE - 16);
  }

  private static void recycle(CleanableDirectBuffer memory) {
    HELD.decrementAndGet();
    int capacity = memory.buffer().capacity();
    if (capacity >= POOLED_GRAIN && capacity % POOLED_GRAIN == 0
        && IDLE_BYTES.addAndGet(capacity) <= IDLE_MAX_BYTES) {
      IDLE.computeIfAbsent(capacity, c -> new ConcurrentLinkedQueue<>()).offer(memory);
      return;
    }
    if (capacity >= POOLED_GRAIN && capacity % POOLED_GRAIN == 0) {
      IDLE_BYTES.addAndGet(-capacity);
    }
    memory.clean();
  }

  /** A direct buffer over memory of the pool; its last release gives the memory back. */
  private static final class Chunk extends UnpooledUnsafeDirectByteBuf {
    private CleanableDirectBuffer memory;

    Chunk(CleanableDirectBuffer memory) {
      super(ByteBufAllocator.DEFAULT, memory.buffer(), memory.buffer().capacity());
      this.memory = memory;
      clear();
    }

    @Override
    protected void deallocate() {
      CleanableDirectBuffer m = memory;
      memory = null;
      if (m != null) {
        recycle(m);
      }
    }
  }
}
