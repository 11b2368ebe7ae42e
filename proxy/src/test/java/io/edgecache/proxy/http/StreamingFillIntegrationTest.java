package io.edgecache.proxy.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fusesource.leveldbjni.JniDBFactory;
import org.iq80.leveldb.DB;
import org.iq80.leveldb.DBIterator;
import org.iq80.leveldb.Options;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bodies too large for the memory tier are written to the disk tier as they arrive: through the
 * proxy, with an origin that sends them piece by piece, chunked or with a Content-Length, stops
 * midway or dies.
 */
class StreamingFillIntegrationTest extends ProxyHarness {
  private static final int PIECE = 64 * 1024;
  private static final Pattern WAITERS = Pattern.compile("edgecache_coalesced_waiters_total ([0-9.]+)");
  private static final Pattern DISK_FILLS = Pattern.compile("edgecache_disk_fills_total ([0-9.]+)");

  @TempDir
  Path dir;

  private JsonObject config() {
    return baseConfig()
        .put("memory", new JsonObject().put("maxBytes", "8MiB").put("maxObjectBytes", "64KiB"))
        .put("disk", new JsonObject().put("path", dir.resolve("cache").toString()).put("maxBytes", "256MiB")
            .put("maxObjectBytes", "16MiB").put("chunkBytes", "64KiB"));
  }

  private static byte[] content(String path, int size) {
    return DiskTierIntegrationTest.content(path, size);
  }

  /**
   * An origin that sends {@code /p?size=N} in 64 KiB pieces, one per event-loop turn, with a
   * Content-Length unless {@code chunked}; once {@code holdAfter} bytes are sent it waits for
   * {@code go} (a null {@code go} never continues, a completed-with-false one closes the connection).
   */
  private void pieceOrigin(boolean chunked, int holdAfter, CompletableFuture<Boolean> go) {
    origin.handle(r -> {
      int size = Integer.parseInt(r.getParam("size"));
      byte[] body = content(r.path(), size);
      HttpServerResponse resp = r.response().putHeader("Cache-Control", "max-age=3600");
      if (chunked) {
        resp.setChunked(true);
      } else {
        resp.putHeader("Content-Length", Integer.toString(size));
      }
      sendFrom(resp, body, 0, holdAfter, go);
    });
  }

  private void sendFrom(HttpServerResponse resp, byte[] body, int at, int holdAfter, CompletableFuture<Boolean> go) {
    if (at >= body.length) {
      resp.end();
      return;
    }
    if (at >= holdAfter && holdAfter >= 0) {
      go.thenAccept(more -> origin.vertx().runOnContext(v -> {
        if (more) {
          sendFrom(resp, body, at, -1, go);
        } else {
          resp.reset(); // the origin dies mid-body
        }
      }));
      return;
    }
    int end = Math.min(body.length, at + PIECE);
    resp.write(Buffer.buffer(Arrays.copyOfRange(body, at, end)));
    origin.vertx().runOnContext(v -> sendFrom(resp, body, end, holdAfter, go));
  }

  private long diskEntries() {
    return proxy.disk().stats().entries();
  }

  @Test
  void contentLengthAboveTheMemoryLimit_isWrittenToDiskAsItArrivesAndServedFromIt() throws Exception {
    pieceOrigin(false, -1, null);
    start(config());
    byte[] expected = content("/p", 3_000_000);

    RawHttp.Response first = RawHttp.get(port(), "/p?size=3000000");
    assertArrayEquals(expected, first.body());
    assertTrue(first.header("Cache-Status").contains("stored"), first.header("Cache-Status"));
    await().atMost(Duration.ofSeconds(10)).until(() -> diskEntries() == 1);

    RawHttp.Response hit = RawHttp.get(port(), "/p?size=3000000");
    assertTrue(hit.header("Cache-Status").startsWith("edgecache; hit"), hit.header("Cache-Status"));
    assertArrayEquals(expected, hit.body());
    assertEquals(1, origin.requests.get());
    assertEquals(0, proxy.memory().stats().entries());
  }

