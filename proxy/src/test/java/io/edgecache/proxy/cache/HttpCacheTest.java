package io.edgecache.proxy.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.ResponseView;
import io.edgecache.storage.DiskOptions;
import io.edgecache.storage.DiskStore;
import io.edgecache.storage.Entry;
import io.edgecache.storage.MemoryStore;
import io.edgecache.storage.Selector;
import io.edgecache.storage.Store;
import io.edgecache.storage.StoreStats;
import io.edgecache.storage.TieredStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HttpCache over real stores: variants, purge counts and kinds, the purge epoch, and what purges read. */
class HttpCacheTest {
  private static final String URL = "http://edge.test/a";
  private static final Headers NO_REQUEST_FIELDS = Headers.of();

  @TempDir Path tmp;
  private Store store;

  @AfterEach
  void close() {
    if (store != null) {
      store.close();
    }
  }

  private HttpCache memoryCache() {
    store = new MemoryStore(1 << 20, 64 * 1024);
    return new HttpCache(store);
  }

  /** Memory over disk; bodies above 1 KiB live on disk only and are streamed. */
  private HttpCache tieredCache() {
    DiskStore disk = DiskStore.open(new DiskOptions(tmp.resolve("db"), 8 << 20, 1024, 2, 1 << 20, Duration.ofSeconds(30)));
    store = new TieredStore(new MemoryStore(1 << 20, 1024), disk);
    return new HttpCache(store);
  }

  private static <T> T join(CompletionStage<T> stage) {
    return stage.toCompletableFuture().join();
  }

  private static ResponseView response(String... nameValues) {
    String[] all = new String[nameValues.length + 2];
    all[0] = "cache-control";
    all[1] = "max-age=60";
    System.arraycopy(nameValues, 0, all, 2, nameValues.length);
    return new ResponseView(200, Headers.of(all), 1000, 1000);
  }

