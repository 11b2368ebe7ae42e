package io.edgecache.proxy.cache;

import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.ResponseView;
import io.edgecache.proxy.policy.Vary;
import io.edgecache.storage.Entry;
import io.edgecache.storage.Store;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Binds HTTP responses to a {@link Store}: primary keys, Vary variants, encode and decode.
 *
 * <p>A response without Vary lives under its primary key. When responses vary, the primary key
 * holds a {@link EntryCodec.VarySpec} (the Vary names and the variants seen) and each variant
 * lives under {@code primary + '\u0001' + secondaryKey}. A lookup is then two store reads; a
 * lookup of a non-varying response is one. Callbacks complete on the thread that completed the
 * store operation (the caller's, for the memory tier).
 */
public final class HttpCache {
  /** Separates a primary key from a secondary (variant) key. */
  static final char VARIANT_SEPARATOR = '\u0001';
  /** Variants remembered per URL; older ones are dropped from the spec (and so unreachable). */
  static final int MAX_VARIANTS = 64;

  private final Store store;

  public HttpCache(Store store) {
    this.store = store;
  }

  public Store store() {
    return store;
  }

  /** What a lookup found: a response, or nothing (with whether a variant spec existed). */
  public record Lookup(CachedResponse response, boolean varyMiss) {
    static final Lookup MISS = new Lookup(null, false);
    static final Lookup VARY_MISS = new Lookup(null, true);
  }

  public CompletionStage<Lookup> lookup(String primaryKey, Headers request) {
    return store.get(primaryKey).thenCompose(e -> {
      Object decoded = decode(e);
      if (decoded instanceof CachedResponse cr) {
        return CompletableFuture.completedFuture(new Lookup(cr, false));
      }
      if (decoded instanceof EntryCodec.VarySpec spec) {
        String sk = Vary.secondaryKey(spec.names(), request);
        return store.get(primaryKey + VARIANT_SEPARATOR + sk).thenApply(v -> {
          Object d = decode(v);
          if (d instanceof CachedResponse cr && cr.secondaryKey().equals(sk) && cr.varyNames().equals(spec.names())) {
            return new Lookup(cr, false);
          }
          return Lookup.VARY_MISS;
        });
      }
      return CompletableFuture.completedFuture(Lookup.MISS);
    });
  }

  private static Object decode(Entry e) {
    if (e == null) {
      return null;
    }
    Object a = e.attachment();
    if (a == null) {
      a = EntryCodec.decode(e.meta(), e.body());
      if (a != null) {
        e.attach(a);
      }
    }
    return a;
  }

  /**
   * Stores a complete response for the request that produced it, under the right variant.
   * Completes when the store accepted (or declined) it.
   */
  public CompletionStage<Void> store(String primaryKey, Headers request, ResponseView view, byte[] body, Set<String> tags) {
    List<String> names = Vary.names(view.headers());
    if (names.isEmpty()) {
      return put(primaryKey, view, body, names, "", tags);
    }
    String sk = Vary.secondaryKey(names, request);
    return store.get(primaryKey).thenCompose(e -> {
      Object decoded = decode(e);
      List<String> keys = new ArrayList<>();
      if (decoded instanceof EntryCodec.VarySpec spec && spec.names().equals(names)) {
        keys.addAll(spec.variantKeys());
      }
      keys.remove(sk);
      keys.add(sk);
      while (keys.size() > MAX_VARIANTS) {
        store.remove(primaryKey + VARIANT_SEPARATOR + keys.remove(0));
      }
      EntryCodec.VarySpec spec = new EntryCodec.VarySpec(names, List.copyOf(keys));
      Entry specEntry = new Entry(EntryCodec.encodeVary(spec), new byte[0], Set.of());
      specEntry.attach(spec);
      return store.put(primaryKey, specEntry)
          .thenCompose(v -> put(primaryKey + VARIANT_SEPARATOR + sk, view, body, names, sk, tags));
    });
  }

  private CompletionStage<Void> put(String key, ResponseView view, byte[] body, List<String> names, String sk, Set<String> tags) {
    Entry entry = new Entry(EntryCodec.encodeResponse(view, names, sk), body, tags);
    entry.attach(new CachedResponse(view, body, names, sk));
    return store.put(key, entry);
  }

  /** Replaces the stored headers and times of {@code old} (after a 304), keeping its body. */
  public CompletionStage<Void> freshen(String primaryKey, CachedResponse old, ResponseView updated, Set<String> tags) {
    String key = old.varyNames().isEmpty() ? primaryKey : primaryKey + VARIANT_SEPARATOR + old.secondaryKey();
    return put(key, updated, old.body(), old.varyNames(), old.secondaryKey(), tags);
  }

  /** Removes every stored variant of a URL; completes with how many entries went. */
  public CompletionStage<Integer> invalidate(String primaryKey) {
    return store.get(primaryKey).thenCompose(e -> {
      Object decoded = decode(e);
      List<CompletionStage<Boolean>> removals = new ArrayList<>();
      if (decoded instanceof EntryCodec.VarySpec spec) {
        for (String sk : spec.variantKeys()) {
          removals.add(store.remove(primaryKey + VARIANT_SEPARATOR + sk));
        }
      }
      removals.add(store.remove(primaryKey));
      CompletableFuture<?>[] all = removals.stream().map(CompletionStage::toCompletableFuture).toArray(CompletableFuture[]::new);
      return CompletableFuture.allOf(all).thenApply(v -> {
        int n = 0;
        for (CompletableFuture<?> f : all) {
          if (Boolean.TRUE.equals(f.join())) {
            n++;
          }
        }
        return n;
      });
    });
  }
}
