package io.edgecache.proxy.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.ResponseView;
import io.edgecache.storage.MemoryStore;
import java.lang.management.ManagementFactory;
import java.lang.ref.Reference;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Weighed bytes track live heap: fills a memory tier through {@link HttpCache} with responses as
 * an origin sends them (every header string its own object, as decoded from the wire) and compares
 * the heap it holds after full collections with {@code stats().bytes()}. The bound is generous (a
 * heap measurement is coarse); it catches a weigher that forgets a per-entry structure, as the old
 * one did (live heap was 2.2 times the weighed bytes for 1 KiB bodies, 3.5 times for 64 B ones).
 * Measured here, JDK 17: 1.01 (plain, 1 KiB and 64 B), 0.96-0.97 (Vary and 16 fields).
 */
class HeapAccountingTest {
  private static final Logger LOG = LoggerFactory.getLogger(HeapAccountingTest.class);
  private static final int URLS = 30_000;

  @Test
  void weighedBytes_oneKibBodies_trackLiveHeap() {
    assertTracks(1024, false);
  }

  @Test
  void weighedBytes_tinyBodiesWithVaryAndManyFields_trackLiveHeap() {
    assertTracks(64, true);
  }

  private static void assertTracks(int bodyBytes, boolean rich) {
    MemoryStore memory = new MemoryStore(1L << 40, 8L << 20, Runnable::run, HeapLayout.current()::extraBytes);
    HttpCache cache = new HttpCache(memory);
    long before = liveHeap();
    long now = System.currentTimeMillis();
    for (int i = 0; i < URLS; i++) {
      Headers h = fields(i, bodyBytes, rich);
      String key = "http://static.example.com/assets/v2/objects/item-" + i + ".bin?rev=3";
      Headers request = Headers.of(wire("accept-encoding"), wire("gzip"));
      cache.store(key, request, new ResponseView(200, h, now, now), new byte[bodyBytes], rich ? Tags.of(h) : Set.of(),
          cache.epoch()).toCompletableFuture().join();
    }
    long live = liveHeap() - before;
    long weighed = memory.stats().bytes();
    double ratio = (double) live / weighed;
    LOG.info("{} URLs, {} B bodies{}: live heap {} B/URL, weighed {} B/URL, live/weighed {}", URLS, bodyBytes,
        rich ? ", Vary and 16 fields" : "", live / URLS, weighed / URLS, String.format("%.2f", ratio));
    assertEquals(rich ? 2L * URLS : URLS, memory.stats().entries(), "every entry kept");
    assertTrue(ratio < 1.3 && ratio > 0.7, () -> "live/weighed " + ratio + " (live " + live + ", weighed " + weighed + ")");
    Reference.reachabilityFence(cache);
    memory.close();
  }

  private static Headers fields(int i, int bodyBytes, boolean rich) {
    Headers.Builder b = Headers.builder()
        .add(wire("Date"), wire("Sun, 29 Nov 2026 20:00:00 GMT"))
        .add(wire("Content-Type"), wire("application/octet-stream"))
        .add(wire("Content-Length"), Integer.toString(bodyBytes))
        .add(wire("Cache-Control"), wire("public, max-age=3600"))
        .add(wire("ETag"), "\"" + Integer.toHexString(i * 31 + 7) + "-" + i + "\"")
        .add(wire("Last-Modified"), wire("Sat, 28 Nov 2026 20:00:00 GMT"))
        .add(wire("Server"), wire("origin/1.0"))
        .add(wire("Accept-Ranges"), wire("bytes"));
    if (rich) {
      b.add(wire("Strict-Transport-Security"), wire("max-age=31536000; includeSubDomains"))
          .add(wire("Content-Security-Policy"), wire("default-src 'self'; img-src 'self' https://cdn.example.com"))
          .add(wire("X-Content-Type-Options"), wire("nosniff"))
          .add(wire("X-Frame-Options"), wire("DENY"))
          .add(wire("Access-Control-Allow-Origin"), wire("*"))
          .add(wire("X-Request-Id"), "req-" + i + "-abcdef0123456789")
          .add(wire("Vary"), wire("Accept-Encoding"))
          .add(wire("Surrogate-Key"), "product-" + i + " category-7");
    }
    return b.build();
  }

  /** A string with its own character array, as one decoded from a request or response is. */
  private static String wire(String s) {
    return String.valueOf(s.toCharArray());
  }

  private static long liveHeap() {
    long least = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      System.gc();
      least = Math.min(least, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
    return least;
  }
}
