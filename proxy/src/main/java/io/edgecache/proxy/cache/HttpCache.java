package io.edgecache.proxy.cache;

import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.ResponseView;
import io.edgecache.proxy.policy.Vary;
import io.edgecache.storage.DiskBody;
import io.edgecache.storage.DiskWriter;
import io.edgecache.storage.Entry;
import io.edgecache.storage.Selector;
import io.edgecache.storage.Store;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Binds HTTP responses to a {@link Store}: primary keys, Vary variants, purges, encode and decode.
 *
 * <p>A response without Vary lives under its primary key. When responses vary, the primary key
 * holds a {@link EntryCodec.VarySpec} (the Vary names and the variants seen) and each variant
 * lives under {@code primary + '\u0001' + secondaryKey}. A lookup is then two store reads; a
 * lookup of a non-varying response is one.
 *
 * <p>Purge safety: every purge takes the next number of a purge sequence under a write lock and
 * records it: a URL purge (or an invalidation after an unsafe method) against its key, a prefix,
 * tag or "all" purge globally. A fill records the sequence when it starts ({@link #epoch()}) and
 * {@link #store} commits only if neither its key nor the whole cache was purged since, checking and
 * writing under the read lock. So a fill that started before a purge touching its key can never
 * make purged content visible after it, while the frequent URL invalidations (every successful
 * POST) do not void unrelated fills. The per-key records are bounded; one that is dropped raises
 * the global mark instead, which only errs on the safe side. Callbacks complete on the thread that
 * completed the store operation (the caller's, for the memory tier).
 */
public final class HttpCache {
  /** Separates a primary key from a secondary (variant) key. */
  static final char VARIANT_SEPARATOR = '\u0001';
  /** Suffix of the key that holds a stored partial (206) response of a URL. */
  static final String PARTIAL_SUFFIX = "\u0002partial";
  /**
   * The tag a Vary spec entry carries so purges can tell it from a response without reading it.
   * A NUL cannot occur in a field value (RFC 9110 5.5), so no Surrogate-Key or Cache-Tag equals it.
   */
  static final String SPEC_TAG = "\u0000vary-spec";
  /** Variants remembered per URL by default ({@code limits.maxVariants}). */
  static final int MAX_VARIANTS = 64;

  private final Store store;
  /** Variants remembered per URL; storing one more removes the oldest, so a URL cannot fill the cache. */
  private final int maxVariants;
  private final AtomicLong sequence = new AtomicLong();
  /** The sequence number of the latest purge that touched every key. */
  private final AtomicLong globalMark = new AtomicLong();
  /** Per-URL purge sequence numbers; when one is dropped, the global mark covers it. */
  private final com.github.benmanes.caffeine.cache.Cache<String, Long> urlMarks =
      com.github.benmanes.caffeine.cache.Caffeine.newBuilder()
          .maximumSize(100_000)
          .expireAfterWrite(java.time.Duration.ofHours(1))
          .executor(Runnable::run)
          .removalListener((String k, Long seq, com.github.benmanes.caffeine.cache.RemovalCause cause) -> {
            if (cause.wasEvicted() && seq != null) {
              globalMark.accumulateAndGet(seq, Math::max);
            }
          })
          .build();
  private final ReentrantReadWriteLock commitLock = new ReentrantReadWriteLock();

  public HttpCache(Store store) {
    this(store, MAX_VARIANTS);
  }

  public HttpCache(Store store, int maxVariants) {
    this.store = store;
    this.maxVariants = maxVariants;
  }

  public Store store() {
    return store;
  }

  /** The purge sequence now: read it when a fill starts and hand it to {@link #store}. */
  public long epoch() {
    return sequence.get();
  }

  /** Whether a purge touching {@code primaryKey} began after {@code epochAtStart}. */
  private boolean purgedSince(String primaryKey, long epochAtStart) {
    if (globalMark.get() > epochAtStart) {
      return true;
    }
    Long mark = urlMarks.getIfPresent(primaryKey);
    return mark != null && mark > epochAtStart;
  }

  /**
   * What a lookup found: a response, or nothing (with whether a variant spec existed), and whether
   * it came from the disk tier.
   */
  public record Lookup(CachedResponse response, boolean varyMiss, boolean fromDisk) {
    static final Lookup MISS = new Lookup(null, false, false);
    static final Lookup VARY_MISS = new Lookup(null, true, false);
  }

  private record Read(Object decoded, boolean fromDisk) {}

  private static final Read NOTHING = new Read(null, false);

  /** Reads and decodes one key; a body the store streams from disk comes back as a stream. */
  private CompletionStage<Read> read(String key) {
    return store.lookup(key).thenApply(found -> {
      if (found == null) {
        return NOTHING;
      }
      boolean fromDisk = found.tier() == Store.Tier.DISK;
      if (found.entry() != null) {
        return new Read(decode(found.entry()), fromDisk);
      }
      return new Read(decode(found.body()), fromDisk);
    });
  }

  /**
   * Language negotiation without the origin: when responses vary only on Accept-Language and no
   * variant matches the request's header exactly, a stored variant whose Content-Language is the
   * request's single most preferred language (highest q, no tie) is what the origin would send
   * too, so it is reused. Anything less certain is a vary-miss.
   */
  private CompletionStage<Lookup> byLanguage(String primaryKey, EntryCodec.VarySpec spec, Headers request) {
    String preferred = Vary.mostPreferredLanguage(request.combined("accept-language"));
    if (preferred == null) {
      return CompletableFuture.completedFuture(Lookup.VARY_MISS);
    }
    CompletionStage<Lookup> found = CompletableFuture.completedFuture(Lookup.VARY_MISS);
    for (String sk : spec.variantKeys()) {
      found = found.thenCompose(l -> l.response() != null ? CompletableFuture.completedFuture(l)
          : read(primaryKey + VARIANT_SEPARATOR + sk).thenApply(v -> {
            if (v.decoded() instanceof CachedResponse cr
                && preferred.equalsIgnoreCase(String.valueOf(cr.view().headers().get("content-language")).trim())) {
              return new Lookup(cr, false, v.fromDisk());
            }
            return Lookup.VARY_MISS;
          }));
    }
    return found;
  }

  /** The stored partial (206) response of a URL, or null. */
  public CompletionStage<CachedResponse> lookupPartial(String primaryKey) {
    return read(primaryKey + PARTIAL_SUFFIX).thenApply(r -> r.decoded() instanceof CachedResponse cr ? cr : null);
  }

  public CompletionStage<Lookup> lookup(String primaryKey, Headers request) {
    return read(primaryKey).thenCompose(r -> {
      if (r.decoded() instanceof CachedResponse cr) {
        return CompletableFuture.completedFuture(new Lookup(cr, false, r.fromDisk()));
      }
      if (r.decoded() instanceof EntryCodec.VarySpec spec) {
        String sk = Vary.secondaryKey(spec.names(), request);
        if (!spec.variantKeys().contains(sk)) {
          // only variants the spec lists are reachable: one a purge cut off from its spec stays gone
          return spec.names().equals(List.of("accept-language")) ? byLanguage(primaryKey, spec, request)
              : CompletableFuture.completedFuture(Lookup.VARY_MISS);
        }
        return read(primaryKey + VARIANT_SEPARATOR + sk).thenCompose(v -> {
          if (v.decoded() instanceof CachedResponse cr && cr.secondaryKey().equals(sk) && cr.varyNames().equals(spec.names())) {
            return CompletableFuture.completedFuture(new Lookup(cr, false, v.fromDisk()));
          }
          if (spec.names().equals(List.of("accept-language"))) {
            return byLanguage(primaryKey, spec, request);
          }
          return CompletableFuture.completedFuture(Lookup.VARY_MISS);
        });
      }
      return CompletableFuture.completedFuture(Lookup.MISS);
    });
  }

  /** The decoded metadata of a streamed disk body, memoised on it as on an entry (the disk tier reuses open bodies). */
  private static Object decode(DiskBody b) {
    Object a = b.attachment();
    if (a == null) {
      a = EntryCodec.decode(b.meta(), null, b.tags());
      if (a instanceof CachedResponse cr) {
        a = new CachedResponse(cr.view(), null, cr.varyNames(), cr.secondaryKey(), cr.tags(), cr.invalidated(), b);
      }
      if (a != null) {
        b.attach(a);
      }
    }
    return a;
  }

  private static Object decode(Entry e) {
    if (e == null) {
      return null;
    }
    Object a = e.attachment();
    if (a == null) {
      a = EntryCodec.decode(e.meta(), e.body(), e.tags());
      if (a != null) {
        e.attach(a);
      }
    }
    return a;
  }

  /**
   * Stores a complete response for the request that produced it, under the right variant,
   * unless a purge began after {@code epochAtStart}. Completes with whether it was written.
   */
  public CompletionStage<Boolean> store(String primaryKey, Headers request, ResponseView view, byte[] body,
      Set<String> tags, long epochAtStart) {
    commitLock.readLock().lock();
    try {
      if (purgedSince(primaryKey, epochAtStart)) {
        return CompletableFuture.completedFuture(false);
      }
      return storeNow(primaryKey, request, view, body, tags).thenApply(v -> true);
    } finally {
      commitLock.readLock().unlock();
    }
  }

  private CompletionStage<Void> storeNow(String primaryKey, Headers request, ResponseView view, byte[] body, Set<String> tags) {
    if (view.status() == 206) {
      // RFC 9111 3.3: one partial response per URL, reused for ranges it covers
      return put(primaryKey + PARTIAL_SUFFIX, new CachedResponse(view, body, List.of(), "", tags, false));
    }
    List<String> names = Vary.names(view.headers(), request);
    if (names.isEmpty()) {
      return put(primaryKey, new CachedResponse(view, body, names, "", tags, false));
    }
    String sk = Vary.secondaryKey(names, request);
    return listVariant(primaryKey, names, sk)
        .thenCompose(v -> put(primaryKey + VARIANT_SEPARATOR + sk, new CachedResponse(view, body, names, sk, tags, false)));
  }

  /**
   * Adds variant {@code sk} to the Vary spec under {@code primaryKey} (a new spec when the names
   * changed), dropping the oldest variants beyond {@code limits.maxVariants}; completes when the
   * spec is written. The variant's own entry is written after it.
   */
  private CompletionStage<Void> listVariant(String primaryKey, List<String> names, String sk) {
    return store.metadata(primaryKey).thenCompose(meta -> {
      Object decoded = meta == null ? null : EntryCodec.decode(meta, null);
      List<String> keys = new ArrayList<>();
      if (decoded instanceof EntryCodec.VarySpec spec && spec.names().equals(names)) {
        keys.addAll(spec.variantKeys());
      }
      keys.remove(sk);
      keys.add(sk);
      while (keys.size() > maxVariants) {
        store.remove(primaryKey + VARIANT_SEPARATOR + keys.remove(0));
      }
      EntryCodec.VarySpec spec = new EntryCodec.VarySpec(names, List.copyOf(keys));
      Entry specEntry = new Entry(EntryCodec.encodeVary(spec), new byte[0], Set.of(SPEC_TAG));
      specEntry.attach(spec);
      return store.put(primaryKey, specEntry);
    });
  }

  /**
   * Opens the store of a response whose body will be written to the disk tier as it arrives
   * (bodies too large for the memory tier), or returns {@code null} when it cannot be: no disk
   * tier, the disk refuses the write now, a partial (206) response (stored partials are read whole),
   * or a purge of the URL since {@code epochAtStart}. {@code expectedLength} is the Content-Length,
   * or -1. The caller writes the body to {@link StreamedStore#writer()}, then commits or aborts.
   */
  public StreamedStore openStream(String primaryKey, Headers request, ResponseView view, Set<String> tags,
      long epochAtStart, long expectedLength) {
    if (view.status() == 206 || purgedSince(primaryKey, epochAtStart)) {
      return null;
    }
    List<String> names = Vary.names(view.headers(), request);
    String sk = names.isEmpty() ? "" : Vary.secondaryKey(names, request);
    String key = names.isEmpty() ? primaryKey : primaryKey + VARIANT_SEPARATOR + sk;
    DiskWriter w = store.openWriter(key, EntryCodec.encodeResponse(view, names, sk, false), tags, expectedLength);
    return w == null ? null : new StreamedStore(primaryKey, names, sk, epochAtStart, w);
  }

  /**
   * One response being stored as its body arrives (see {@link #openStream}). The purge rule of
   * {@link #store} holds: a purge touching the URL since the fill began voids the commit.
   */
  public final class StreamedStore {
    private final String primaryKey;
    private final List<String> names;
    private final String secondaryKey;
    private final long epochAtStart;
    private final DiskWriter writer;

    private StreamedStore(String primaryKey, List<String> names, String secondaryKey, long epochAtStart,
        DiskWriter writer) {
      this.primaryKey = primaryKey;
      this.names = names;
      this.secondaryKey = secondaryKey;
      this.epochAtStart = epochAtStart;
      this.writer = writer;
    }

    /** Where the body goes, and where readers coalesced on this fill can follow it. */
    public DiskWriter writer() {
      return writer;
    }

    /**
     * The body is complete: commits it (after listing the variant in the URL's Vary spec) unless
     * a purge touching the URL began since the fill started, the body is not the announced length
     * or the disk failed; completes with whether it was stored, on a storage thread.
     */
    public CompletionStage<Boolean> commit() {
      commitLock.readLock().lock();
      try {
        if (purgedSince(primaryKey, epochAtStart)) {
          return writer.finishUnstored(); // the clients coalesced on it before the purge still get it whole
        }
      } finally {
        commitLock.readLock().unlock();
      }
      // a purge from here on is recorded by the store after this write was opened, so it wins there
      if (names.isEmpty()) {
        return writer.commit();
      }
      return listVariant(primaryKey, names, secondaryKey).handle((v, failure) -> failure).thenCompose(failure -> {
        if (failure != null) {
          writer.abort(); // the variant could not be listed, so it could not be found: keep nothing
          return writer.done();
        }
        return writer.commit();
      });
    }

    /** Nothing is stored; the chunks written so far are deleted. */
    public void abort() {
      writer.abort();
    }
  }

  private CompletionStage<Void> put(String key, CachedResponse cr) {
    Entry entry = new Entry(EntryCodec.encodeResponse(cr.view(), cr.varyNames(), cr.secondaryKey(), cr.invalidated()),
        cr.body(), cr.tags());
    // the attachment shares the entry's tag set, so the heap the memory tier weighs holds one copy
    entry.attach(new CachedResponse(cr.view(), cr.body(), cr.varyNames(), cr.secondaryKey(), entry.tags(),
        cr.invalidated(), cr.stream()));
    return store.put(key, entry);
  }

  /**
   * Pins the body of {@code cr}, found under {@code primaryKey}, while a reader is sent it slowly,
   * so the store counts it if it evicts the entry meanwhile ({@link Store#pin}).
   */
  public Store.Pin pin(String primaryKey, CachedResponse cr) {
    return cr.body() == null ? Store.Pin.NONE : store.pin(keyOf(primaryKey, cr), cr.body());
  }

  private static String keyOf(String primaryKey, CachedResponse cr) {
    return cr.varyNames().isEmpty() ? primaryKey : primaryKey + VARIANT_SEPARATOR + cr.secondaryKey();
  }

  /**
   * Replaces the stored headers and times of {@code old} (after a 304), keeping its body, unless a
   * purge touching the URL began after {@code epochAtStart} (the revalidation's start). A body held
   * whole is stored again with the new headers; a body streamed from disk keeps its chunks and only
   * its metadata record is rewritten, and only while it is still the response that was revalidated
   * (a newer one stored meanwhile is left alone). Completes with whether the update was applied.
   */
  public CompletionStage<Boolean> freshen(String primaryKey, CachedResponse old, ResponseView updated,
      long epochAtStart) {
    CachedResponse fresh =
        new CachedResponse(updated, old.body(), old.varyNames(), old.secondaryKey(), old.tags(), false);
    String key = keyOf(primaryKey, old);
    commitLock.readLock().lock();
    try {
      if (purgedSince(primaryKey, epochAtStart)) {
        return CompletableFuture.completedFuture(false);
      }
      if (old.body() != null) {
        return put(key, fresh).thenApply(v -> true);
      }
      byte[] before = EntryCodec.encodeResponse(old.view(), old.varyNames(), old.secondaryKey(), old.invalidated());
      byte[] after = EntryCodec.encodeResponse(updated, old.varyNames(), old.secondaryKey(), false);
      return store.rewriteMatching(Selector.key(key), current -> Arrays.equals(current, before) ? after : null)
          .thenApply(rewritten -> !rewritten.isEmpty());
    } finally {
      commitLock.readLock().unlock();
    }
  }

  // ------------------------------------------------------------------ invalidation and purge

  /** Removes every stored variant of a URL; completes with how many responses went. */
  public CompletionStage<Integer> invalidate(String primaryKey) {
    return purgeUrl(primaryKey, false);
  }

  /**
   * Purges every variant of one URL: removes them, or with {@code soft} marks them stale so they
   * can still be revalidated or served under stale-while-revalidate / stale-if-error. Completes
   * with how many stored responses were purged.
   *
   * <p>Only the URL's metadata is read (to learn its variants), never a body; the removal is
   * ordered before any write of these keys already queued (see {@link Store}). A variant whose
   * write is queued but that the spec does not list yet is left without a spec, where lookups
   * cannot reach it.
   */
  public CompletionStage<Integer> purgeUrl(String primaryKey, boolean soft) {
    beginPurge(primaryKey);
    return store.metadata(primaryKey).thenCompose(meta -> {
      Object decoded = meta == null ? null : EntryCodec.decode(meta, null);
      Set<String> keys = new HashSet<>();
      keys.add(primaryKey);
      keys.add(primaryKey + PARTIAL_SUFFIX);
      if (decoded instanceof EntryCodec.VarySpec spec) {
        for (String sk : spec.variantKeys()) {
          keys.add(primaryKey + VARIANT_SEPARATOR + sk);
        }
      }
      // exact keys: found without walking the store
      return purge(Selector.keys(keys), soft);
    });
  }

  /** Purges every URL whose key starts with {@code keyPrefix} (e.g. {@code http://host/static/}). */
  public CompletionStage<Integer> purgePrefix(String keyPrefix, boolean soft) {
    beginPurge(null);
    return purge(Selector.prefix(keyPrefix), soft);
  }

  /** Purges every response stored with {@code tag} (from Surrogate-Key or Cache-Tag). */
  public CompletionStage<Integer> purgeTag(String tag, boolean soft) {
    beginPurge(null);
    return purge(Selector.tagged(tag), soft);
  }

  /** Purges everything. */
  public CompletionStage<Integer> purgeAll(boolean soft) {
    beginPurge(null);
    return purge(Selector.all(), soft);
  }

  /** Records a purge of one URL ({@code primaryKey}) or, with null, of every key. */
  private void beginPurge(String primaryKey) {
    commitLock.writeLock().lock();
    try {
      long seq = sequence.incrementAndGet();
      if (primaryKey == null) {
        globalMark.set(seq);
      } else {
        urlMarks.put(primaryKey, seq);
      }
    } finally {
      commitLock.writeLock().unlock();
    }
  }

  /**
   * Removes (hard) or marks stale (soft) what the selector names, in one pass; counts stored
   * responses, not the Vary specs that index them (told apart by {@link #SPEC_TAG}). A hard purge
   * removes specs with their URLs; a soft one keeps them.
   */
  private CompletionStage<Integer> purge(Selector selector, boolean soft) {
    if (soft) {
      return store.rewriteMatching(selector, EntryCodec::markInvalidated).thenApply(Set::size);
    }
    return store.removeMatching(selector).thenApply(HttpCache::responses);
  }

  private static int responses(Map<String, Set<String>> removed) {
    int n = 0;
    for (Set<String> tags : removed.values()) {
      if (!tags.contains(SPEC_TAG)) {
        n++;
      }
    }
    return n;
  }
}
