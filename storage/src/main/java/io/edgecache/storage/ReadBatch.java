package io.edgecache.storage;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Hands the chunk reads an event loop starts during one turn to the disk workers together, at the
 * end of that turn, instead of one by one as they start.
 *
 * <p>Why: a disk hit's read is a hand-off to a worker thread and back. Handed off one by one, every
 * read wakes a parked worker (a futex wake, then a context switch on a busy CPU), and every result
 * wakes the event loop. A turn of an event loop under load starts several reads (one per
 * connection whose request or drain it handles); gathered, they cost one wake-up per worker and
 * their results arrive together ({@link DiskWorkers#submitAll}). Pinned A/B, the edge on one CPU,
 * hits over 64 bodies in LevelDB's table files: 1.10× at 128 KiB and 1.09× at 1 MiB. (Reading on
 * the event loop, with no hand-off at all, measured 1.27× over handing off read by read, but a
 * read that misses the page cache would then stall every connection on the loop.)
 *
 * <p>The delay is the rest of the current turn: the reads go to the workers once the loop has run
 * the I/O and tasks of this turn, before it waits for more.
 *
 * <p>A thread that never {@linkplain #installOnThisThread installed} a batch (a worker, a test)
 * hands reads off at once, as before.
 *
 * <p>Used only on the thread it was installed on.
 */
public final class ReadBatch {
  private static final ThreadLocal<ReadBatch> CURRENT = new ThreadLocal<>();

  private final Consumer<Runnable> endOfTurn;
  private final Runnable flush = this::flush;
  /** Reads started this turn, by the workers that run them (one store in practice). */
  private Map<DiskWorkers, List<DiskWorkers.Task<?>>> pending = new IdentityHashMap<>();

  private ReadBatch(Consumer<Runnable> endOfTurn) {
    this.endOfTurn = endOfTurn;
  }

  /**
   * From now on, chunk reads started on the calling thread wait until the end of its current turn:
   * the first read of a turn passes a flush to {@code endOfTurn}, which must run it on this thread
   * once the turn's work is done (Netty: {@code SingleThreadEventLoop.executeAfterEventLoopIteration}).
   * Installing again replaces the hook.
   */
  public static void installOnThisThread(Consumer<Runnable> endOfTurn) {
    CURRENT.set(new ReadBatch(endOfTurn));
  }

  /** Stops batching on the calling thread; reads already waiting still go at the end of the turn. */
  public static void uninstallOnThisThread() {
    CURRENT.remove();
  }

  /**
   * Runs {@code work} on one of {@code workers}: at the end of this thread's turn when it batches,
   * else at once. Never refused before shutdown; fails with {@link StoreException} after it.
   */
  static <T> CompletableFuture<T> submit(DiskWorkers workers, Supplier<T> work) {
    ReadBatch batch = CURRENT.get();
    if (batch == null) {
      return workers.submit(false, work, null);
    }
    DiskWorkers.Task<T> task = new DiskWorkers.Task<>(work);
    boolean first = batch.pending.isEmpty();
    batch.pending.computeIfAbsent(workers, w -> new ArrayList<>()).add(task);
    if (first) {
      try {
        batch.endOfTurn.accept(batch.flush);
      } catch (RuntimeException e) {
        batch.flush(); // the loop refuses tasks (it is shutting down): hand off now, not never
      }
    }
    return task.result();
  }

  private void flush() {
    Map<DiskWorkers, List<DiskWorkers.Task<?>>> due = pending;
    pending = new IdentityHashMap<>();
    due.forEach(DiskWorkers::submitAll);
  }
}