  private static byte[] body(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void store(HttpCache cache, String key, Headers request, ResponseView view, byte[] body) {
    assertTrue(join(cache.store(key, request, view, body, Tags.of(view.headers()), cache.epoch())));
  }

  @Test
  void lookup_afterStore_findsTheResponseInMemory() {
    HttpCache cache = memoryCache();
    store(cache, URL, NO_REQUEST_FIELDS, response(), body("one"));

    HttpCache.Lookup l = join(cache.lookup(URL, NO_REQUEST_FIELDS));
    assertArrayEquals(body("one"), l.response().body());
    assertFalse(l.fromDisk());
  }

  @Test
  void lookup_varyingResponses_findsEachVariantAndMissesAnUnknownOne() {
    HttpCache cache = memoryCache();
    store(cache, URL, Headers.of("accept-encoding", "gzip"), response("vary", "Accept-Encoding"), body("gz"));
    store(cache, URL, Headers.of("accept-encoding", "br"), response("vary", "Accept-Encoding"), body("br"));

    assertArrayEquals(body("gz"), join(cache.lookup(URL, Headers.of("accept-encoding", "gzip"))).response().body());
    assertArrayEquals(body("br"), join(cache.lookup(URL, Headers.of("accept-encoding", "br"))).response().body());
    HttpCache.Lookup miss = join(cache.lookup(URL, Headers.of("accept-encoding", "zstd")));
    assertNull(miss.response());
    assertTrue(miss.varyMiss());
  }

  @Test
  void store_moreVariantsThanTheCap_dropsTheOldestAndKeepsTheStoreBounded() {
    store = new MemoryStore(1 << 20, 64 * 1024);
    HttpCache cache = new HttpCache(store, 3);
    for (int i = 0; i < 5; i++) {
      store(cache, URL, Headers.of("x-variant", "v" + i), response("vary", "X-Variant"), body("body" + i));
    }

    for (int i = 0; i < 2; i++) {
      HttpCache.Lookup dropped = join(cache.lookup(URL, Headers.of("x-variant", "v" + i)));
      assertNull(dropped.response(), "variant v" + i + " was dropped");
      assertTrue(dropped.varyMiss());
    }
    for (int i = 2; i < 5; i++) {
      assertArrayEquals(body("body" + i), join(cache.lookup(URL, Headers.of("x-variant", "v" + i))).response().body());
    }
    assertEquals(4, store.stats().entries(), "three variants and the Vary spec");
  }

  @Test
  void purgeUrl_withVariants_countsResponsesNotTheSpecAndRemovesAll() {
    HttpCache cache = memoryCache();
    store(cache, URL, Headers.of("accept-encoding", "gzip"), response("vary", "Accept-Encoding"), body("gz"));
    store(cache, URL, Headers.of("accept-encoding", "br"), response("vary", "Accept-Encoding"), body("br"));

    assertEquals(2, join(cache.purgeUrl(URL, false)));
    assertNull(join(cache.lookup(URL, Headers.of("accept-encoding", "gzip"))).response());
    assertFalse(join(cache.lookup(URL, Headers.of("accept-encoding", "gzip"))).varyMiss(), "the spec went too");
    assertEquals(0, store.stats().entries());
  }

  @Test
  void purgeUrl_soft_marksEveryVariantStaleAndKeepsThem() {
    HttpCache cache = memoryCache();
    store(cache, URL, Headers.of("accept-encoding", "gzip"), response("vary", "Accept-Encoding"), body("gz"));
    store(cache, URL, Headers.of("accept-encoding", "br"), response("vary", "Accept-Encoding"), body("br"));

    assertEquals(2, join(cache.purgeUrl(URL, true)));
    CachedResponse gz = join(cache.lookup(URL, Headers.of("accept-encoding", "gzip"))).response();
    assertTrue(gz.invalidated());
    assertArrayEquals(body("gz"), gz.body());
  }

  @Test
  void purgePrefix_countsResponsesOfMatchingUrlsOnly() {
    HttpCache cache = memoryCache();
    store(cache, "http://edge.test/static/a", NO_REQUEST_FIELDS, response(), body("a"));
    store(cache, "http://edge.test/static/b", Headers.of("accept-encoding", "gzip"), response("vary", "Accept-Encoding"),
        body("b"));
    store(cache, "http://edge.test/other", NO_REQUEST_FIELDS, response(), body("o"));

    assertEquals(2, join(cache.purgePrefix("http://edge.test/static/", false)));
    assertNotNull(join(cache.lookup("http://edge.test/other", NO_REQUEST_FIELDS)).response());
    assertEquals(1, store.stats().entries(), "the spec of /static/b went with it");
  }

  @Test
  void purgeTag_andPurgeAll_countResponses() {
    HttpCache cache = memoryCache();
    store(cache, "http://edge.test/1", NO_REQUEST_FIELDS, response("surrogate-key", "p1 all"), body("1"));
    store(cache, "http://edge.test/2", NO_REQUEST_FIELDS, response("surrogate-key", "p2 all"), body("2"));
    store(cache, "http://edge.test/3", Headers.of("accept-encoding", "gzip"), response("vary", "Accept-Encoding"), body("3"));

    assertEquals(1, join(cache.purgeTag("p1", false)));
    assertEquals(2, join(cache.purgeAll(false)));
    assertEquals(0, store.stats().entries());
  }

  @Test
  void store_fillThatBeganBeforeAPurgeOfItsUrl_isNotStored() {
    HttpCache cache = memoryCache();
    long epoch = cache.epoch();
    join(cache.purgeUrl(URL, false));

    assertFalse(join(cache.store(URL, NO_REQUEST_FIELDS, response(), body("old"), Set.of(), epoch)));
    assertNull(join(cache.lookup(URL, NO_REQUEST_FIELDS)).response());
    assertTrue(join(cache.store("http://edge.test/other", NO_REQUEST_FIELDS, response(), body("x"), Set.of(), epoch)),
        "a URL purge does not void fills of other URLs");
  }

  @Test
  void purgeUrl_largeResponseOnDisk_softAndHardWithoutReadingBodies() {
    CountingStore counting = new CountingStore(tieredCache().store());
    HttpCache cache = new HttpCache(counting);
    byte[] large = new byte[200 * 1024];
    store(cache, URL, NO_REQUEST_FIELDS, response(), large);
    HttpCache.Lookup first = join(cache.lookup(URL, NO_REQUEST_FIELDS));
    assertTrue(first.fromDisk());
    assertNotNull(first.response().stream(), "a large body streams from disk");
    counting.reads.set(0);

    assertEquals(1, join(cache.purgeUrl(URL, true)));
    assertEquals(1, join(cache.purgeUrl(URL, false)));
    assertEquals(0, counting.reads.get(), "purges read only metadata");
    assertNull(join(cache.lookup(URL, NO_REQUEST_FIELDS)).response());
  }

  @Test
  void purgeUrl_softOnDisk_lookupSeesItInvalidatedWithTheSameBody() {
    HttpCache cache = tieredCache();
    byte[] large = new byte[50 * 1024];
    large[7] = 42;
    store(cache, URL, NO_REQUEST_FIELDS, response(), large);

    assertEquals(1, join(cache.purgeUrl(URL, true)));
    CachedResponse r = join(cache.lookup(URL, NO_REQUEST_FIELDS)).response();
    assertTrue(r.invalidated());
    assertEquals(large.length, r.bodyLength());
  }

  @Test
  void freshen_diskStreamedBody_rewritesHeadersKeepsBody() {
    HttpCache cache = tieredCache();
    byte[] large = new byte[50 * 1024];
    large[9] = 7;
    store(cache, URL, NO_REQUEST_FIELDS, response("etag", "\"v1\""), large);
    CachedResponse old = join(cache.lookup(URL, NO_REQUEST_FIELDS)).response();
    assertNotNull(old.stream());

    ResponseView updated = new ResponseView(200, Headers.of("cache-control", "max-age=600", "etag", "\"v1\""), 5000, 5000);
    assertTrue(join(cache.freshen(URL, old, updated, cache.epoch())));
    CachedResponse now = join(cache.lookup(URL, NO_REQUEST_FIELDS)).response();
    assertEquals("max-age=600", now.view().headers().get("cache-control"));
    assertEquals(5000, now.view().responseTimeMs());
    assertEquals(large.length, now.bodyLength());
    assertFalse(join(cache.freshen(URL, old, updated, cache.epoch())), "no longer the response that was revalidated");
  }

  @Test
  void freshen_afterAPurgeOfTheUrl_doesNotBringItBack() {
    HttpCache cache = memoryCache();
    store(cache, URL, NO_REQUEST_FIELDS, response(), body("old"));
    CachedResponse old = join(cache.lookup(URL, NO_REQUEST_FIELDS)).response();
    long epoch = cache.epoch();
    join(cache.purgeUrl(URL, false));

    assertFalse(join(cache.freshen(URL, old, response(), epoch)));
    assertNull(join(cache.lookup(URL, NO_REQUEST_FIELDS)).response());
  }

  /** A store that counts the operations that may read bodies. */
  private static final class CountingStore implements Store {
    final AtomicInteger reads = new AtomicInteger();
    private final Store inner;

    CountingStore(Store inner) {
      this.inner = inner;
    }

    @Override
    public CompletionStage<Found> lookup(String key) {
      reads.incrementAndGet();
      return inner.lookup(key);
    }

    @Override
    public CompletionStage<Entry> get(String key) {
      reads.incrementAndGet();
      return inner.get(key);
    }

    @Override
    public CompletionStage<byte[]> metadata(String key) {
      return inner.metadata(key);
    }

    @Override
    public CompletionStage<Void> put(String key, Entry entry) {
      return inner.put(key, entry);
    }

    @Override
    public CompletionStage<Map<String, Set<String>>> removeMatching(Selector selector) {
      return inner.removeMatching(selector);
    }

    @Override
    public CompletionStage<Set<String>> rewriteMatching(Selector selector, UnaryOperator<byte[]> rewrite) {
      return inner.rewriteMatching(selector, rewrite);
    }

    @Override
    public CompletionStage<List<String>> keys(Selector selector) {
      return inner.keys(selector);
    }

    @Override
    public StoreStats stats() {
      return inner.stats();
    }

    @Override
    public void close() {
      inner.close();
    }
  }
}
