package io.edgecache.storage;

import java.util.ArrayDeque;
import java.util.Set;
import java.util.TreeMap;

/**
 * Orders removals against writes that were already under way when the removal was asked for, so
 * that a removal always wins over such a write.
 *
 * <p>Why. A store that writes asynchronously accepts a {@code put}, queues it, and commits it
 * later. A removal that arrives in between finds nothing to remove yet; without this log the
 * queued write would then commit and bring back what was removed (and, on disk, keep it across a
 * restart). So every asynchronous operation that may make an entry visible takes a ticket when it
 * is accepted ({@link #open}); every removal is recorded with the next sequence number
 * ({@link #record}); and at its commit point, under the lock that also orders the removal's own
 * work, the operation asks {@link #removedSince}: if a removal recorded after its ticket selects
 * its key and tags, it does not commit.
 *
 * <p>Bounds. A record is kept only while an operation opened before it is still open; when none
 * is, it is dropped ({@link #close}). With no operation open, {@link #record} keeps nothing.
 *
 * <p>Thread-safe; every method is short and never blocks on I/O, so it is safe on an event loop.
 */
final class RemovalLog {
  private record Removal(long seq, Selector selector) {}

  private final ArrayDeque<Removal> removals = new ArrayDeque<>();
  /** Tickets of open operations: ticket → how many operations hold it. */
  private final TreeMap<Long, Integer> open = new TreeMap<>();
  private long seq;

  /** Registers an operation that may commit later; returns its ticket for the other calls. */
  synchronized long open() {
    open.merge(seq, 1, Integer::sum);
    return seq;
  }

  /** The operation holding {@code ticket} is over (committed, abandoned or failed). */
  synchronized void close(long ticket) {
    open.computeIfPresent(ticket, (t, n) -> n == 1 ? null : n - 1);
    long oldest = open.isEmpty() ? Long.MAX_VALUE : open.firstKey();
    while (!removals.isEmpty() && removals.peekFirst().seq() <= oldest) {
      removals.pollFirst();
    }
  }

  /** Records a removal; operations opened before now that it selects will not commit. */
  synchronized void record(Selector selector) {
    seq++;
    if (!open.isEmpty()) {
      removals.addLast(new Removal(seq, selector));
    }
  }

  /** Whether a removal recorded after {@code ticket} selects {@code key} with {@code tags}. */
  synchronized boolean removedSince(long ticket, String key, Set<String> tags) {
    for (Removal r : removals) {
      if (r.seq() > ticket && r.selector().matches(key, tags)) {
        return true;
      }
    }
    return false;
  }

  /** Whether any operation is open (one may be about to commit). */
  synchronized boolean anyOpen() {
    return !open.isEmpty();
  }

  /** Removals kept now; for tests. */
  synchronized int size() {
    return removals.size();
  }
}
