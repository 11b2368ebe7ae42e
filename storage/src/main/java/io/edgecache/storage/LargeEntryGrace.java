package io.edgecache.storage;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The time to be asked for again that W-TinyLFU does not give a large new entry.
 *
 * <p>Caffeine takes new entries into an admission window of 1% of its bound (at first: it adapts
 * the size later) and judges them by their frequency against the main space's coldest entry only
 * when they leave it. An entry weighing more than the whole window is judged at once, with one use
 * to its name, and in a tier whose entries have each been read a few times it loses: in a full
 * 64 MiB memory tier of 256 KiB bodies read 4 times each, a new 4 MiB body was fetched from the
 * origin 4 times before one copy stayed (each time answered {@code stored}), and in the disk tier
 * each of those fetches wrote the whole body first. nginx and Varnish keep every new object and
 * evict the least recently used instead.
 *
 * <p>Here an entry weighing more than a hundredth of the tier's bound (and at most half of it) is
 * stored with weight 0, which Caffeine never evicts, and held in a first-in first-out list of its
 * own of at most a tenth of the bound; the bound Caffeine enforces is lowered by what the list
 * holds ({@link #heldBytes}), so the tier's bytes stay within its bound. Reads during that time
 * count for the entry in Caffeine's frequency sketch. When newer large entries push it out of the
 * list ({@link #enter} returns it), the tier weighs it in full within the room it had, and
 * W-TinyLFU judges it then, by the uses it had while it waited: one asked for again stays, one
 * read once (a scan) is dropped, and the rest of the tier is not flushed by a scan of large
 * objects. The newest large entry always gets its time, even when it alone weighs more than the
 * list's share.
 *
 * <p>Thread-safe; every method is short and never calls the cache, so the tier's weigher may ask
 * {@link #holds} from inside Caffeine.
 */
final class LargeEntryGrace<V> {
  /** An entry leaving the list, to be weighed in full ({@code weight}) by the tier. */
  record Released<V>(String key, V value, long weight) {}

  private record Held<V>(V value, long weight) {}

  private final long largeOver;
  private final long maxSingle;
  private final long limit;
  /** Oldest first; guarded by {@code this}, as is {@link #heldBytes}. */
  private final LinkedHashMap<String, Held<V>> held = new LinkedHashMap<>();
  private long heldBytes;

  /** For a tier bounded by {@code maxBytes}. */
  LargeEntryGrace(long maxBytes) {
    this.largeOver = maxBytes / 100;
    this.maxSingle = maxBytes / 2;
    this.limit = maxBytes / 10;
  }

  /** Whether an entry of {@code weight} is one the list takes. */
  private boolean isLarge(long weight) {
    return weight > largeOver && weight <= maxSingle;
  }

  /**
   * Takes {@code value} under {@code key} into the list when it is large (replacing what the list
   * held under the key), before the tier stores it; returns the oldest entries pushed out of the
   * list, which the tier must weigh in full now, or {@code null} when {@code value} is not large.
   */
  synchronized List<Released<V>> enter(String key, V value, long weight) {
    if (!isLarge(weight)) {
      return null;
    }
    Held<V> before = held.remove(key);
    if (before != null) {
      heldBytes -= before.weight();
    }
    held.put(key, new Held<>(value, weight));
    heldBytes += weight;
    List<Released<V>> out = List.of();
    Iterator<Map.Entry<String, Held<V>>> oldest = held.entrySet().iterator();
    while (heldBytes > limit && held.size() > 1) {
      Map.Entry<String, Held<V>> e = oldest.next();
      if (out.isEmpty()) {
        out = new ArrayList<>();
      }
      out.add(new Released<>(e.getKey(), e.getValue().value(), e.getValue().weight()));
      heldBytes -= e.getValue().weight();
      oldest.remove();
    }
    return out;
  }

  /** Whether the list holds exactly {@code value} (identity) under {@code key}: the weigher's question. */
  synchronized boolean holds(String key, V value) {
    Held<V> h = held.get(key);
    return h != null && h.value() == value;
  }

  /**
   * {@code value} under {@code key} left the tier (removed, replaced or purged): drops it from the
   * list if the list held it; returns whether it did.
   */
  synchronized boolean removed(String key, V value) {
    Held<V> h = held.get(key);
    if (h == null || h.value() != value) {
      return false;
    }
    held.remove(key);
    heldBytes -= h.weight();
    return true;
  }

  /**
   * The tier replaces {@code before} under {@code key} with {@code after} of {@code weight} (a
   * metadata rewrite): it keeps its place in the list. Returns whether the list held
   * {@code before}; if not, nothing changes.
   */
  synchronized boolean swap(String key, V before, V after, long weight) {
    Held<V> h = held.get(key);
    if (h == null || h.value() != before) {
      return false;
    }
    held.put(key, new Held<>(after, weight)); // an existing key keeps its place
    heldBytes += weight - h.weight();
    return true;
  }

  /** Empties the list; returns what it held, oldest first, for the tier to weigh in full. */
  synchronized List<Released<V>> releaseAll() {
    List<Released<V>> out = new ArrayList<>(held.size());
    held.forEach((k, h) -> out.add(new Released<>(k, h.value(), h.weight())));
    held.clear();
    heldBytes = 0;
    return out;
  }

  /** The weight of the entries the list holds: taken off the bound the tier gives Caffeine. */
  synchronized long heldBytes() {
    return heldBytes;
  }

  synchronized int size() {
    return held.size();
  }

  /** What waits now, key to value (for checks). */
  synchronized Map<String, V> waiting() {
    Map<String, V> out = new LinkedHashMap<>();
    held.forEach((k, h) -> out.put(k, h.value()));
    return out;
  }
}
