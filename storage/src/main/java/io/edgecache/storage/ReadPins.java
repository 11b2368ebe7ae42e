package io.edgecache.storage;

import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The generations whose chunks someone is reading: their deletion waits for the last reader.
 *
 * <p>A body being sent when its entry is evicted, replaced or purged keeps being sent whole, as a
 * file that is unlinked while open stays readable: the entry is gone from the index at once (the
 * next request misses), but its chunks stay in LevelDB until the last reader lets go, and are
 * deleted then. Without this a large disk hit, or a client following a fill's disk write, was cut
 * off (its connection reset) whenever eviction, which runs all the time in a full cache, chose
 * that entry, including a fill the admission policy evicted as soon as it was committed.
 *
 * <p>Bounds: the bytes kept this way are those of entries being read, beyond {@code maxBytes} for
 * as long as the reads last, and at most {@code maxDeferredBytes} in all: past that a deletion
 * happens at once and its readers are cut off as before (an HTTP/2 client can keep a stalled
 * stream open on a busy connection for as long as it likes, so time alone does not bound it).
 * Chunks whose deletion is still waiting when the process stops are orphans, which the start-up
 * sweep deletes.
 *
 * <p>Race with a hold: a hold and the decision to delete take the same lock. A hold before the
 * decision defers the deletion; after it, the generation is <em>doomed</em> and the hold fails.
 * The doomed set keeps the last {@value #DOOMED_KEPT} decisions: a hold comes within moments of
 * the lookup or the hand-off it follows, and a read hold also requires the index to serve that
 * generation still. Thread-safe; every method is short and never touches LevelDB.
 */
final class ReadPins {
  /** A deletion waiting for the last reader: the chunk count and the bytes to report as deleted. */
  record Deferred(int chunkCount, long bytes) {}

  static final int DOOMED_KEPT = 4096;

  private final Map<Long, Integer> readers = new HashMap<>();
  private final Map<Long, Deferred> deferred = new HashMap<>();
  /** Generations whose deletion was decided, oldest first: no new hold on them. */
  private final Set<Long> doomed = new LinkedHashSet<>();
  private final Consumer<Long> deleteLater;
  private final long maxDeferredBytes;
  private long deferredBytes;

  /**
   * @param deleteLater runs (outside the lock) a deferred deletion once the last reader let go
   * @param maxDeferredBytes the most bytes whose deletion may wait for readers at once
   */
  ReadPins(Consumer<Long> deleteLater, long maxDeferredBytes) {
    this.deleteLater = deleteLater;
    this.maxDeferredBytes = maxDeferredBytes;
  }

  /**
   * Holds {@code generation} for a reader while {@code current} (checked under the lock) says the
   * index still serves it; {@link Store.Pin#NONE} when it does not, or it is being deleted.
   */
  Store.Pin hold(long generation, BooleanSupplier current) {
    synchronized (this) {
      if (doomed.contains(generation) || !current.getAsBoolean()) {
        return Store.Pin.NONE;
      }
      readers.merge(generation, 1, Integer::sum);
    }
    AtomicBoolean released = new AtomicBoolean();
    return () -> {
      if (released.compareAndSet(false, true)) {
        release(generation);
      }
    };
  }

  private void release(long generation) {
    boolean deleteNow;
    synchronized (this) {
      Integer n = readers.get(generation);
      if (n == null) {
        return;
      }
      if (n > 1) {
        readers.put(generation, n - 1);
        return;
      }
      readers.remove(generation);
      deleteNow = deferred.containsKey(generation);
    }
    if (deleteNow) {
      deleteLater.accept(generation);
    }
  }

  /**
   * Whether {@code generation}'s chunks may be deleted now. If someone reads them, the deletion is
   * recorded for the last reader instead ({@code deleteLater} then runs) and this returns false.
   * Either way no new hold on the generation succeeds from now on. A generation whose deletion
   * already waits for its readers keeps waiting: a second removal of it (an eviction's deletion
   * running after a replacement deferred it, say) must not delete under those readers.
   */
  synchronized boolean deleteNowOrDefer(long generation, int chunkCount, long bytes) {
    if (doomed.add(generation) && doomed.size() > DOOMED_KEPT) {
      Iterator<Long> oldest = doomed.iterator();
      oldest.next();
      oldest.remove();
    }
    if (deferred.containsKey(generation)) {
      return false; // the last reader's release deletes it
    }
    if (!readers.containsKey(generation) || deferredBytes + bytes > maxDeferredBytes) {
      return true;
    }
    deferred.put(generation, new Deferred(chunkCount, bytes));
    deferredBytes += bytes;
    return false;
  }

  /** Whether a reader holds {@code generation} now. */
  synchronized boolean held(long generation) {
    return readers.containsKey(generation);
  }

  /** The deletion of {@code generation} did not happen after all (its write failed): it lives on. */
  synchronized void keep(long generation) {
    doomed.remove(generation);
    forget(deferred.remove(generation));
  }

  private void forget(Deferred d) {
    if (d != null) {
      deferredBytes -= d.bytes();
    }
  }

  /** Takes the deferred deletion of {@code generation}, once no reader holds it; null if none. */
  synchronized Deferred takeDeferred(long generation) {
    if (readers.containsKey(generation)) {
      return null;
    }
    Deferred d = deferred.remove(generation);
    forget(d);
    return d;
  }

  /** Bytes whose deletion waits for readers now. */
  synchronized long deferredBytes() {
    return deferredBytes;
  }

}