  @Test
  void chunkedBodyGrowingPastTheMemoryLimit_movesToDiskAndIsServedFromIt() throws Exception {
    pieceOrigin(true, -1, null);
    start(config());
    byte[] expected = content("/p", 1_000_000);

    assertArrayEquals(expected, RawHttp.get(port(), "/p?size=1000000").body());
    await().atMost(Duration.ofSeconds(10)).until(() -> diskEntries() == 1);

    RawHttp.Response hit = RawHttp.get(port(), "/p?size=1000000");
    assertTrue(hit.header("Cache-Status").startsWith("edgecache; hit"), hit.header("Cache-Status"));
    assertArrayEquals(expected, hit.body());
    assertEquals(1, origin.requests.get());
  }

  @Test
  void chunkedBodyPastDiskMaxObjectBytes_isServedWholeAndNotStored() throws Exception {
    pieceOrigin(true, -1, null);
    JsonObject cfg = config();
    cfg.getJsonObject("disk").put("maxObjectBytes", "512KiB");
    start(cfg);
    byte[] expected = content("/p", 1_000_000);

    assertArrayEquals(expected, RawHttp.get(port(), "/p?size=1000000").body());
    assertArrayEquals(expected, RawHttp.get(port(), "/p?size=1000000").body());

    assertEquals(2, origin.requests.get());
    assertEquals(0, diskEntries());
  }

  @Test
  void diskRefusingEveryWrite_degradesToAPassThroughWithTheWholeBody() throws Exception {
    pieceOrigin(false, -1, null);
    JsonObject cfg = config();
    cfg.getJsonObject("disk").put("minFreeBytes", "1000000GiB"); // more than any volume has free
    start(cfg);
    byte[] expected = content("/p", 3_000_000);

    assertArrayEquals(expected, RawHttp.get(port(), "/p?size=3000000").body());
    assertArrayEquals(expected, RawHttp.get(port(), "/p?size=3000000").body());

    assertEquals(2, origin.requests.get());
    assertEquals(0, diskEntries());
    assertTrue(proxy.disk().diskStats().storeErrors() >= 1);
  }

  @Test
  void originDyingMidBody_truncatesTheClientAndLeavesNoEntryAndNoChunk() throws Exception {
    CompletableFuture<Boolean> go = new CompletableFuture<>();
    pieceOrigin(false, 5 * PIECE, go);
    start(config());

    CompletableFuture<Partial> client = CompletableFuture.supplyAsync(() -> partial("/p?size=2000000"));
    await().atMost(Duration.ofSeconds(10)).until(() -> origin.requests.get() == 1);
    go.complete(false);

    Partial got = client.get(20, TimeUnit.SECONDS);
    assertEquals(2_000_000, got.contentLength());
    assertTrue(got.body().length < 2_000_000, "the transfer must end early: " + got.body().length);
    assertArrayEquals(Arrays.copyOf(content("/p", 2_000_000), got.body().length), got.body());
    proxy.stop().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    proxy = null;
    assertEquals(Map.of(), records(dir.resolve("cache")), "no metadata record and no chunk left");
  }

  @Test
  void coalescedRequests_followTheDiskWriteWithOneOriginFetch() throws Exception {
    CompletableFuture<Boolean> go = new CompletableFuture<>();
    pieceOrigin(false, 3 * PIECE, go);
    start(config());
    byte[] expected = content("/p", 2_500_000);

    CompletableFuture<RawHttp.Response> leader = get("/p?size=2500000");
    await().atMost(Duration.ofSeconds(10)).until(() -> origin.requests.get() == 1);
    List<CompletableFuture<RawHttp.Response>> waiters = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      waiters.add(get("/p?size=2500000"));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> coalescedWaiters() == 3);
    go.complete(true);

