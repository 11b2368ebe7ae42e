package io.edgecache.storage;

import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;

/**
 * The one narrow interface every tier implements (memory, disk, and the tiered composition).
 *
 * <p>All operations are asynchronous: a memory tier completes them before returning, a disk tier
 * runs them on its own worker pool. Callbacks attached to the returned stages run on whichever
 * thread completed them; callers that need their own context must hop back to it. Keys are
 * opaque strings; the store never parses them except for {@link #removeByPrefix}.
 */
public interface Store extends AutoCloseable {

  /** The entry stored under {@code key}, or {@code null} when there is none. */
  CompletionStage<Entry> get(String key);

  /** Stores {@code entry} under {@code key}, replacing any previous one. May decline silently. */
  CompletionStage<Void> put(String key, Entry entry);

  /** Removes the entry under {@code key}; completes with whether one was there. */
  CompletionStage<Boolean> remove(String key);

  /** Removes every entry whose key starts with {@code prefix}; completes with how many. */
  CompletionStage<Integer> removeByPrefix(String prefix);

  /** Removes every entry whose key matches; completes with how many. */
  CompletionStage<Integer> removeIf(Predicate<String> keyMatches);

  /** Removes every entry carrying {@code tag}; completes with how many. */
  CompletionStage<Integer> removeByTag(String tag);

  /**
   * The keys of entries whose key matches {@code keyMatches} (when not null) and that carry
   * {@code tag} (when not null). A snapshot: entries may come and go while it is taken.
   */
  CompletionStage<java.util.List<String>> keys(Predicate<String> keyMatches, String tag);

  /** Removes everything; completes with how many entries there were. */
  CompletionStage<Integer> clear();

  /** A point-in-time view of size and counters. */
  StoreStats stats();

  @Override
  void close();
}
