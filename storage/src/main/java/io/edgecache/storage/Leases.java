package io.edgecache.storage;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts the chunk buffers of one database that lie over LevelDB's own memory
 * ({@link DirectGet#lease}), each holding a LevelDB iterator open until a socket has taken its
 * bytes, and keeps the database open while any is out.
 *
 * <h2>Bounds</h2>
 * An open iterator keeps the memtable that was current when it was made (up to 4 MiB of native
 * memory, freed once no iterator uses it) and the table files it saw (a file a compaction replaced
 * is deleted only once no iterator uses it). A lease normally lasts one socket write, a few
 * milliseconds; a client that stops reading holds its lease until the connection times out, and
 * clients that stop one after another while fills turn memtables over would each hold a memtable
 * of its own. So at most {@code max} leases are out, and at most {@code maxOld} of them older than
 * one to two {@code epoch}s: while that many are stuck, chunks are copied out of LevelDB instead,
 * which holds nothing, until they are released. What stalled readers keep of LevelDB is then at
 * most {@code maxOld} memtables, plus those that young leases saw.
 *
 * <h2>Closing</h2>
 * LevelDB must not be closed while an iterator is open. {@link #closeWhenReleased} stops new
 * leases, waits a while for those out (closing the server fails its pending writes, which
 * releases them), and when some are still out leaves the close to the last release.
 *
 * <p>Thread-safe: leases are taken on disk workers and given back on event loops, under this
 * object's lock (a few field updates).
 */
final class Leases {
  private static final Logger LOG = LoggerFactory.getLogger(Leases.class);

  private final Path dir;
  private final int max;
  private final int maxOld;
  private final long epochNanos;
  private final LongSupplier clock;

  private boolean closing;
  /** The close left to the last release. */
  private Runnable deferredClose;
  private int open;
  /** Leases taken in the current epoch and in the one before; the rest of {@link #open} are old. */
  private int inThisEpoch;
  private int inPreviousEpoch;
  private long epoch;
  private long epochStart;

  Leases(Path dir, int max, int maxOld, long epochNanos, LongSupplier clock) {
    this.dir = dir;
    this.max = max;
    this.maxOld = maxOld;
    this.epochNanos = epochNanos;
    this.clock = clock;
    this.epochStart = clock.getAsLong();
  }

  /**
   * Takes a lease if the bounds and the database allow: its stamp, to give it back with
   * {@link #returned}, or -1 when none may be taken now.
   */
  synchronized long tryAcquire() {
    roll();
    if (closing || open >= max || open - inThisEpoch - inPreviousEpoch >= maxOld) {
      return -1;
    }
    open++;
    inThisEpoch++;
    ChunkBuffers.leased(1);
    return epoch;
  }

  /**
   * Gives back the lease of {@code stamp}, once its iterator is deleted (or was never made); the
   * last one out after a deferred close runs that close (on a thread of its own).
   */
  void returned(long stamp) {
    Runnable close = null;
    synchronized (this) {
      roll();
      if (stamp == epoch) {
        inThisEpoch--;
      } else if (stamp == epoch - 1) {
        inPreviousEpoch--;
      }
      open--;
      if (open == 0 && closing) {
        notifyAll();
        close = deferredClose;
        deferredClose = null;
      }
    }
    ChunkBuffers.leased(-1);
    if (close != null) {
      Thread t = new Thread(close, "edgecache-disk-close");
      t.setDaemon(true);
      t.start();
    }
  }

  private void roll() {
    long elapsed = clock.getAsLong() - epochStart;
    if (elapsed < epochNanos) {
      return;
    }
    long steps = elapsed / epochNanos;
    inPreviousEpoch = steps == 1 ? inThisEpoch : 0;
    inThisEpoch = 0;
    epoch += steps;
    epochStart += steps * epochNanos;
  }

  /** Leases out now. */
  synchronized int open() {
    return open;
  }

  /**
   * Stops new leases, waits up to {@code waitMillis} for those out, then runs {@code close}; when
   * some are still out then, the last release runs it instead.
   */
  void closeWhenReleased(Runnable close, long waitMillis) {
    synchronized (this) {
      closing = true;
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
      long left;
      while (open > 0 && (left = deadline - System.nanoTime()) > 0) {
        try {
          TimeUnit.NANOSECONDS.timedWait(this, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      if (open > 0) {
        deferredClose = close;
        LOG.warn("disk tier {}: {} chunk buffer(s) over LevelDB's memory still held {} ms after close;"
            + " LevelDB closes when the last is released", dir, open, waitMillis);
        return;
      }
    }
    close.run();
  }
}
