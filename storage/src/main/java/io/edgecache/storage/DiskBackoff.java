package io.edgecache.storage;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.iq80.leveldb.DBException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The disk tier's back-off after a failed write: whether it stores now, and when it tries again.
 *
 * <p>A failed write (disk full, I/O error, too little free space) stops all writes for
 * {@link DiskOptions#retryAfter()}; reads keep working. The first write offered after that time
 * turns storing back on, and the first one to commit logs that the tier stores again. The time is
 * read from the injected {@link DiskStore.Hooks#nanoTime()}, so tests move it by hand.
 *
 * <p>Threads: {@link #mayStore} runs on the caller of a write (an event loop, any thread);
 * {@link #writeFailed} and {@link #storingAgain} on the disk workers. Every method is short and
 * non-blocking.
 */
final class DiskBackoff {
  private static final Logger LOG = LoggerFactory.getLogger(DiskStore.class);

  private final DiskOptions options;
  private final LongSupplier nanoTime;
  private final AtomicBoolean degraded = new AtomicBoolean();
  private final LongAdder storeErrors = new LongAdder();
  private volatile boolean storing = true;
  private volatile long resumeAtNanos;

  DiskBackoff(DiskOptions options, LongSupplier nanoTime) {
    this.options = options;
    this.nanoTime = nanoTime;
  }

  /** Whether writes are taken now; turns storing back on once the back-off is over. */
  boolean mayStore() {
    if (storing) {
      return true;
    }
    if (nanoTime.getAsLong() - resumeAtNanos < 0) {
      return false;
    }
    storing = true;
    return true;
  }

  /** Whether the tier stores now (false during a back-off), without ending the back-off. */
  boolean storing() {
    return storing;
  }

  /** LevelDB writes that failed, counted by {@link #writeFailed}. */
  long storeErrors() {
    return storeErrors.sum();
  }

  /** A write committed: logs once that the tier stores again after a failure. */
  void storingAgain() {
    if (degraded.compareAndSet(true, false)) {
      LOG.info("disk tier {}: storing again", options.dir());
    }
  }

  /**
   * Counts a failed write and, unless already backing off, stops storing for the back-off. Failures
   * during the back-off (removals still try to write) do not push the retry time further out.
   */
  void writeFailed(DBException e) {
    storeErrors.increment();
    boolean first;
    synchronized (degraded) {
      if (!storing) {
        return;
      }
      storing = false;
      resumeAtNanos = nanoTime.getAsLong() + options.retryAfter().toNanos();
      first = degraded.compareAndSet(false, true);
    }
    LOG.warn("disk tier {}: {}: {}; storing nothing for {} s", options.dir(),
        first ? "stopped storing" : "still failing", e.getMessage(), options.retryAfter().toSeconds());
  }
}
