package io.edgecache.proxy.http;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Direct-memory copies of the large memory bodies being served, shared by every reader.
 *
 * <p>A socket takes only native memory, so the transport copies every heap buffer it is given into
 * a direct one, per write and per reader: for a 1 MiB memory hit that copy was 11% of the
 * proxy's CPU (perf). Here a body of {@value #MIN_BYTES} bytes or more is copied once, when it is
 * first served, and every later hit on it writes slices of that copy: no copy per request, and a
 * stalled reader holds a share of the one copy instead of a private one.
 *
 * <p>The copies are bounded by their bytes ({@code edgecache.memory.directCopyBytes}, default
 * {@value #DEFAULT_BOUND_BYTES}; 0 turns them off), least recently used first out, and are made
 * only while direct memory is not tight ({@link ClientQueue#tight}). They are keyed by the identity
 * of the stored body, weakly: a body the memory tier dropped is garbage, and its copy goes with
 * it. Stored bodies are never modified (the {@code Entry} contract), so a copy is always the
 * body's bytes.
 *
 * <h2>Ownership</h2>
 * A copy is counted ({@link Copy}): the table holds one reference, and a delivery takes one for
 * itself ({@link #acquire}) and one per write ({@link Copy#retain}), the latter released when the
 * transport has written it or failed to. The memory is freed at the last release, so an evicted
 * copy lives on exactly as long as a write still refers to it.
 *
 * <p>Thread-safe.
 */
final class DirectBodies {
  /** Bodies shorter than this are written from the heap: the copy is cheap, and they are many. */
  static final int MIN_BYTES = 64 * 1024;
  static final long DEFAULT_BOUND_BYTES = 64L << 20;
  /** The bound, from {@code edgecache.memory.directCopyBytes}. */
  static final long BOUND_BYTES = Long.getLong("edgecache.memory.directCopyBytes", DEFAULT_BOUND_BYTES);

  private static final Cache<byte[], Copy> COPIES = Caffeine.newBuilder()
      .weakKeys() // identity, and a body the memory tier dropped takes its copy with it
      .maximumWeight(Math.max(0, BOUND_BYTES))
      .weigher((byte[] body, Copy c) -> body.length)
      .executor(Runnable::run)
      .removalListener((byte[] body, Copy c, RemovalCause cause) -> {
        if (c != null) {
          c.release();
        }
      })
      .build();
  private static final AtomicLong BYTES = new AtomicLong();

  private DirectBodies() {}

  /** Bytes of direct memory the copies hold, evicted ones still being written included. */
  static long bytes() {
    return BYTES.get();
  }

  /** References held by deliveries and writes on the copies in the table (0 when nothing is being sent). */
  static long referencesHeld() {
    long n = 0;
    for (Copy c : COPIES.asMap().values()) {
      n += Math.max(0, c.refs.get() - 1);
    }
    return n;
  }

  /** Drops the table's copy of {@code body}, as an eviction would; for tests. */
  static void forget(byte[] body) {
    COPIES.invalidate(body);
  }

  /**
   * A direct copy of {@code body} with a reference taken for the caller (who releases it once), or
   * null when the body is written from the heap: too short, copies off, or direct memory tight.
   */
  static Copy acquire(byte[] body) {
    if (body.length < MIN_BYTES || BOUND_BYTES < body.length) {
      return null;
    }
    Copy c = COPIES.getIfPresent(body);
    if (c != null && c.tryRetain()) {
      return c;
    }
    if (ClientQueue.tight()) {
      return null;
    }
    Copy made;
    try {
      made = new Copy(body);
    } catch (OutOfMemoryError e) {
      return null; // no direct memory for it: the heap, as before
    }
    made.retain(); // the caller's
    Copy raced = COPIES.asMap().putIfAbsent(body, made);
    if (raced != null) { // another event loop copied it meanwhile: use one, free the other
      made.release();
      made.release();
      return raced.tryRetain() ? raced : null;
    }
    return made;
  }

  /** One body's bytes in direct memory, freed at the last {@link #release}. */
  static final class Copy {
    private final ByteBuf bytes;
    /** References: the table's, the deliveries' and the writes'; 0 once freed, and never again above. */
    private final AtomicInteger refs = new AtomicInteger(1);

    private Copy(byte[] body) {
      ByteBuf b = Unpooled.directBuffer(body.length, body.length);
      b.writeBytes(body);
      this.bytes = b;
      BYTES.addAndGet(body.length);
    }

    /** Bytes {@code offset .. offset + length - 1}, sharing the memory; valid while a reference is held. */
    ByteBuf slice(long offset, long length) {
      return bytes.slice((int) offset, (int) length);
    }

    /** References held now: the table's, the deliveries' and the writes'. */
    int references() {
      return refs.get();
    }

    /** Whether the last reference went and the memory is freed. */
    boolean freed() {
      return refs.get() == 0;
    }

    /** Takes one more reference; the caller must already hold one. */
    void retain() {
      if (refs.getAndIncrement() <= 0) {
        throw new IllegalStateException("direct body copy retained after it was freed");
      }
    }

    /** Takes a reference unless the copy was freed. */
    boolean tryRetain() {
      for (int n = refs.get(); n > 0; n = refs.get()) {
        if (refs.compareAndSet(n, n + 1)) {
          return true;
        }
      }
      return false;
    }

    void release() {
      int n = refs.decrementAndGet();
      if (n == 0) {
        BYTES.addAndGet(-bytes.capacity());
        bytes.release();
      } else if (n < 0) {
        throw new IllegalStateException("direct body copy released more often than retained");
      }
    }
  }
}
