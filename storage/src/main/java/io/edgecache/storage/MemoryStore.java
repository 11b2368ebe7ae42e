package io.edgecache.storage;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToLongFunction;
import java.util.function.UnaryOperator;

/**
 * The memory tier: Caffeine bounded by bytes, with W-TinyLFU admission.
 *
 * <p>Every operation completes before it returns, on the calling thread, without blocking, so it
 * is safe on an event loop. An entry is weighed by the heap it holds: {@link Entry#weight()} (body,
 * metadata, tags, the entry and Caffeine's node), its key ({@link Entry#keyBytes}) and the decoded
 * form of its metadata that the caller may {@linkplain Entry#attach attach} and what the collector
 * adds to large arrays, both estimated by the injected {@code extraBytes} (the storage layer can
 * neither decode the metadata nor see the collector), so
 * that {@code maxBytes} bounds the heap the tier really uses. An entry whose body is larger than
 * {@code maxObjectBytes} is refused and counted. Eviction maintenance runs on the injected executor
 * (a same-thread executor in tests makes eviction deterministic).
 */
public final class MemoryStore implements Store {
  private final Cache<String, Entry> cache;
  private final long maxBytes;
  private final long maxObjectBytes;
  private final LongAdder evictions = new LongAdder();
  private final LongAdder rejected = new LongAdder();
  private final ToLongFunction<Entry> extraBytes;

  public MemoryStore(long maxBytes, long maxObjectBytes) {
    this(maxBytes, maxObjectBytes, Runnable::run);
  }

  public MemoryStore(long maxBytes, long maxObjectBytes, Executor maintenance) {
    this(maxBytes, maxObjectBytes, maintenance, e -> 0);
  }

  /**
   * A memory tier whose entries each cost {@code extraBytes.applyAsLong(entry)} heap bytes beyond
   * {@link Entry#weight()} and the key: what the caller knows and the storage layer cannot, such as
   * the decoded attachment it keeps with an entry, or what the collector's layout adds to a large
   * array (a G1 humongous object fills whole regions).
   */
  public MemoryStore(long maxBytes, long maxObjectBytes, Executor maintenance, ToLongFunction<Entry> extraBytes) {
    this.maxBytes = maxBytes;
    this.maxObjectBytes = maxObjectBytes;
    this.extraBytes = extraBytes;
    this.cache =
        Caffeine.newBuilder()
            .maximumWeight(maxBytes)
            .weigher((String key, Entry e) -> (int) Math.min(Integer.MAX_VALUE, weigh(key, e)))
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

  /** The heap bytes {@code entry} under {@code key} costs this tier (what the weigher counts). */
  public long weigh(String key, Entry entry) {
    return entry.weight() + Entry.keyBytes(key) + extraBytes.applyAsLong(entry);
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
  public CompletionStage<Found> lookup(String key) {
    Entry e = cache.getIfPresent(key);
    return CompletableFuture.completedFuture(e == null ? null : new Found(e, null, Tier.MEMORY));
  }

  @Override
  public CompletionStage<byte[]> metadata(String key) {
    Entry e = cache.policy().getIfPresentQuietly(key); // a purge's read is not a use
    return CompletableFuture.completedFuture(e == null ? null : e.meta());
  }

  @Override
  public CompletionStage<Map<String, Set<String>>> removeMatching(Selector selector) {
    return CompletableFuture.completedFuture(removeMatchingNow(selector));
  }

  @Override
  public CompletionStage<Set<String>> rewriteMatching(Selector selector, UnaryOperator<byte[]> rewrite) {
    return CompletableFuture.completedFuture(rewriteMatchingNow(selector, rewrite));
  }

  @Override
  public CompletionStage<List<String>> keys(Selector selector) {
    return CompletableFuture.completedFuture(List.copyOf(candidates(selector)));
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

  /** The keys the selector matches now; exact keys are looked up, other selectors walk the map. */
  private List<String> candidates(Selector selector) {
    List<String> out = new ArrayList<>();
    if (selector instanceof Selector.Keys keys) {
      for (String k : keys.keys()) {
        if (cache.policy().getIfPresentQuietly(k) != null) {
          out.add(k);
        }
      }
      return out;
    }
    cache.asMap().forEach((k, e) -> {
      if (selector.matches(k, e.tags())) {
        out.add(k);
      }
    });
    return out;
  }

  /** Removes every entry the selector matches; returns the keys removed with their tags. */
  Map<String, Set<String>> removeMatchingNow(Selector selector) {
    Map<String, Set<String>> removed = new HashMap<>();
    for (String k : candidates(selector)) {
      Entry e = cache.asMap().remove(k);
      if (e != null) {
        removed.put(k, e.tags());
      }
    }
    return removed;
  }

  /** Rewrites the metadata of every entry the selector matches; returns the keys rewritten. */
  Set<String> rewriteMatchingNow(Selector selector, UnaryOperator<byte[]> rewrite) {
    Set<String> rewritten = new HashSet<>();
    for (String k : candidates(selector)) {
      cache.asMap().computeIfPresent(k, (key, e) -> {
        if (!selector.matches(key, e.tags())) {
          return e;
        }
        byte[] meta = rewrite.apply(e.meta());
        if (meta == null) {
          return e;
        }
        rewritten.add(key);
        return new Entry(meta, e.body(), e.tags());
      });
    }
    return rewritten;
  }

  @Override
  public StoreStats stats() {
    cache.cleanUp();
    long bytes = cache.policy().eviction().map(ev -> ev.weightedSize().orElse(0L)).orElse(0L);
    return new StoreStats(cache.estimatedSize(), bytes, maximum(), evictions.sum(), rejected.sum());
  }

  /**
   * Lowers (or restores) the bound on weighed bytes while running, between 0 and the configured
   * {@code maxBytes}; entries over the new bound are evicted at once (as any eviction, on the
   * maintenance executor). Thread-safe. Used to shed cache under heap pressure.
   */
  public void setMaximum(long bytes) {
    long bound = Math.max(0, Math.min(maxBytes, bytes));
    cache.policy().eviction().ifPresent(ev -> ev.setMaximum(bound));
    cache.cleanUp();
  }

  /** The bound on weighed bytes in force now: {@code maxBytes} unless {@link #setMaximum} lowered it. */
  public long maximum() {
    return cache.policy().eviction().map(ev -> ev.getMaximum()).orElse(maxBytes);
  }

  /** The configured bound, which {@link #setMaximum} never exceeds. */
  public long configuredMaximum() {
    return maxBytes;
  }

  @Override
  public void close() {
    cache.invalidateAll();
  }
}
