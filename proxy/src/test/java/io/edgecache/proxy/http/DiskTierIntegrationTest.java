package io.edgecache.proxy.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.ProxyServer;
import io.edgecache.proxy.config.ConfigException;
import io.edgecache.proxy.config.ConfigLoader;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map.Entry;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.fusesource.leveldbjni.JniDBFactory;
import org.iq80.leveldb.DB;
import org.iq80.leveldb.DBIterator;
import org.iq80.leveldb.Options;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The disk tier through the proxy: restart, large bodies, corruption, bounds, purge durability. */
class DiskTierIntegrationTest extends ProxyHarness {
  @TempDir
  Path dir;

  /** Deterministic bytes per path, so what the cache returns can be checked after a restart. */
  static byte[] content(String path, int size) {
    byte[] b = new byte[size];
    new Random(path.hashCode()).nextBytes(b);
    return b;
  }

  JsonObject diskConfig(String diskMax) {
    return baseConfig()
        .put("memory", new JsonObject().put("maxBytes", "8MiB").put("maxObjectBytes", "64KiB"))
        .put("disk", new JsonObject().put("path", dir.resolve("cache").toString()).put("maxBytes", diskMax)
            .put("maxObjectBytes", "16MiB").put("chunkBytes", "64KiB"));
  }

  void sizedOrigin() {
    origin.handle(r -> {
      int size = Integer.parseInt(r.getParam("size", "1000"));
      r.response().putHeader("Cache-Control", "max-age=3600").putHeader("ETag", "\"" + r.path() + "\"")
          .end(Buffer.buffer(content(r.path(), size)));
    });
  }

  void restart(JsonObject cfg) throws Exception {
    proxy.stop().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    start(cfg);
  }

  @Test
  void revalidate_staleDiskStreamedBody_304ServesTheStreamedBytes() throws Exception {
    byte[] big = content("/stale-big", 300_000); // above memory.maxObjectBytes: streamed from disk
    origin.handle(r -> {
      if (r.getHeader("If-None-Match") != null) {
        r.response().setStatusCode(304).putHeader("ETag", "\"big\"").putHeader("Cache-Control", "max-age=600").end();
      } else {
        r.response().putHeader("Cache-Control", "max-age=1").putHeader("Age", "10").putHeader("ETag", "\"big\"")
            .end(Buffer.buffer(big));
      }
    });
    start(diskConfig("64MiB"));
    assertArrayEquals(big, RawHttp.get(port(), "/stale-big").body());
    await().atMost(Duration.ofSeconds(5)).until(() -> proxy.disk().stats().entries() > 0);
    RawHttp.Response revalidated = RawHttp.get(port(), "/stale-big");
    assertEquals(200, revalidated.status());
    assertTrue(revalidated.header("Cache-Status").contains("fwd-status=304"), revalidated.header("Cache-Status"));
    assertArrayEquals(big, revalidated.body());
  }

  @Test
  void softPurge_ofADiskStreamedBodyServedBefore_nextRequestRevalidatesThenHitsAgain() throws Exception {
    byte[] big = content("/soft-big", 300_000); // above memory.maxObjectBytes: streamed from disk
    origin.handle(r -> {
      if (r.getHeader("If-None-Match") != null) {
        r.response().setStatusCode(304).putHeader("ETag", "\"big\"").putHeader("Cache-Control", "max-age=600").end();
      } else {
        r.response().putHeader("Cache-Control", "max-age=600").putHeader("ETag", "\"big\"").end(Buffer.buffer(big));
      }
    });
    start(diskConfig("64MiB"));
    RawHttp.get(port(), "/soft-big");
    await().atMost(Duration.ofSeconds(5)).until(() -> proxy.disk().stats().entries() > 0);
    for (int i = 0; i < 2; i++) { // the second hit reuses the body the first one opened
      RawHttp.Response hit = RawHttp.get(port(), "/soft-big");
      assertTrue(hit.header("Cache-Status").startsWith("edgecache; hit"), hit.header("Cache-Status"));
      assertArrayEquals(big, hit.body());
    }

    assertEquals("{\"purged\": 1}", RawHttp.exchange(port(), "PURGE", "/soft-big", "Edgecache-Soft-Purge", "1")
        .text().trim());
    RawHttp.Response revalidated = RawHttp.get(port(), "/soft-big");
    assertTrue(revalidated.header("Cache-Status").contains("fwd-status=304"), revalidated.header("Cache-Status"));
    assertArrayEquals(big, revalidated.body());
    assertEquals(2, origin.requests.get());
    RawHttp.Response after = RawHttp.get(port(), "/soft-big");
    assertTrue(after.header("Cache-Status").startsWith("edgecache; hit"), after.header("Cache-Status"));
    assertArrayEquals(big, after.body());
  }

