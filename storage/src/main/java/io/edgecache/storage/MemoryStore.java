package io.edgecache.storage;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiPredicate;
import java.util.function.Predicate;

/**
 * The memory tier: Caffeine bounded by bytes, with W-TinyLFU admission.
 *
 * <p>Every operation completes before it returns, on the calling thread, without blocking, so it
 * is safe on an event loop. The weight of an entry is {@link Entry#weight()}; an entry
 * whose body is larger than {@code maxObjectBytes} is refused and counted. Eviction maintenance runs on the injected
 * executor (a same-thread executor in tests makes eviction deterministic).
 */
public final class MemoryStore implements Store {
  private final Cache<String, Entry> cache;
  private final long maxBytes;
  private final long maxObjectBytes;
  private final LongAdder evictions = new LongAdder();
  private final LongAdder rejected = new LongAdder();

  public MemoryStore(long maxBytes, long maxObjectBytes) {
    this(maxBytes, maxObjectBytes, Runnable::run);
  }

  public MemoryStore(long maxBytes, long maxObjectBytes, Executor maintenance) {
    this.maxBytes = maxBytes;
    this.maxObjectBytes = maxObjectBytes;
    this.cache =
        Caffeine.newBuilder()
            .maximumWeight(maxBytes)
            .weigher((String key, Entry e) -> (int) Math.min(Integer.MAX_VALUE, e.weight() + key.length() * 2L))
            .executor(maintenance)
            .removalListener(
                (String key, Entry e, RemovalCause cause) -> {
                  if (cause.wasEvicted()) {
                    evictions.increment();
                  }
                })
            .recordStats()
            .build();
  }

  /** Synchronous lookup for callers on a hot path; same as {@link #get} without the stage. */
  public Entry getNow(String key) {
    return cache.getIfPresent(key);
  }

  @Override
  public CompletionStage<Entry> get(String key) {
    return CompletableFuture.completedFuture(cache.getIfPresent(key));
  }

  @Override
  public CompletionStage<Void> put(String key, Entry entry) {
    putNow(key, entry);
    return CompletableFuture.completedFuture(null);
  }

  /** Synchronous put; returns whether the entry was accepted. */
  public boolean putNow(String key, Entry entry) {
    if (entry.body().length > maxObjectBytes || entry.weight() > maxBytes) {
      rejected.increment();
      cache.invalidate(key);
      return false;
    }
    cache.put(key, entry);
    return true;
  }

  @Override
  public CompletionStage<Boolean> remove(String key) {
    return CompletableFuture.completedFuture(cache.asMap().remove(key) != null);
  }

  @Override
  public CompletionStage<Integer> removeByPrefix(String prefix) {
    return removeIf(k -> k.startsWith(prefix));
  }

  @Override
  public CompletionStage<Integer> removeIf(Predicate<String> keyMatches) {
    int n = 0;
    List<String> keys = new ArrayList<>();
    for (String k : cache.asMap().keySet()) {
      if (keyMatches.test(k)) {
        keys.add(k);
      }
    }
    for (String k : keys) {
      if (cache.asMap().remove(k) != null) {
        n++;
      }
    }
    return CompletableFuture.completedFuture(n);
  }

  @Override
  public CompletionStage<Integer> removeByTag(String tag) {
    List<String> keys = new ArrayList<>();
    cache.asMap().forEach((k, e) -> {
      if (e.tags().contains(tag)) {
        keys.add(k);
      }
    });
    int n = 0;
    for (String k : keys) {
      if (cache.asMap().remove(k) != null) {
        n++;
      }
    }
    return CompletableFuture.completedFuture(n);
  }

  @Override
  public CompletionStage<List<String>> keys(Predicate<String> keyMatches, String tag) {
    List<String> out = new ArrayList<>();
    cache.asMap().forEach((k, e) -> {
      if ((keyMatches == null || keyMatches.test(k)) && (tag == null || e.tags().contains(tag))) {
        out.add(k);
      }
    });
    return CompletableFuture.completedFuture(out);
  }

  @Override
  public CompletionStage<Integer> clear() {
    int n = (int) cache.estimatedSize();
    cache.invalidateAll();
    return CompletableFuture.completedFuture(n);
  }

  // ---------------------------------------------------------------- package-private, for TieredStore

  /** Whether {@link #putNow} would accept {@code entry}. */
  boolean fits(Entry entry) {
    return entry.body().length <= maxObjectBytes && entry.weight() <= maxBytes;
  }

  long maxObjectBytes() {
    return maxObjectBytes;
  }

  /** Stores {@code entry} unless the key is present; returns whether it was stored. */
  boolean putIfAbsentNow(String key, Entry entry) {
    return fits(entry) && cache.asMap().putIfAbsent(key, entry) == null;
  }

  /** Removes the entry under {@code key} if it is exactly {@code entry} (identity). */
  boolean removeIfSame(String key, Entry entry) {
    return cache.asMap().remove(key, entry);
  }

  /** Removes the entry under {@code key} unless it is exactly {@code keep} (identity). */
  void removeUnless(String key, Entry keep) {
    Entry present = cache.getIfPresent(key);
    if (present != null && present != keep) {
      cache.asMap().remove(key, present);
    }
  }

  /** Removes every entry whose key and tags match; returns the keys removed. */
  Set<String> removeMatching(BiPredicate<String, Set<String>> keyAndTags) {
    List<String> candidates = new ArrayList<>();
    cache.asMap().forEach((k, e) -> {
      if (keyAndTags.test(k, e.tags())) {
        candidates.add(k);
      }
    });
    Set<String> removed = new HashSet<>();
    for (String k : candidates) {
      if (cache.asMap().remove(k) != null) {
        removed.add(k);
      }
    }
    return removed;
  }

  @Override
  public StoreStats stats() {
    cache.cleanUp();
    long bytes = cache.policy().eviction().map(ev -> ev.weightedSize().orElse(0L)).orElse(0L);
    return new StoreStats(cache.estimatedSize(), bytes, maxBytes, evictions.sum(), rejected.sum());
  }

  @Override
  public void close() {
    cache.invalidateAll();
  }
}
