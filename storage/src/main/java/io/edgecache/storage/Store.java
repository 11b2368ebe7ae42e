package io.edgecache.storage;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.UnaryOperator;

/**
 * The one narrow interface every tier implements (memory, disk, and the tiered composition).
 *
 * <p>All operations are asynchronous: a memory tier completes them before returning, a disk tier
 * runs them on its own worker pool. Callbacks attached to the returned stages run on whichever
 * thread completed them; callers that need their own context must hop back to it. Keys are
 * opaque strings.
 *
 * <p>The removal contract, which {@code StoreContractTest} checks for every tier:
 * <ul>
 *   <li>{@link #removeMatching} and {@link #rewriteMatching} never read a body and are never
 *       refused, however busy the store is;</li>
 *   <li>a removal wins over a {@link #put} of a selected key that was accepted before it and has
 *       not committed yet: the write is dropped at its commit point, so what was removed does not
 *       come back (nor survive a restart);</li>
 *   <li>a removal does not stop writes accepted after it.</li>
 * </ul>
 */
public interface Store extends AutoCloseable {

  /** Where a lookup found its entry. */
  enum Tier { MEMORY, DISK }

  /**
   * What a lookup found: {@code entry} holds the whole body, or {@code body} streams it from disk
   * (exactly one is set), and the tier it came from.
   */
  record Found(Entry entry, DiskBody body, Tier tier) {
    public Found {
      if ((entry == null) == (body == null)) {
        throw new IllegalArgumentException("exactly one of entry and body");
      }
    }

    /** The opaque metadata block, whichever form the body has. */
    public byte[] meta() {
      return entry != null ? entry.meta() : body.meta();
    }

    public Set<String> tags() {
      return entry != null ? entry.tags() : body.tags();
    }
  }

  /**
   * What a server should call: the entry under {@code key} and where it was, with a body too large
   * to hold as a {@link DiskBody} to stream; {@code null} on a miss. May be a miss under overload.
   */
  CompletionStage<Found> lookup(String key);

  /** The whole entry stored under {@code key}, or {@code null}; reads large bodies whole. */
  CompletionStage<Entry> get(String key);

  /**
   * The metadata block stored under {@code key}, or {@code null}: never reads the body and is
   * never refused, so purges may rely on it.
   */
  CompletionStage<byte[]> metadata(String key);

  /**
   * Tells the store that a reader holds {@code body} (the body of the entry under {@code key}) for a
   * while, such as a slow client being sent it in slices, until the returned pin is released. A tier
   * that keeps bodies on the heap counts a held body that it no longer stores against its own bound,
   * so that bodies pinned by readers after eviction cost heap that something accounts for. The
   * default does nothing. Release exactly once; thread-safe.
   */
  default Pin pin(String key, byte[] body) {
    return Pin.NONE;
  }

  /** A reader's hold on a body; see {@link #pin}. */
  interface Pin {
    Pin NONE = () -> { };

    void release();
  }

  /**
   * Opens a write of a body that arrives piece by piece and is too large to hold whole: its chunks
   * go to disk as they arrive, and the entry becomes visible under {@code key} only when the
   * writer commits a complete body ({@link DiskWriter}). The same removal contract applies from the
   * moment it is opened. {@code null} when this store keeps nothing on disk (the default) or
   * refuses the write now, as {@link #put} may.
   */
  default DiskWriter openWriter(String key, byte[] meta, Set<String> tags, long expectedLength) {
    return null;
  }

  /** Stores {@code entry} under {@code key}, replacing any previous one. May decline silently. */
  CompletionStage<Void> put(String key, Entry entry);

  /**
   * Removes every entry the selector matches; completes with the keys removed and the tags each
   * carried. Never reads bodies, never refused, and wins over writes of selected keys already
   * accepted (see above).
   */
  CompletionStage<Map<String, Set<String>>> removeMatching(Selector selector);

  /**
   * Soft purge: replaces the metadata block of every selected entry with {@code rewrite} applied
   * to it, keeping its body; an entry for which {@code rewrite} returns {@code null} is left as it
   * is. Completes with the keys rewritten. Never reads bodies and never refused; a write of a
   * selected key accepted before this call and not yet committed is dropped (a later miss is the
   * safe answer for content from before the purge).
   */
  CompletionStage<Set<String>> rewriteMatching(Selector selector, UnaryOperator<byte[]> rewrite);

  /** The keys of entries the selector matches. A snapshot: entries may come and go meanwhile. */
  CompletionStage<List<String>> keys(Selector selector);

  /** Removes the entry under {@code key}; completes with whether one was there. */
  default CompletionStage<Boolean> remove(String key) {
    return removeMatching(Selector.key(key)).thenApply(removed -> !removed.isEmpty());
  }

  /** Removes everything; completes with how many entries there were. */
  default CompletionStage<Integer> clear() {
    return removeMatching(Selector.all()).thenApply(Map::size);
  }

  /** A point-in-time view of size and counters. */
  StoreStats stats();

  @Override
  void close();
}
