package io.edgecache.storage;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
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
 *
 * <h2>Bodies readers still hold</h2>
 * A reader that is sent a body slowly ({@link #pin}) keeps it live after the tier evicts, sheds
 * or replaces its entry, and a later hit may then load a second copy. Such a detached body is
 * counted against the bound until its last reader releases it: the bound Caffeine enforces is
 * {@link #maximum()} minus the detached bytes, so what the tier stores plus what its readers hold
 * stays within {@code maxBytes}. The bound is recomputed outside Caffeine's locks, at the next
 * put, pin, release or {@link #stats()}.
 *
 * <h2>Large new entries</h2>
 * An entry too large for Caffeine's admission window gets time to be asked for again before
 * W-TinyLFU judges it ({@link LargeEntryGrace}): it is weighed 0 while it waits, and what the
 * waiting entries weigh is taken off the bound as detached bodies are. While the tier sheds (its
 * bound lowered under heap pressure) no entry waits.
 */
public final class MemoryStore implements Store {
  private final Cache<String, Entry> cache;
  private final long maxBytes;
  private final long maxObjectBytes;
  private final LongAdder evictions = new LongAdder();
  private final LongAdder rejected = new LongAdder();
  private final ToLongFunction<Entry> extraBytes;
  /** The keys sorted and by tag: prefix and tag purges visit only what they select. */
  private final KeyIndex keyIndex = new KeyIndex();
  /** Bodies pinned by readers, by identity; guarded by itself, as is {@link #detachedBytes}. */
  private final Map<byte[], Held> held = new IdentityHashMap<>();
  private long detachedBytes;
  /** Set when {@link #detachedBytes} changed and Caffeine's bound has not followed yet. */
  private volatile boolean boundStale;
  /** The bound before detached bodies are taken off it: {@code maxBytes} unless shed. */
  private volatile long target;
  /** Large new entries waiting to be judged; what they weigh is taken off Caffeine's bound. */
  private final LargeEntryGrace<Entry> grace;

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
    this.target = maxBytes;
    this.grace = new LargeEntryGrace<>(maxBytes);
    this.cache =
        Caffeine.newBuilder()
            .maximumWeight(maxBytes)
            .weigher((String key, Entry e) -> grace.holds(key, e) ? 0 : (int) Math.min(Integer.MAX_VALUE, weigh(key, e)))
            .executor(maintenance)
            .removalListener(
                (String key, Entry e, RemovalCause cause) -> {
                  if (cause.wasEvicted()) {
                    evictions.increment();
                  }
                  if (e != null) {
                    keyIndex.removed(key, e.tags(), this::storedTags);
                    if (grace.removed(key, e)) {
                      boundStale = true;
                    }
                    onRemoved(key, e);
                  }
                })
            .recordStats()
            .build();
  }

  /** The heap bytes {@code entry} under {@code key} costs this tier (what the weigher counts). */
  public long weigh(String key, Entry entry) {
    return entry.weight() + Entry.keyBytes(key) + KeyIndex.heapBytes(entry.tags().size())
        + extraBytes.applyAsLong(entry);
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
    applyBoundIfStale();
    if (entry.body().length > maxObjectBytes || entry.weight() > maxBytes) {
      rejected.increment();
      cache.invalidate(key);
      return false;
    }
    enterGrace(key, entry);
    cache.put(key, entry);
    keyIndex.stored(key, entry.tags(), this::storedTags);
    return true;
  }

  /**
   * Before {@code entry} is stored under {@code key}: lets it wait if it is large and the tier is
   * not shedding. The entries it pushes out of the wait are weighed in full first, within the bound
   * they had room in, so W-TinyLFU judges them now by the uses they had while waiting (a large
   * object read once is dropped, one asked for again stays); then its own weight comes off the
   * bound, and Caffeine makes room for it.
   */
  private void enterGrace(String key, Entry entry) {
    if (target < maxBytes) {
      return;
    }
    List<LargeEntryGrace.Released<Entry>> released = grace.enter(key, entry, weigh(key, entry));
    if (released == null) {
      return;
    }
    judge(released);
    applyBound();
  }

  /** Weighs entries that stopped waiting in full; one removed or replaced meanwhile is left alone. */
  private void judge(List<LargeEntryGrace.Released<Entry>> released) {
    for (LargeEntryGrace.Released<Entry> r : released) {
      cache.asMap().replace(r.key(), r.value(), r.value());
    }
  }

  private Set<String> storedTags(String key) {
    Entry now = cache.policy().getIfPresentQuietly(key);
    return now == null ? null : now.tags();
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

  /** Keys in the key index (for tests: it follows the map, with no keys left behind). */
  int indexedKeys() {
    return keyIndex.size();
  }

  /** The large entries waiting to be judged ({@link LargeEntryGrace}), key to entry. */
  Map<String, Entry> waiting() {
    return grace.waiting();
  }

  /** The entry under {@code key} without counting a use (as a purge's look), or null. */
  Entry peek(String key) {
    return cache.policy().getIfPresentQuietly(key);
  }

  /** Whether {@link #putNow} would accept {@code entry}. */
  boolean fits(Entry entry) {
    return entry.body().length <= maxObjectBytes && entry.weight() <= maxBytes;
  }

  long maxObjectBytes() {
    return maxObjectBytes;
  }

  /** Stores {@code entry} unless the key is present; returns whether it was stored. */
  boolean putIfAbsentNow(String key, Entry entry) {
    applyBoundIfStale();
    if (!fits(entry)) {
      return false;
    }
    if (cache.policy().getIfPresentQuietly(key) != null) {
      return false;
    }
    enterGrace(key, entry);
    boolean stored = cache.asMap().putIfAbsent(key, entry) == null;
    if (stored) {
      keyIndex.stored(key, entry.tags(), this::storedTags);
    } else if (grace.removed(key, entry)) { // stored meanwhile by another: this one does not wait
      applyBound();
    }
    return stored;
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
    List<String> indexed = keyIndex.candidates(selector);
    if (indexed != null) {
      for (String k : indexed) {
        Entry e = cache.policy().getIfPresentQuietly(k);
        if (e != null && selector.matches(k, e.tags())) {
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
        Entry next = new Entry(meta, e.body(), e.tags());
        grace.swap(key, e, next, weigh(key, next)); // a waiting entry keeps its place
        return next;
      });
    }
    return rewritten;
  }

  @Override
  public StoreStats stats() {
    applyBoundIfStale();
    cache.cleanUp();
    long bytes = cache.policy().eviction().map(ev -> ev.weightedSize().orElse(0L)).orElse(0L) + grace.heldBytes();
    return new StoreStats(cache.estimatedSize(), bytes, maximum(), evictions.sum(), rejected.sum());
  }

  // ---------------------------------------------------------------- bodies readers hold

  /** A pinned body: its readers, its weight, and whether the tier no longer stores it. */
  private static final class Held {
    final long weight;
    int readers;
    boolean detached;

    Held(long weight, boolean detached) {
      this.weight = weight;
      this.detached = detached;
    }
  }

  /**
   * Pins {@code body}, read from the entry under {@code key}: while pinned and no longer stored
   * here (evicted, shed, replaced, purged, or never stored), its weight counts against the bound.
   */
  @Override
  public Pin pin(String key, byte[] body) {
    Entry present = cache.policy().getIfPresentQuietly(key);
    boolean stored = present != null && present.body() == body;
    long weight = stored ? weigh(key, present) : detachedWeight(key, body);
    synchronized (held) {
      Held h = held.get(body);
      if (h == null) {
        h = new Held(weight, !stored);
        held.put(body, h);
        if (!stored) {
          detachedBytes += weight;
          boundStale = true;
        }
      }
      h.readers++;
    }
    if (stored) { // removed between the look and the registration: the listener found no pin
      Entry now = cache.policy().getIfPresentQuietly(key);
      if (now == null || now.body() != body) {
        markDetached(body);
      }
    }
    applyBoundIfStale();
    java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();
    return () -> {
      if (released.compareAndSet(false, true)) {
        release(body);
      }
    };
  }

  private void release(byte[] body) {
    synchronized (held) {
      Held h = held.get(body);
      if (h == null || --h.readers > 0) {
        return;
      }
      held.remove(body);
      if (h.detached) {
        detachedBytes -= h.weight;
        boundStale = true;
      }
    }
    applyBoundIfStale();
  }

  /** Caffeine removed {@code e}: a pinned body no longer stored under {@code key} becomes detached. */
  private void onRemoved(String key, Entry e) {
    synchronized (held) {
      if (held.isEmpty()) {
        return;
      }
      Held h = held.get(e.body());
      if (h == null || h.detached) {
        return;
      }
      Entry now = cache.policy().getIfPresentQuietly(key);
      if (now != null && now.body() == e.body()) {
        return; // replaced by an entry sharing the body (freshened or soft-purged): still stored
      }
    }
    markDetached(e.body());
  }

  private void markDetached(byte[] body) {
    synchronized (held) {
      Held h = held.get(body);
      if (h != null && !h.detached) {
        h.detached = true;
        detachedBytes += h.weight;
        boundStale = true;
      }
    }
  }

  private long detachedWeight(String key, byte[] body) {
    Entry bare = new Entry(new byte[0], body, Set.of());
    return weigh(key, bare);
  }

  /**
   * Whether a large body of {@code bytes} is worth reading whole to store here now: not while the
   * bound is lowered (shedding), and only while held bodies leave at least half of it.
   */
  public boolean admitsLarge(long bytes) {
    long t = target;
    if (t < maxBytes || bytes > maxObjectBytes) {
      return false;
    }
    synchronized (held) {
      return detachedBytes + bytes <= t / 2;
    }
  }

  /** Bytes of bodies that readers hold and this tier no longer stores (counted against the bound). */
  public long detachedBytes() {
    synchronized (held) {
      return detachedBytes;
    }
  }

  private void applyBoundIfStale() {
    if (boundStale) {
      applyBound();
    }
  }

  /** Sets Caffeine's bound: the target less detached bodies and the large entries waiting. */
  private void applyBound() {
    long detached;
    synchronized (held) {
      boundStale = false;
      detached = detachedBytes;
    }
    long t = target;
    if (t < maxBytes && grace.size() > 0) { // shedding: the waiting entries are judged now
      judge(grace.releaseAll());
    }
    long bound = Math.max(0, t - detached - grace.heldBytes());
    cache.policy().eviction().ifPresent(ev -> {
      if (ev.getMaximum() != bound) {
        ev.setMaximum(bound);
      }
    });
  }

  /**
   * Lowers (or restores) the bound on weighed bytes while running, between 0 and the configured
   * {@code maxBytes}; entries over the new bound (less any detached bodies) are evicted at once (as
   * any eviction, on the maintenance executor). Thread-safe. Used to shed cache under heap pressure.
   */
  public void setMaximum(long bytes) {
    target = Math.max(0, Math.min(maxBytes, bytes));
    applyBound();
    cache.cleanUp();
  }

  /**
   * The bound in force now: {@code maxBytes} unless {@link #setMaximum} lowered it. Stored entries
   * and {@linkplain #detachedBytes() detached bodies} together stay within it.
   */
  public long maximum() {
    return target;
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
