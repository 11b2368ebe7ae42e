package io.edgecache.storage;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts the chunk buffers of one database that lie over LevelDB's own memory
 * ({@link DirectGet#lease}), each holding a LevelDB iterator open until a socket has taken its
 * bytes, and keeps the database open while any is out.
 *
 * <p>Why a bound ({@link #max}): an open iterator keeps the table files and the memtable it saw,
 * so a file a compaction has replaced is not deleted until the iterator is. A lease normally lasts
 * one socket write; a client that stops reading holds one until the connection times out. Past
 * the bound, chunks are copied out of LevelDB as before, which holds nothing.
 *
 * <p>Closing: LevelDB must not be closed while an iterator is open. {@link #closeWhenReleased}
 * stops new leases, waits a while for those out (closing the server fails its pending writes,
 * which releases them), and when some are still out leaves the close to the last release.
 *
 * <p>Thread-safe.
 */
final class Leases {
  private static final Logger LOG = LoggerFactory.getLogger(Leases.class);

  private final Path dir;
  private final int max;
  private final AtomicInteger open = new AtomicInteger();
  private volatile boolean closing;
  /** The close left to the last release, under this object's lock. */
  private Runnable deferredClose;

  Leases(Path dir, int max) {
    this.dir = dir;
    this.max = max;
  }

  /** Takes a lease if the bound and the database allow; a taken lease is given back with {@link #returned}. */
  boolean tryAcquire() {
    if (closing) {
      return false;
    }
    int n = open.incrementAndGet();
    if (n > max || closing) {
      drop();
      return false;
    }
    ChunkBuffers.leased(1);
    return true;
  }

  /**
   * Gives back a lease taken with {@link #tryAcquire}, once its iterator is deleted (or was never
   * made); the last one out after a deferred close runs that close.
   */
  void returned() {
    ChunkBuffers.leased(-1);
    drop();
  }

  private void drop() {
    if (open.decrementAndGet() == 0 && closing) {
      Runnable close;
      synchronized (this) {
        notifyAll();
        close = deferredClose;
        deferredClose = null;
      }
      if (close != null) {
        Thread t = new Thread(close, "edgecache-disk-close");
        t.setDaemon(true);
        t.start();
      }
    }
  }

  /** Leases out now. */
  int open() {
    return open.get();
  }

  /**
   * Stops new leases, waits up to {@code waitMillis} for those out, then runs {@code close}; when
   * some are still out then, the last release runs it instead (on a thread of its own).
   */
  void closeWhenReleased(Runnable close, long waitMillis) {
    closing = true;
    synchronized (this) {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
      long left;
      while (open.get() > 0 && (left = deadline - System.nanoTime()) > 0) {
        try {
          TimeUnit.NANOSECONDS.timedWait(this, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      if (open.get() > 0) {
        deferredClose = close;
        LOG.warn("disk tier {}: {} chunk buffer(s) over LevelDB's memory still held {} ms after close;"
            + " LevelDB closes when the last is released", dir, open.get(), waitMillis);
        return;
      }
    }
    close.run();
  }
}
