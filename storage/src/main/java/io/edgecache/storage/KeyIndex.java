package io.edgecache.storage;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.function.Function;

/**
 * The keys of a store sorted, and by tag, so that a purge by prefix or tag visits what it removes
 * instead of walking every entry.
 *
 * <p>It may hold a few keys that are gone (a purge checks each candidate against the entry, as it
 * always did), but it never misses a stored one: the store records a key here after the key is in
 * its map, and on a removal this index takes the key out only when the map no longer holds it
 * (with that tag), checking again after taking it out, so that a put racing the removal puts it
 * back. Per tag, adding and removing run under that tag's bin lock, so that an emptied tag set is
 * dropped without losing a key added to it meanwhile. Thread-safe, lock-free apart from those bins.
 */
final class KeyIndex {
  /** Heap per key in the sorted set (skip-list node and, on average, its index levels). */
  static final int KEY_BYTES = 48;
  /** Heap per tag of a key (the set entry in that tag's set). */
  static final int TAG_BYTES = 40;

  private final ConcurrentSkipListSet<String> keys = new ConcurrentSkipListSet<>();
  private final ConcurrentHashMap<String, Set<String>> byTag = new ConcurrentHashMap<>();

  /** Records {@code key} with {@code tags}; call after the store's map holds it. */
  void added(String key, Set<String> tags) {
    keys.add(key);
    for (String t : tags) {
      byTag.compute(t, (k, set) -> {
        Set<String> s = set != null ? set : ConcurrentHashMap.newKeySet();
        s.add(key);
        return s;
      });
    }
  }

  /**
   * {@link #added}, then {@link #removed} again when the store's map no longer holds {@code key}
   * (evicted at once): {@code current} as for {@link #removed}.
   */
  void stored(String key, Set<String> tags, Function<String, Set<String>> current) {
    added(key, tags);
    if (current.apply(key) == null) {
      removed(key, tags, current);
    }
  }

  /**
   * The store removed or replaced the entry of {@code key} that had {@code oldTags};
   * {@code current} gives the tags of what the map holds under a key now, or null.
   */
  void removed(String key, Set<String> oldTags, Function<String, Set<String>> current) {
    if (current.apply(key) == null) {
      keys.remove(key);
      if (current.apply(key) != null) {
        keys.add(key); // put back by a racing put
      }
    }
    for (String t : oldTags) {
      byTag.computeIfPresent(t, (k, set) -> {
        Set<String> now = current.apply(key);
        if (now == null || !now.contains(t)) {
          set.remove(key);
          Set<String> again = current.apply(key);
          if (again != null && again.contains(t)) {
            set.add(key);
          }
        }
        return set.isEmpty() ? null : set;
      });
    }
  }

  /** Keys starting with {@code prefix}, in order. */
  List<String> withPrefix(String prefix) {
    return new ArrayList<>(keys.subSet(prefix, true, prefix + Character.MAX_VALUE, false));
  }

  /** Keys recorded with {@code tag}. */
  List<String> tagged(String tag) {
    Set<String> s = byTag.get(tag);
    return s == null ? List.of() : new ArrayList<>(s);
  }

  /** The candidates for {@code selector}, or null when it needs a walk of every entry. */
  List<String> candidates(Selector selector) {
    if (selector instanceof Selector.Prefix p) {
      return withPrefix(p.prefix());
    }
    if (selector instanceof Selector.Tagged t) {
      return tagged(t.tag());
    }
    return null;
  }

  /** Number of keys recorded (for tests). */
  int size() {
    return keys.size();
  }

  /** Heap this index adds for a key with {@code tagCount} tags. */
  static long heapBytes(int tagCount) {
    return KEY_BYTES + (long) TAG_BYTES * tagCount;
  }
}