  @Test
  void restart_everythingCommittedIsServedAsAHitWithIdenticalBytes() throws Exception {
    sizedOrigin();
    JsonObject cfg = diskConfig("64MiB");
    start(cfg);
    for (int i = 0; i < 40; i++) {
      int size = i % 4 == 0 ? 300_000 : 2_000 + i; // some above the memory tier's object limit
      assertEquals(200, RawHttp.get(port(), "/obj" + i + "?size=" + size).status());
    }
    int fetched = origin.requests.get();
    restart(cfg);
    for (int i = 0; i < 40; i++) {
      int size = i % 4 == 0 ? 300_000 : 2_000 + i;
      RawHttp.Response r = RawHttp.get(port(), "/obj" + i + "?size=" + size);
      assertTrue(r.header("Cache-Status").startsWith("edgecache; hit"), i + ": " + r.header("Cache-Status"));
      assertArrayEquals(content("/obj" + i, size), r.body(), "bytes of /obj" + i);
    }
    assertEquals(fetched, origin.requests.get());
  }

  @Test
  void restart_withAnotherChunkSize_streamsEachBodyInTheChunksItWasWrittenIn() throws Exception {
    sizedOrigin();
    int size = 1_000_000;
    start(diskConfig("64MiB")); // 64 KiB chunks
    RawHttp.get(port(), "/old.bin?size=" + size);
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.disk().stats().entries() > 0);
    JsonObject bigger = diskConfig("64MiB");
    bigger.getJsonObject("disk").put("chunkBytes", "256KiB");
    restart(bigger);
    RawHttp.get(port(), "/new.bin?size=" + size);
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.disk().stats().entries() > 1);

    for (String path : new String[] {"/old.bin", "/new.bin"}) {
      byte[] expected = content(path, size);
      RawHttp.Response whole = RawHttp.get(port(), path + "?size=" + size);
      assertTrue(whole.header("Cache-Status").startsWith("edgecache; hit"), path + ": " + whole.header("Cache-Status"));
      assertArrayEquals(expected, whole.body(), path);
      // across a boundary of 64 KiB chunks and one of 256 KiB chunks
      RawHttp.Response part = RawHttp.get(port(), path + "?size=" + size, "Range", "bytes=65530-262150");
      assertEquals(206, part.status(), path);
      assertArrayEquals(Arrays.copyOfRange(expected, 65530, 262151), part.body(), path);
    }
    assertEquals(2, origin.requests.get());
  }

  @Test
  void largeBody_aboveMemoryLimit_isStreamedFromDiskIncludingRanges() throws Exception {
    sizedOrigin();
    start(diskConfig("64MiB"));
    byte[] expected = content("/big.bin", 5_000_000);
    RawHttp.get(port(), "/big.bin?size=5000000");
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.disk().stats().entries() > 0); // written on a disk worker
    RawHttp.Response hit = RawHttp.get(port(), "/big.bin?size=5000000");
    assertTrue(hit.header("Cache-Status").startsWith("edgecache; hit"), hit.header("Cache-Status"));
    assertArrayEquals(expected, hit.body());
    RawHttp.Response part = RawHttp.get(port(), "/big.bin?size=5000000", "Range", "bytes=65530-200000");
    assertEquals(206, part.status());
    assertArrayEquals(Arrays.copyOfRange(expected, 65530, 200001), part.body());
    assertEquals(0, proxy.memory().stats().entries(), "a body above memory.maxObjectBytes must not enter memory");
    String metrics = new String(RawHttp.get(proxy.adminPort(), "/metrics").body());
    assertTrue(metrics.matches("(?s).*edgecache_served_bytes_total\\{source=\"disk\"} [1-9].*"), "no disk bytes counted");
    assertEquals(1, origin.requests.get());
  }

  @Test
  void ranges_anywhereInAMultiRunDiskBody_areServedByteExactFromTheDisk() throws Exception {
    sizedOrigin();
    start(diskConfig("64MiB")); // 64 KiB chunks: several disk reads per body
    int size = 5_000_000; // the last chunk is partial
    byte[] expected = content("/ranged.bin", size);
    RawHttp.get(port(), "/ranged.bin?size=" + size);
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.disk().stats().entries() > 0);
    String[][] ranges = {
        {"bytes=1100000-3300000", "1100000", "3300000"}, // starts and ends inside chunks, spans reads
        {"bytes=65535-65536", "65535", "65536"}, // the last byte of one chunk and the first of the next
        {"bytes=131072-131072", "131072", "131072"}, // one byte, first of its chunk
        {"bytes=4980000-", "4980000", "4999999"}, // open-ended into the partial last chunk
        {"bytes=-1000", "4999000", "4999999"}, // suffix, inside the last chunk
    };
    for (String[] r : ranges) {
      RawHttp.Response part = RawHttp.get(port(), "/ranged.bin?size=" + size, "Range", r[0]);
      int first = Integer.parseInt(r[1]);
      int last = Integer.parseInt(r[2]);
      assertEquals(206, part.status(), r[0]);
      assertEquals("bytes " + first + "-" + last + "/" + size, part.header("Content-Range"), r[0]);
      assertArrayEquals(Arrays.copyOfRange(expected, first, last + 1), part.body(), r[0]);
      assertTrue(part.header("Cache-Status").startsWith("edgecache; hit"), part.header("Cache-Status"));
    }
    assertArrayEquals(expected, RawHttp.get(port(), "/ranged.bin?size=" + size).body());
    assertEquals(1, origin.requests.get());
  }

  @Test
  void stalledReaderOfALargeDiskBody_readsStopUntilItReadsThenEveryChunkIsReadOnce() throws Exception {
    sizedOrigin();
    JsonObject cfg = diskConfig("64MiB");
    cfg.getJsonObject("disk").put("maxObjectBytes", "32MiB");
    start(cfg);
    int size = 24 << 20; // well above what socket buffers and the stream's own read-ahead can hold
    byte[] expected = content("/stall.bin", size);
    RawHttp.get(port(), "/stall.bin?size=" + size);
    await().atMost(Duration.ofSeconds(20)).until(() -> proxy.disk().stats().entries() > 0);
    long before = proxy.disk().diskStats().bodyBytesRead();

    try (java.net.Socket s = RawHttp.slowGet(port(), "/stall.bin?size=" + size)) {
      // the client reads nothing: once the socket buffers are full, the disk reads stop
      java.util.concurrent.atomic.AtomicLong seen = new java.util.concurrent.atomic.AtomicLong(-1);
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(300)).until(() -> {
        long now = proxy.disk().diskStats().bodyBytesRead() - before;
        return now > 0 && seen.getAndSet(now) == now;
      });
      assertTrue(seen.get() < size / 2, "a stalled reader must not make the proxy read the body ahead of it: "
          + seen.get() + " of " + size + " bytes read");

      java.io.InputStream in = s.getInputStream();
      String head = readHead(in);
      assertTrue(head.contains("hit"), head);
      byte[] body = in.readNBytes(size);
      assertArrayEquals(expected, body);
    }
    assertEquals(size, proxy.disk().diskStats().bodyBytesRead() - before, "every chunk read exactly once");
  }

  /**
   * Many disk hits at once, on several bodies of one and of several runs, whole and ranged: the
   * reads that one event-loop turn starts go to the disk threads together
   * ({@link io.edgecache.storage.ReadBatch}), and every client still gets exactly its own bytes.
   */
  @Test
  void manyConcurrentDiskHits_onSeveralBodies_eachClientGetsExactlyItsBytes() throws Exception {
    sizedOrigin();
    start(diskConfig("64MiB"));
    String[] paths = new String[6];
    for (int i = 0; i < paths.length; i++) {
      paths[i] = "/together" + i + ".bin?size=" + (i % 2 == 0 ? 300_000 : 1_200_000); // 1 run, or 3
      RawHttp.get(port(), paths[i]);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.disk().stats().entries() == paths.length);
    long readBefore = proxy.disk().diskStats().bodyBytesRead();

    int clients = 48;
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    CountDownLatch go = new CountDownLatch(1);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        int n = c;
        done.add(pool.submit(() -> {
          go.await();
          String path = paths[n % paths.length];
          int size = Integer.parseInt(path.substring(path.indexOf('=') + 1));
          byte[] expected = content(path.substring(0, path.indexOf('?')), size);
          if (n % 3 == 0) {
            int first = (n * 7919) % (size - 200_001); // a range inside the body, a different one per client
            RawHttp.Response part = RawHttp.get(port(), path, "Range", "bytes=" + first + "-" + (first + 200_000));
            assertEquals(206, part.status(), path);
            assertArrayEquals(Arrays.copyOfRange(expected, first, first + 200_001), part.body(), path + " range");
          } else {
            RawHttp.Response whole = RawHttp.get(port(), path);
            assertTrue(whole.header("Cache-Status").startsWith("edgecache; hit"), whole.header("Cache-Status"));
            assertArrayEquals(expected, whole.body(), path);
          }
          return null;
        }));
      }
      go.countDown();
      for (Future<?> f : done) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(paths.length, origin.requests.get(), "every request after the fills was a hit");
    assertTrue(proxy.disk().diskStats().bodyBytesRead() - readBefore >= 16L * 300_000,
        "the hits were read from the disk tier");
  }

  private static final int BIG = 5_000_000;

  /** Starts the sized origin and an edge with a {@code diskMax} disk tier, stores a {@value #BIG}-byte body at {@code name}; its path. */
  private String bigBodyOnDisk(String name, String diskMax) throws Exception {
    sizedOrigin();
    start(diskConfig(diskMax));
    String path = name + "?size=" + BIG;
    RawHttp.get(port(), path);
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.disk().stats().entries() > 0);
    return path;
  }

  @Test
  void diskHits_wholeRangedAbandonedAndStalled_everyChunkBufferIsFreedAndEveryByteRight() throws Exception {
    int size = BIG;
    String path = bigBodyOnDisk("/held.bin", "64MiB"); // 64 KiB chunks, runs of 8: ten disk reads
    byte[] expected = content("/held.bin", size);
    long before = io.edgecache.storage.ChunkBuffers.held();

    for (int i = 0; i < 10; i++) {
      RawHttp.Response whole = RawHttp.get(port(), path);
      assertTrue(whole.header("Cache-Status").startsWith("edgecache; hit"), whole.header("Cache-Status"));
      assertArrayEquals(expected, whole.body());
      int first = 70_000 * (i + 1);
      RawHttp.Response part = RawHttp.get(port(), path, "Range", "bytes=" + first + "-" + (first + 900_000));
      assertArrayEquals(Arrays.copyOfRange(expected, first, first + 900_001), part.body());
    }
    // clients that leave after a few bytes, and clients that read nothing until they leave: the
    // chunks read for them and not yet written must be freed all the same
    java.util.List<java.net.Socket> stalled = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < 10; i++) {
        java.net.Socket leaver = new java.net.Socket("127.0.0.1", port());
        leaver.setSoTimeout(10_000);
        leaver.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: edge.test\r\n\r\n")
            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        java.io.InputStream in = leaver.getInputStream();
        readHead(in);
        assertArrayEquals(Arrays.copyOf(expected, 3000), in.readNBytes(3000));
        leaver.setSoLinger(true, 0); // a reset, as a client that crashed
        leaver.close();
        stalled.add(RawHttp.slowGet(port(), path));
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> io.edgecache.storage.ChunkBuffers.held() > before);
    } finally {
      for (java.net.Socket s : stalled) {
        s.close();
      }
    }
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertEquals(before,
        io.edgecache.storage.ChunkBuffers.held(), "chunk buffers still held after every client left"));
    assertArrayEquals(expected, RawHttp.get(port(), path).body(), "still served right afterwards");
    assertEquals(1, origin.requests.get());
    String metrics = new String(RawHttp.get(proxy.adminPort(), "/metrics").body());
    assertTrue(metrics.contains("\nedgecache_disk_chunk_buffers " + io.edgecache.storage.ChunkBuffers.held() + ".0\n"),
        "the gauge shows the held chunk buffers");
  }

  /**
   * A slow client in the middle of a 5 MB disk hit when the entry is purged and the cache then
   * turns over (a 16 MiB disk tier filled with other 5 MB bodies, so eviction runs): it still gets
   * every byte, as from a file unlinked while open. Before the disk tier kept chunks for their
   * readers, its connection was reset once the next chunk was gone.
   */
  @Test
  void diskHit_purgedAndEvictedWhileSentToASlowClient_stillArrivesWhole() throws Exception {
    int size = BIG;
    String path = bigBodyOnDisk("/long.bin", "16MiB");
    byte[] expected = content("/long.bin", size);
    long before = io.edgecache.storage.ChunkBuffers.held();

    try (java.net.Socket slow = RawHttp.slowGet(port(), path)) {
      java.io.InputStream in = slow.getInputStream();
      String head = readHead(in);
      assertTrue(head.contains("edgecache; hit"), head);
      java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
      got.write(in.readNBytes(3000));
      await().atMost(Duration.ofSeconds(10)).until(() -> io.edgecache.storage.ChunkBuffers.held() > before);

      assertEquals("{\"purged\": 1}", RawHttp.exchange(port(), "PURGE", path).text().trim());
      for (int i = 0; i < 5; i++) { // the disk tier turns over: eviction runs
        assertEquals(200, RawHttp.get(port(), "/other" + i + ".bin?size=" + size).status());
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> proxy.disk().diskStats().evictions() > 0);
      assertTrue(heldForReaders() > 0, "the purged body's chunks wait for their reader");

      got.write(in.readNBytes(size - 3000));
      assertArrayEquals(expected, got.toByteArray(), "every byte of the body being sent when it was purged");
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> heldForReaders() == 0);
    RawHttp.Response again = RawHttp.get(port(), path);
    assertFalse(again.header("Cache-Status").contains("hit"), "purged: the next request misses");
    assertArrayEquals(expected, again.body());
  }

  /** The gauge of bytes kept for readers, as /metrics shows it. */
  private double heldForReaders() throws java.io.IOException {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(
        "\nedgecache_disk_held_for_readers_bytes\\{tier=\"disk\"} ([0-9.E]+)\n")
        .matcher(new String(RawHttp.get(proxy.adminPort(), "/metrics").body(), java.nio.charset.StandardCharsets.UTF_8));
    assertTrue(m.find(), "the gauge is exported");
    return Double.parseDouble(m.group(1));
  }

  @Test
  void corruptChunk_isNeverServedAndTheRequestGoesToTheOrigin() throws Exception {
    sizedOrigin();
    JsonObject cfg = diskConfig("64MiB");
    start(cfg);
    RawHttp.get(port(), "/victim?size=200000");
    proxy.stop().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    flipOneChunkByte(dir.resolve("cache").toFile());
    start(cfg);
    RawHttp.Response r = RawHttp.get(port(), "/victim?size=200000");
    assertEquals(200, r.status());
    assertArrayEquals(content("/victim", 200_000), r.body());
    assertFalse(r.header("Cache-Status").contains("hit"), r.header("Cache-Status"));
    assertEquals(2, origin.requests.get());
    assertEquals(1, proxy.disk().diskStats().checksumFailures());
  }

  @Test
  void corruptMiddleChunk_clientSeesATruncatedTransferNeverWrongBytesAndTheEntryIsGone() throws Exception {
    sizedOrigin();
    JsonObject cfg = diskConfig("64MiB");
    start(cfg);
    byte[] expected = content("/middle", 300_000); // 5 chunks of 64 KiB, streamed from disk on a hit
    RawHttp.get(port(), "/middle?size=300000");
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.disk().stats().entries() > 0);
    proxy.stop().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    flipChunkByte(dir.resolve("cache").toFile(), 2);
    start(cfg);

    Truncated t = getTruncated("/middle?size=300000");
    byte[] received = t.received();
    int contentLength = t.contentLength();
    assertEquals(300_000, contentLength);
    assertTrue(received.length < contentLength, "the transfer must end early, got all " + received.length + " bytes");
    assertTrue(received.length >= 2 * 65536, "the intact chunks before the damaged one are sent: " + received.length);
    assertArrayEquals(Arrays.copyOf(expected, received.length), received, "bytes sent before the truncation");
    await().atMost(Duration.ofSeconds(5)).until(() -> proxy.disk().diskStats().checksumFailures() == 1);

    RawHttp.Response next = RawHttp.get(port(), "/middle?size=300000");
    assertEquals(200, next.status());
    assertArrayEquals(expected, next.body());
    assertFalse(next.header("Cache-Status").contains("hit"), next.header("Cache-Status"));
    assertEquals(2, origin.requests.get(), "the damaged entry is gone: the next request goes to the origin");
  }

  @Test
  void corruptChunkInALaterDiskRead_clientGetsOnlyIntactBytesBeforeItAndTheEntryIsGone() throws Exception {
    sizedOrigin();
    JsonObject cfg = diskConfig("64MiB");
    start(cfg);
    int size = 3_000_000; // 46 chunks of 64 KiB: chunk 40 is read well after the response started
    byte[] expected = content("/later", size);
    RawHttp.get(port(), "/later?size=" + size);
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.disk().stats().entries() > 0);
    proxy.stop().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    flipChunkByte(dir.resolve("cache").toFile(), 40);
    start(cfg);

    Truncated t = getTruncated("/later?size=" + size);
    assertEquals(size, t.contentLength());
    assertTrue(t.received().length <= 40 * 65536, "nothing of the damaged chunk is sent: " + t.received().length);
    assertArrayEquals(Arrays.copyOf(expected, t.received().length), t.received(), "bytes sent before the truncation");
    await().atMost(Duration.ofSeconds(5)).until(() -> proxy.disk().diskStats().checksumFailures() == 1);
    RawHttp.Response next = RawHttp.get(port(), "/later?size=" + size);
    assertArrayEquals(expected, next.body());
    assertFalse(next.header("Cache-Status").contains("hit"), next.header("Cache-Status"));
  }

  /** What a client received of a response whose transfer ended early. */
  record Truncated(int contentLength, byte[] received) {}

  /** GETs {@code target} over a raw socket, expecting a disk hit, and reads until the connection ends. */
  Truncated getTruncated(String target) throws Exception {
    byte[] received;
    int contentLength;
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", port())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(("GET " + target + " HTTP/1.1\r\nHost: edge.test\r\n\r\n")
          .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      java.io.InputStream in = s.getInputStream();
      String head = readHead(in);
      assertTrue(head.startsWith("HTTP/1.1 200"), head);
      assertTrue(head.contains("hit"), "served from the disk tier: " + head);
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: (\\d+)").matcher(head);
      assertTrue(m.find(), head);
      contentLength = Integer.parseInt(m.group(1));
      java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      try {
        for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
          body.write(buf, 0, n);
        }
      } catch (java.net.SocketException reset) {
        // a reset is how the truncation shows
      }
      received = body.toByteArray();
    }
    return new Truncated(contentLength, received);
  }

  static String readHead(java.io.InputStream in) throws java.io.IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      head.append((char) c);
    }
    return head.toString();
  }

  /** Flips the last byte of chunk {@code index} of the only stored body. */
  static void flipChunkByte(File db, int index) throws Exception {
    try (DB d = JniDBFactory.factory.open(db, new Options())) {
      byte[] key = null;
      byte[] value = null;
      try (DBIterator it = d.iterator()) {
        for (it.seekToFirst(); it.hasNext(); ) {
          Entry<byte[], byte[]> e = it.next();
          byte[] k = e.getKey();
          if (k[0] == 'c' && k.length == 13 && java.nio.ByteBuffer.wrap(k, 9, 4).getInt() == index) {
            key = k;
            value = e.getValue();
            break;
          }
        }
      }
      assertTrue(key != null, "no chunk " + index + " found");
      value[value.length - 1] ^= 0x01;
      d.put(key, value);
    }
  }

  static void flipOneChunkByte(File db) throws Exception {
    try (DB d = JniDBFactory.factory.open(db, new Options())) {
      byte[] key = null;
      byte[] value = null;
      try (DBIterator it = d.iterator()) {
        for (it.seekToFirst(); it.hasNext(); ) {
          Entry<byte[], byte[]> e = it.next();
          if (e.getKey()[0] == 'c') {
            key = e.getKey();
            value = e.getValue();
            break;
          }
        }
      }
      assertTrue(key != null, "no chunk record found");
      value[value.length - 1] ^= 0x01;
      d.put(key, value);
    }
  }

  @Test
  void fillPastDiskMaxBytes_staysWithinTheBound() throws Exception {
    sizedOrigin();
    JsonObject cfg = diskConfig("2MiB");
    cfg.getJsonObject("disk").put("maxObjectBytes", "512KiB");
    start(cfg);
    for (int i = 0; i < 60; i++) {
      RawHttp.get(port(), "/fill" + i + "?size=100000");
    }
    // the writes finish on disk workers; the bound must hold once they have
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.disk().stats().evictions() > 0
        && proxy.disk().stats().bytes() <= 2L * 1024 * 1024 * 105 / 100);
  }

  @Test
  void purge_thenRestart_purgedEntryStaysGone() throws Exception {
    sizedOrigin();
    JsonObject cfg = diskConfig("64MiB");
    start(cfg);
    RawHttp.get(port(), "/gone?size=5000");
    RawHttp.get(port(), "/kept?size=5000");
    // no wait: a purge wins over the disk write of /gone even while that write is still queued
    assertEquals("{\"purged\": 1}", RawHttp.exchange(port(), "PURGE", "/gone?size=5000").text().trim());
    restart(cfg);
    assertFalse(RawHttp.get(port(), "/gone?size=5000").header("Cache-Status").contains("hit"));
    assertTrue(RawHttp.get(port(), "/kept?size=5000").header("Cache-Status").contains("hit"));
  }

  @Test
  void diskPathUnusable_failsStartWithOneLineNamingTheKey() throws Exception {
    Path file = Files.writeString(dir.resolve("a-file"), "x");
    JsonObject cfg = diskConfig("64MiB");
    cfg.getJsonObject("disk").put("path", file.resolve("sub").toString());
    ProxyServer p = new ProxyServer(ConfigLoader.fromJson("conf/x.json", cfg));
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> p.start().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof ConfigException, String.valueOf(e.getCause()));
    assertTrue(e.getCause().getMessage().startsWith("conf/x.json: disk.path: "), e.getCause().getMessage());
    assertFalse(e.getCause().getMessage().contains("\n"));
  }

  @Test
  void diskPathLockedByAnotherInstance_failsStartWithOneLine() throws Exception {
    start(diskConfig("64MiB"));
    ProxyServer second = new ProxyServer(ConfigLoader.fromJson("conf/x.json",
        diskConfig("64MiB").put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0))));
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> second.start().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS));
    assertTrue(e.getCause().getMessage().startsWith("conf/x.json: disk.path: "), e.getCause().getMessage());
    assertTrue(e.getCause().getMessage().contains("already open"), e.getCause().getMessage());
  }
}
