package io.edgecache.proxy.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A large new object in a full, warm cache is kept at its first fetch, as nginx and Varnish keep
 * it: its second request is a hit and the origin saw one request for it. Before, the admission
 * policy judged it at once against entries that had each been read several times, and it was
 * fetched again (and, in the disk tier, written whole again) at each request until it had been
 * asked for more often than they had; each of those answers said {@code stored}.
 */
class LargeObjectAdmissionIntegrationTest extends ProxyHarness {
  private static final int WARM_OBJECTS = 300;
  private static final int WARM_SIZE = 32 * 1024;
  private static final int LARGE_SIZE = 1_000_000; // over 1% of the 8 MiB tiers below

  @TempDir
  Path dir;
  private final Map<String, AtomicInteger> fetches = new ConcurrentHashMap<>();

  private void sizedOrigin() {
    origin.handle(r -> {
      fetches.computeIfAbsent(r.path(), p -> new AtomicInteger()).incrementAndGet();
      int size = Integer.parseInt(r.getParam("size", "1000"));
      r.response().putHeader("Cache-Control", "max-age=3600")
          .end(Buffer.buffer(DiskTierIntegrationTest.content(r.path(), size)));
    });
  }

  /** Fetches {@link #WARM_OBJECTS} objects (more than the tier holds), then asks for each 4 more times. */
  private void warm(Runnable afterFetch) throws Exception {
    for (int i = 0; i < WARM_OBJECTS; i++) {
      RawHttp.get(port(), "/h" + i + "?size=" + WARM_SIZE);
    }
    afterFetch.run();
    for (int r = 0; r < 4; r++) {
      for (int i = 0; i < WARM_OBJECTS; i++) {
        RawHttp.get(port(), "/h" + i + "?size=" + WARM_SIZE);
      }
    }
  }

  private void assertSecondRequestHits(Runnable afterFirst) throws Exception {
    byte[] expected = DiskTierIntegrationTest.content("/new.bin", LARGE_SIZE);
    RawHttp.Response first = RawHttp.get(port(), "/new.bin?size=" + LARGE_SIZE);
    assertTrue(first.header("Cache-Status").contains("stored"), first.header("Cache-Status"));
    afterFirst.run();

    RawHttp.Response second = RawHttp.get(port(), "/new.bin?size=" + LARGE_SIZE);

    assertTrue(second.header("Cache-Status").startsWith("edgecache; hit"), second.header("Cache-Status"));
    assertArrayEquals(expected, second.body());
    assertEquals(1, fetches.get("/new.bin").get());
  }

  @Test
  void memoryTier_largeNewObjectInAFullWarmCache_isAHitAtItsSecondRequest() throws Exception {
    sizedOrigin();
    start(baseConfig().put("memory", new JsonObject().put("maxBytes", "8MiB").put("maxObjectBytes", "2MiB")));
    warm(() -> { });
    assertTrue(proxy.memory().stats().evictions() > 0, "the memory tier is full");

    assertSecondRequestHits(() -> { });
    assertTrue(proxy.memory().stats().bytes() <= 8L << 20);
  }

  @Test
  void diskTier_largeNewObjectInAFullWarmCache_isWrittenOnceAndAHitAtItsSecondRequest() throws Exception {
    sizedOrigin();
    start(baseConfig()
        .put("memory", new JsonObject().put("maxBytes", "8MiB").put("maxObjectBytes", "16KiB")) // disk only
        .put("disk", new JsonObject().put("path", dir.resolve("cache").toString()).put("maxBytes", "8MiB")
            .put("maxObjectBytes", "4MiB").put("chunkBytes", "64KiB")));
    warm(() -> committed(WARM_OBJECTS));
    assertTrue(proxy.disk().diskStats().evictions() > 0, "the disk tier is full");

    assertSecondRequestHits(() -> committed(WARM_OBJECTS + 1));
    assertTrue(proxy.disk().stats().bytes() <= 8L << 20);
  }

  /** Waits until {@code writes} disk writes have committed: each is an entry now or was evicted since. */
  private void committed(int writes) {
    await().atMost(Duration.ofSeconds(20))
        .until(() -> proxy.disk().diskStats().entries() + proxy.disk().diskStats().evictions() >= writes);
  }
}