    assertArrayEquals(expected, leader.get(20, TimeUnit.SECONDS).body());
    assertCollapsedWhole(waiters, expected);
    assertEquals(1, origin.requests.get());
    await().atMost(Duration.ofSeconds(10)).until(() -> diskEntries() == 1);
  }

  /**
   * Clients coalesced on a fill that goes to disk read its chunks into direct buffers (over
   * LevelDB's memory, or pooled), as disk hits do, not into the heap; whether they read it all,
   * leave after a few bytes or stall until they close, every buffer is let go once they are done,
   * and every byte they got is right (the {@code edgecache_disk_chunk_buffers} gauge).
   */
  @Test
  void coalescedClients_wholeAbandonedAndStalled_everyChunkBufferOfTheDiskWriteIsFreedAndEveryByteRight()
      throws Exception {
    CompletableFuture<Boolean> go = new CompletableFuture<>();
    pieceOrigin(false, 3 * PIECE, go);
    start(config());
    int size = 10_000_000; // more than the sockets of the stalled clients take
    String path = "/p?size=" + size;
    byte[] expected = content("/p", size);
    long before = io.edgecache.storage.ChunkBuffers.held();

    CompletableFuture<RawHttp.Response> leader = get(path);
    await().atMost(Duration.ofSeconds(10)).until(() -> origin.requests.get() == 1);
    List<CompletableFuture<RawHttp.Response>> whole = new ArrayList<>();
    List<Socket> leavers = new ArrayList<>();
    List<Socket> stalled = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        whole.add(get(path));
        leavers.add(RawHttp.slowGet(port(), path));
        stalled.add(RawHttp.slowGet(port(), path));
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> coalescedWaiters() == 9);
      go.complete(true);

      assertArrayEquals(expected, leader.get(20, TimeUnit.SECONDS).body());
      assertCollapsedWhole(whole, expected);
      for (Socket leaver : leavers) {
        InputStream in = leaver.getInputStream();
        DiskTierIntegrationTest.readHead(in);
        assertArrayEquals(Arrays.copyOf(expected, 3000), in.readNBytes(3000));
        leaver.setSoLinger(true, 0); // a reset, as a client that crashed
        leaver.close();
      }
      await("the stalled clients hold chunk buffers, not heap copies").atMost(Duration.ofSeconds(10))
          .until(() -> io.edgecache.storage.ChunkBuffers.held() > before);
    } finally {
      for (Socket s : stalled) {
        s.close();
      }
      for (Socket s : leavers) {
        s.close();
      }
    }
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertEquals(before,
        io.edgecache.storage.ChunkBuffers.held(), "chunk buffers still held after every client left"));
    await().atMost(Duration.ofSeconds(10)).until(() -> diskEntries() == 1);
    assertArrayEquals(expected, RawHttp.get(port(), path).body(), "served right afterwards");
    assertEquals(1, origin.requests.get());
  }

  /** Each response was coalesced on the fill and carries the whole body. */
  private static void assertCollapsedWhole(List<CompletableFuture<RawHttp.Response>> responses, byte[] expected)
      throws Exception {
    for (CompletableFuture<RawHttp.Response> w : responses) {
      RawHttp.Response r = w.get(20, TimeUnit.SECONDS);
      assertTrue(r.header("Cache-Status").contains("collapsed"), r.header("Cache-Status"));
      assertArrayEquals(expected, r.body());
    }
  }

  /** A 5 MB fill held back at 3 pieces by {@code go}, its first client, and a slow client coalesced on it. */
  private record SlowFollower(CompletableFuture<Boolean> go, int size, byte[] expected, String path,
      CompletableFuture<RawHttp.Response> leader, java.net.Socket slow) {}

  private SlowFollower slowFollower() throws Exception {
    CompletableFuture<Boolean> go = new CompletableFuture<>();
    pieceOrigin(false, 3 * PIECE, go);
    start(config());
    int size = 5_000_000;
    String path = "/p?size=" + size;
    CompletableFuture<RawHttp.Response> leader = get(path);
    await().atMost(Duration.ofSeconds(10)).until(() -> origin.requests.get() == 1);
    java.net.Socket slow = RawHttp.slowGet(port(), path);
    await().atMost(Duration.ofSeconds(10)).until(() -> coalescedWaiters() == 1);
    return new SlowFollower(go, size, content("/p", size), path, leader, slow);
  }

  /**
   * A slow client coalesced on a fill reads the body from the fill's disk write; the entry is
   * committed, then purged while that client is still far behind. It gets the whole body all the
   * same: it was handed a hold on the write's chunks when it joined, so they are deleted only
   * once it is done. Without the hold its connection was reset at the next chunk.
   */
  @Test
  void coalescedSlowClient_entryPurgedAfterTheCommit_stillGetsTheWholeBody() throws Exception {
    SlowFollower f = slowFollower();
    try (java.net.Socket slow = f.slow()) {
      f.go().complete(true);
      assertArrayEquals(f.expected(), f.leader().get(20, TimeUnit.SECONDS).body());
      await().atMost(Duration.ofSeconds(10)).until(() -> diskEntries() == 1);

      java.io.InputStream in = slow.getInputStream();
      String head = DiskTierIntegrationTest.readHead(in);
      assertTrue(head.contains("collapsed"), head);
      assertEquals("{\"purged\": 1}", RawHttp.exchange(port(), "PURGE", f.path()).text().trim());
      assertEquals(0, diskEntries());
      assertArrayEquals(f.expected(), in.readNBytes(f.size()), "every byte of the body");
    }
    assertEquals(1, origin.requests.get());
  }

  /**
   * A purge during the fill keeps the body out of the cache (its commit is dropped), but a client
   * coalesced on the fill before the purge still gets the response it asked for, whole, from the
   * chunks it holds, as Varnish finishes a delivery whose object was banned meanwhile. Before, its
   * connection was reset at the next chunk it had not been sent yet.
   */
  @Test
  void coalescedSlowClient_purgedDuringTheFill_stillGetsTheWholeBody() throws Exception {
    SlowFollower f = slowFollower();
    try (java.net.Socket slow = f.slow()) {
      assertEquals(200, RawHttp.exchange(port(), "PURGE", f.path()).status());
      CompletableFuture<RawHttp.Response> afterThePurge = get(f.path());
      await("a request after the purge does not join the fill").atMost(Duration.ofSeconds(10))
          .until(() -> origin.requests.get() == 2);
      f.go().complete(true);
      assertArrayEquals(f.expected(), f.leader().get(20, TimeUnit.SECONDS).body());
      assertArrayEquals(f.expected(), afterThePurge.get(20, TimeUnit.SECONDS).body());
      await().atMost(Duration.ofSeconds(10)).until(() -> proxy.disk().diskStats().streamsOpen() == 0);

      java.io.InputStream in = slow.getInputStream();
      String head = DiskTierIntegrationTest.readHead(in);
      assertTrue(head.contains("collapsed"), head);
      assertArrayEquals(f.expected(), in.readNBytes(f.size()), "every byte of the body");
    }
    assertEquals(2, origin.requests.get());
  }

  /**
   * The first client of a fill that goes to disk stops reading: the fill does not wait for it. A
   * request coalesced on the fill gets the whole body, the entry is committed, a later request is a
   * hit, all while that client still reads nothing; it then gets every byte from the disk write it
   * follows. Before, the origin was paused for that client and the write and everybody following it
   * stopped where its connection filled. (Alone on its fill, such a client is moved to the write the
   * same way: {@code StreamFillJarIT}, and the Range case below.)
   */
  @Test
  void slowFirstClient_holdsUpNeitherTheFillNorTheRequestsCoalescedOnIt() throws Exception {
    CompletableFuture<Boolean> go = new CompletableFuture<>();
    pieceOrigin(false, 3 * PIECE, go);
    start(config());
    int size = 5_000_000;
    String path = "/p?size=" + size;
    byte[] expected = content("/p", size);
    try (java.net.Socket slow = RawHttp.slowGet(port(), path)) {
      joinWhileTheFirstClientReadsNothing(path, expected, go);
      RawHttp.Response hit = RawHttp.get(port(), path);
      assertTrue(hit.header("Cache-Status").startsWith("edgecache; hit"), hit.header("Cache-Status"));
      assertArrayEquals(expected, hit.body());

      java.io.InputStream in = slow.getInputStream();
      String head = DiskTierIntegrationTest.readHead(in);
      assertTrue(head.contains("stored"), head);
      assertArrayEquals(expected, in.readNBytes(size), "every byte, from the disk write it followed");
    }
    assertEquals(1, origin.requests.get());
  }

  /**
   * With the fill's first client reading nothing: a second request for {@code path} joins the fill,
   * the origin goes on ({@code go}), and that request gets the whole body while the fill commits.
   */
  private void joinWhileTheFirstClientReadsNothing(String path, byte[] expected, CompletableFuture<Boolean> go)
      throws Exception {
    await().atMost(Duration.ofSeconds(10)).until(() -> origin.requests.get() == 1);
    CompletableFuture<RawHttp.Response> waiter = get(path);
    await().atMost(Duration.ofSeconds(10)).until(() -> coalescedWaiters() == 1);
    go.complete(true);

    RawHttp.Response joined = waiter.get(20, TimeUnit.SECONDS);
    assertTrue(joined.header("Cache-Status").contains("collapsed"), joined.header("Cache-Status"));
    assertArrayEquals(expected, joined.body(), "the whole body while the first client reads nothing");
    await("committed without waiting on the first client").atMost(Duration.ofSeconds(10))
        .until(() -> diskEntries() == 1);
  }

  /**
   * The same with a body of unknown length (chunked from the origin): once a second request follows
   * the disk write, the first client, which reads nothing, no longer paces the origin. Before, the
   * fill (and the request coalesced on it) stopped where that client's connection filled, and went
   * on only as fast as it read.
   */
  @Test
  void slowFirstClient_ofAChunkedBody_holdsUpNeitherTheFillNorTheRequestsCoalescedOnIt() throws Exception {
    CompletableFuture<Boolean> go = new CompletableFuture<>();
    pieceOrigin(true, 3 * PIECE, go);
    start(config());
    int size = 5_000_000;
    String path = "/p?size=" + size;
    byte[] expected = content("/p", size);
    // HTTP/1.0: the body of unknown length is close-delimited, so it is read to the end as it is
    try (java.net.Socket slow = RawHttp.slowSend(port(), "GET " + path + " HTTP/1.0\r\nHost: edge.test\r\n\r\n")) {
      joinWhileTheFirstClientReadsNothing(path, expected, go);

      java.io.InputStream in = slow.getInputStream();
      String head = DiskTierIntegrationTest.readHead(in);
      assertTrue(head.startsWith("HTTP/1.0 200"), head);
      assertArrayEquals(expected, in.readAllBytes(), "every byte, the rest from the disk write it followed");
    }
    assertEquals(1, origin.requests.get());
  }

  /**
   * A Range request whose whole 200 is written to disk, from a client that stops reading: the fill
   * goes on without it, and its 206 then holds exactly the requested bytes.
   */
  @Test
  void slowFirstClient_withARange_getsExactlyItsBytesFromTheDiskWrite() throws Exception {
    pieceOrigin(false, -1, null);
    start(config());
    int size = 12_000_000;
    String path = "/p?size=" + size;
    byte[] expected = Arrays.copyOfRange(content("/p", size), 1_000_000, 9_000_001);
    try (java.net.Socket slow = RawHttp.slowSend(port(),
        "GET " + path + " HTTP/1.1\r\nHost: edge.test\r\nRange: bytes=1000000-9000000\r\n\r\n")) {
      await("committed while the client reads nothing").atMost(Duration.ofSeconds(10))
          .until(() -> diskEntries() == 1);
      java.io.InputStream in = slow.getInputStream();
      String head = DiskTierIntegrationTest.readHead(in);
      assertTrue(head.startsWith("HTTP/1.1 206"), head);
      assertTrue(head.toLowerCase(java.util.Locale.ROOT).contains("content-length: 8000001"), head);
      assertArrayEquals(expected, in.readNBytes(expected.length), "exactly the requested bytes");
      slow.getOutputStream().write(("GET /p?size=1000 HTTP/1.1\r\nHost: edge.test\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      String next = DiskTierIntegrationTest.readHead(in);
      assertTrue(next.startsWith("HTTP/1.1 200"), "the connection carries the next request: " + next);
    }
    assertEquals(2, origin.requests.get());
  }

  /**
   * A body of unknown length beyond {@code disk.maxObjectBytes}, whose only client stops reading:
   * that client is not moved to the disk write (which fails at the limit and would cut it there) but
   * gets the whole body as a pass-through, the origin paused for it.
   */
  @Test
  void slowClient_ofAnUnknownLengthBodyPastDiskMaxObjectBytes_getsTheWholeBody() throws Exception {
    pieceOrigin(true, -1, null);
    JsonObject cfg = config();
    cfg.getJsonObject("disk").put("maxObjectBytes", "8MiB");
    start(cfg);
    int size = 16_000_000;
    byte[] expected = content("/p", size);
    // HTTP/1.0: the body of unknown length is close-delimited, so it is read to the end as it is
    try (java.net.Socket slow = RawHttp.slowSend(port(), "GET /p?size=" + size + " HTTP/1.0\r\nHost: edge.test\r\n\r\n")) {
      await().atMost(Duration.ofSeconds(10)).until(() -> origin.requests.get() == 1);
      await("the body went to disk").atMost(Duration.ofSeconds(10)).until(() -> diskFills() == 1);
      // moved to the disk write, the client would be cut where the write fails, at 8 MiB (which the
      // origin and the disk reach in milliseconds); fed from the origin it holds the write back
      await("the write waits for the client").during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(2))
          .until(() -> proxy.disk().diskStats().streamsOpen() == 1);
      java.io.InputStream in = slow.getInputStream();
      String head = DiskTierIntegrationTest.readHead(in);
      assertTrue(head.startsWith("HTTP/1.0 200"), head);
      assertArrayEquals(expected, in.readAllBytes(), "the whole body");
    }
    assertEquals(0, diskEntries());
  }

  @Test
  void coalescedRequest_whenTheOriginDies_isTruncatedToo() throws Exception {
    CompletableFuture<Boolean> go = new CompletableFuture<>();
    pieceOrigin(false, 3 * PIECE, go);
    start(config());
    CompletableFuture<Partial> leader = CompletableFuture.supplyAsync(() -> partial("/p?size=2000000"));
    await().atMost(Duration.ofSeconds(10)).until(() -> origin.requests.get() == 1);
    CompletableFuture<Partial> waiter = CompletableFuture.supplyAsync(() -> partial("/p?size=2000000"));
    await().atMost(Duration.ofSeconds(10)).until(() -> coalescedWaiters() == 1);

    go.complete(false);

    byte[] expected = content("/p", 2_000_000);
    for (Partial p : List.of(leader.get(20, TimeUnit.SECONDS), waiter.get(20, TimeUnit.SECONDS))) {
      assertTrue(p.body().length < 2_000_000, "truncated: " + p.body().length);
      assertArrayEquals(Arrays.copyOf(expected, p.body().length), p.body());
    }
    assertEquals(0, diskEntries());
  }

  @Test
  void purgeDuringTheFill_isNotUndoneByItsCommit() throws Exception {
    CompletableFuture<Boolean> go = new CompletableFuture<>();
    pieceOrigin(false, 4 * PIECE, go);
    start(config());
    CompletableFuture<RawHttp.Response> first = get("/p?size=1000000");
    await().atMost(Duration.ofSeconds(10)).until(() -> origin.requests.get() == 1);

    assertEquals(200, RawHttp.exchange(port(), "PURGE", "/p?size=1000000").status());
    go.complete(true);

    assertArrayEquals(content("/p", 1_000_000), first.get(20, TimeUnit.SECONDS).body());
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.disk().diskStats().streamsOpen() == 0);
    assertEquals(0, diskEntries());
    assertEquals(0, proxy.disk().diskStats().streamsCommitted());
    assertFalse(RawHttp.get(port(), "/p?size=1000000").header("Cache-Status").contains("hit"));
    assertEquals(2, origin.requests.get());
  }

  @Test
  void staleWhileRevalidate_refreshOfALargeBody_isWrittenToDiskAsItArrives() throws Exception {
    CompletableFuture<Boolean> go = new CompletableFuture<>();
    origin.handle(r -> {
      int version = origin.requests.get();
      HttpServerResponse resp = r.response().putHeader("Cache-Control", "max-age=1, stale-while-revalidate=600")
          .putHeader("Age", "10");
      // a refresh is answered only once the stale response was read (a disk body replaced while it
      // is being read is cut short: the commit that replaces it deletes its chunks), and only once
      CompletableFuture<Boolean> answer = version == 1 ? CompletableFuture.completedFuture(true)
          : version == 2 ? go : new CompletableFuture<>();
      answer.thenAccept(x -> origin.vertx().runOnContext(v -> resp.end(Buffer.buffer(content("/v" + version, 500_000)))));
    });
    start(config());
    assertArrayEquals(content("/v1", 500_000), RawHttp.get(port(), "/swr").body());
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.disk().diskStats().streamsCommitted() == 1);

    RawHttp.Response stale = RawHttp.get(port(), "/swr");
    assertTrue(stale.header("Cache-Status").contains("stale-while-revalidate"), stale.header("Cache-Status"));
    assertArrayEquals(content("/v1", 500_000), stale.body());
    go.complete(true);
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.disk().diskStats().streamsCommitted() == 2);

    assertArrayEquals(content("/v2", 500_000), RawHttp.get(port(), "/swr").body(), "the refreshed body");
    assertEquals(0, proxy.memory().stats().entries());
  }

  private CompletableFuture<RawHttp.Response> get(String path) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return RawHttp.get(port(), path);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  private double diskFills() throws Exception {
    return metric(DISK_FILLS);
  }

  private double coalescedWaiters() throws Exception {
    return metric(WAITERS);
  }

  /** The value {@code counter} finds on the admin port's {@code /metrics}, 0 when it is not there yet. */
  private double metric(Pattern counter) throws Exception {
    String metrics = new String(RawHttp.get(proxy.adminPort(), "/metrics").body(), StandardCharsets.UTF_8);
    Matcher m = counter.matcher(metrics);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  /** What a client received of a response that may end early: its Content-Length and the body bytes. */
  private record Partial(long contentLength, byte[] body) {}

  private Partial partial(String path) {
    try (Socket s = new Socket("127.0.0.1", port())) {
      s.setSoTimeout(20_000);
      s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: edge.test\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = s.getInputStream();
      StringBuilder head = new StringBuilder();
      while (!head.toString().endsWith("\r\n\r\n")) {
        int c = in.read();
        if (c < 0) {
          break;
        }
        head.append((char) c);
      }
      Matcher m = Pattern.compile("(?i)content-length: (\\d+)").matcher(head);
      long length = m.find() ? Long.parseLong(m.group(1)) : -1;
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      try {
        for (int n = in.read(buf); n >= 0 && body.size() < length; n = in.read(buf)) {
          body.write(buf, 0, n);
        }
      } catch (SocketException reset) {
        // a reset is how the truncation shows
      }
      return new Partial(length, body.toByteArray());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Counts of metadata ('m') and chunk ('c') records in a closed LevelDB directory. */
  private static Map<Character, Integer> records(Path db) throws Exception {
    Map<Character, Integer> counts = new java.util.TreeMap<>();
    try (DB d = JniDBFactory.factory.open(db.toFile(), new Options()); DBIterator it = d.iterator()) {
      for (it.seekToFirst(); it.hasNext(); ) {
        counts.merge((char) it.next().getKey()[0], 1, Integer::sum);
      }
    }
    return counts;
  }
}
