package io.edgecache.proxy.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.ProxyServer;
import io.edgecache.proxy.config.ConfigException;
import io.edgecache.proxy.config.ConfigLoader;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The proxy through real sockets: forwarding, first-slice caching, limits and error paths. */
class ProxyIntegrationTest extends ProxyHarness {

  // ------------------------------------------------------------------ caching

  @Test
  void get_explicitFreshness_secondRequestIsMemoryHitWithAgeAndCacheStatus() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=60").end("asset-bytes"));
    start();
    RawHttp.Response first = RawHttp.get(port(), "/a.css");
    RawHttp.Response second = RawHttp.get(port(), "/a.css");
    assertEquals(200, first.status());
    assertTrue(first.header("Cache-Status").startsWith("edgecache; fwd=uri-miss; fwd-status=200; stored"), first.header("Cache-Status"));
    assertEquals(200, second.status());
    assertTrue(second.header("Cache-Status").startsWith("edgecache; hit; ttl="), second.header("Cache-Status"));
    assertNotNull(second.header("Age"));
    assertEquals("asset-bytes", second.text());
    assertEquals("max-age=60", second.header("Cache-Control"));
    assertEquals(1, origin.requests.get());
  }

  /**
   * Large memory bodies go out from one direct copy shared by their readers ({@link DirectBodies}):
   * whole, in ranges, to concurrent readers and to readers that stop or leave mid-body, every byte
   * is the body's, and once the last of them is done no delivery holds a reference to a copy.
   */
  @Test
  void largeMemoryHits_wholeRangedConcurrentAndAbandoned_sameBytesAndNoCopyHeldAfterwards() throws Exception {
    byte[] body = new byte[7_000_000]; // more than loopback socket buffers hold, so stalled readers keep references
    new java.util.Random(7).nextBytes(body);
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=600")
        .end(io.vertx.core.buffer.Buffer.buffer(body)));
    start(baseConfig().put("memory", new io.vertx.core.json.JsonObject().put("maxBytes", "64MiB")
        .put("maxObjectBytes", "8MiB")));
    RawHttp.get(port(), "/large.bin");
    for (int i = 0; i < 3; i++) {
      RawHttp.Response hit = RawHttp.get(port(), "/large.bin");
      assertTrue(hit.header("Cache-Status").startsWith("edgecache; hit"), hit.header("Cache-Status"));
      assertArrayEquals(body, hit.body());
      RawHttp.Response part = RawHttp.get(port(), "/large.bin", "Range", "bytes=" + (300_001 * i) + "-" + (300_001 * i + 700_000));
      assertEquals(206, part.status());
      assertArrayEquals(java.util.Arrays.copyOfRange(body, 300_001 * i, 300_001 * i + 700_001), part.body());
    }
    java.util.List<java.util.concurrent.CompletableFuture<byte[]>> concurrent = new java.util.ArrayList<>();
    for (int i = 0; i < 6; i++) {
      concurrent.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return RawHttp.get(port(), "/large.bin").body();
        } catch (Exception e) {
          throw new java.util.concurrent.CompletionException(e);
        }
      }));
    }
    java.util.List<java.net.Socket> stalled = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        java.net.Socket s = new java.net.Socket();
        s.setReceiveBufferSize(4096);
        s.connect(new java.net.InetSocketAddress("127.0.0.1", port()), 5000);
        s.getOutputStream().write("GET /large.bin HTTP/1.1\r\nHost: edge.test\r\n\r\n"
            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        stalled.add(s);
      }
      await().atMost(java.time.Duration.ofSeconds(10)).until(() -> DirectBodies.referencesHeld() > 0);
      for (java.util.concurrent.CompletableFuture<byte[]> f : concurrent) {
        assertArrayEquals(body, f.get(20, java.util.concurrent.TimeUnit.SECONDS));
      }
    } finally {
      for (java.net.Socket s : stalled) {
        s.setSoLinger(true, 0);
        s.close();
      }
    }
    await().atMost(java.time.Duration.ofSeconds(10))
        .untilAsserted(() -> assertEquals(0, DirectBodies.referencesHeld(), "a copy still referenced"));
    assertTrue(DirectBodies.bytes() >= body.length, "the copy stays for the next hit");
    assertArrayEquals(body, RawHttp.get(port(), "/large.bin").body());
    assertEquals(1, origin.requests.get());
  }

  @Test
  void get_ageFromOrigin_isAddedToTheStoredAge() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=600").putHeader("Age", "100").end("x"));
    start();
    RawHttp.get(port(), "/aged");
    RawHttp.Response hit = RawHttp.get(port(), "/aged");
    int age = Integer.parseInt(hit.header("Age"));
    assertTrue(age >= 100 && age < 110, "Age " + age);
    assertTrue(hit.header("Cache-Status").contains("ttl=" + (600 - age)), hit.header("Cache-Status"));
  }

  @Test
  void get_withoutExplicitFreshnessOrValidators_isNotStored() throws Exception {
    origin.handle(r -> r.response().end("dynamic"));
    start();
    RawHttp.get(port(), "/page");
    RawHttp.Response second = RawHttp.get(port(), "/page");
    assertEquals(2, origin.requests.get());
    assertTrue(second.header("Cache-Status").contains("detail=\"no-freshness\""), second.header("Cache-Status"));
  }

  @Test
  void get_noStore_isNotStored() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "no-store, max-age=60").end("secret"));
    start();
    RawHttp.get(port(), "/s");
    RawHttp.get(port(), "/s");
    assertEquals(2, origin.requests.get());
  }

  @Test
  void get_private_isNotStoredBySharedCache() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "private, max-age=60").end("mine"));
    start();
    RawHttp.get(port(), "/p");
    RawHttp.get(port(), "/p");
    assertEquals(2, origin.requests.get());
  }

  @Test
  void get_differentQuery_isADifferentKey() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=60").end(r.query()));
    start();
    assertEquals("v=1", RawHttp.get(port(), "/q?v=1").text());
    assertEquals("v=2", RawHttp.get(port(), "/q?v=2").text());
    assertEquals("v=1", RawHttp.get(port(), "/q?v=1").text());
    assertEquals(2, origin.requests.get());
  }

  @Test
  void head_afterStoredGet_isServedFromCacheWithLength() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=60").end("0123456789"));
    start();
    RawHttp.get(port(), "/h");
    RawHttp.Response head = RawHttp.exchange(port(), "HEAD", "/h");
    assertEquals(200, head.status());
    assertEquals("10", head.header("Content-Length"));
    assertTrue(head.header("Cache-Status").contains("hit"));
    assertEquals(1, origin.requests.get());
  }

  @Test
  void get_clientIfNoneMatchMatchesStoredEtag_answers304FromCache() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=60").putHeader("ETag", "\"v1\"").end("body"));
    start();
    RawHttp.get(port(), "/e");
    RawHttp.Response r = RawHttp.get(port(), "/e", "If-None-Match", "W/\"v1\"");
    assertEquals(304, r.status());
    assertEquals("\"v1\"", r.header("ETag"));
    assertEquals(1, origin.requests.get());
  }

  @Test
  void get_staleWithEtag_revalidatesAndOrigin304FreshensStoredBody() throws Exception {
    // The first response arrives already stale (Age > max-age), so no test waits on a clock.
    origin.handle(r -> {
      if (r.headers().contains("If-None-Match")) {
        r.response().setStatusCode(304).putHeader("ETag", "\"v1\"").putHeader("Cache-Control", "max-age=600")
            .putHeader("X-Updated", "yes").end();
      } else {
        r.response().putHeader("Cache-Control", "max-age=60").putHeader("Age", "120").putHeader("ETag", "\"v1\"").end("stored-body");
      }
    });
    start();
    RawHttp.get(port(), "/r");
    RawHttp.Response revalidated = RawHttp.get(port(), "/r");
    assertEquals(200, revalidated.status());
    assertEquals("stored-body", revalidated.text());
    assertEquals("yes", revalidated.header("X-Updated"));
    assertEquals("\"v1\"", origin.last().headers().get("If-None-Match"));
    assertTrue(revalidated.header("Cache-Status").contains("fwd-status=304"), revalidated.header("Cache-Status"));
    RawHttp.Response hit = RawHttp.get(port(), "/r");
    assertTrue(hit.header("Cache-Status").contains("hit"), hit.header("Cache-Status"));
    assertEquals(2, origin.requests.get());
  }

  @Test
  void vary_differentAcceptLanguage_storesTwoVariants() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=60").putHeader("Vary", "Accept-Language")
        .end("lang:" + r.getHeader("Accept-Language")));
    start();
    assertEquals("lang:en", RawHttp.get(port(), "/v", "Accept-Language", "en").text());
    assertEquals("lang:de", RawHttp.get(port(), "/v", "Accept-Language", "de").text());
    assertEquals("lang:en", RawHttp.get(port(), "/v", "Accept-Language", "en").text());
    assertEquals("lang:de", RawHttp.get(port(), "/v", "Accept-Language", "de").text());
    assertEquals(2, origin.requests.get());
  }

  @Test
  void post_successfulResponse_invalidatesStoredGet() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=60").end(r.method().name()));
    start();
    RawHttp.get(port(), "/doc");
    RawHttp.get(port(), "/doc");
    assertEquals("POST", RawHttp.exchange(port(), "POST", "/doc", "Content-Length", "0").text());
    RawHttp.Response after = RawHttp.get(port(), "/doc");
    assertTrue(after.header("Cache-Status").contains("fwd=uri-miss"), after.header("Cache-Status"));
    assertEquals(3, origin.requests.get());
  }

  // ------------------------------------------------------------------ forwarding

  @Test
  void forward_anyMethod_reachesOriginWithBody() throws Exception {
    origin.handle(r -> r.body().onSuccess(b -> r.response().end(r.method().name() + ":" + b)));
    start();
    try (RawHttp c = new RawHttp(port())) {
      c.send("PATCH /x HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 5\r\n\r\nhello");
      RawHttp.Response r = c.read(false);
      assertEquals("PATCH:hello", r.text());
      assertTrue(r.header("Cache-Status").contains("fwd=method"));
    }
  }

  @Test
  void forward_hopByHopFields_areDroppedBothWays() throws Exception {
    origin.handle(r -> r.response().putHeader("Connection", "X-Secret-Hop").putHeader("X-Secret-Hop", "1")
        .putHeader("Keep-Alive", "timeout=5").putHeader("X-End-To-End", "kept").end("ok"));
    start();
    RawHttp.Response r = RawHttp.get(port(), "/hop", "Connection", "X-Client-Hop", "X-Client-Hop", "1",
        "TE", "trailers", "Keep-Alive", "timeout=5", "Proxy-Authorization", "Basic Zm9v");
    io.vertx.core.MultiMap seen = origin.last().headers();
    assertNull(seen.get("X-Client-Hop"));
    assertNull(seen.get("TE"));
    assertNull(seen.get("Keep-Alive"));
    assertNull(seen.get("Proxy-Authorization"));
    assertNull(r.header("X-Secret-Hop"));
    assertNull(r.header("Keep-Alive"));
    assertEquals("kept", r.header("X-End-To-End"));
  }

  @Test
  void forward_viaAndForwardedFields_areSetByTheProxyNotTheClient() throws Exception {
    start();
    RawHttp.Response r = RawHttp.get(port(), "/f", "X-Forwarded-For", "6.6.6.6", "X-Forwarded-Host", "evil.test",
        "X-Forwarded-Proto", "https", "Via", "1.1 downstream");
    io.vertx.core.MultiMap seen = origin.last().headers();
    assertEquals("127.0.0.1", seen.get("X-Forwarded-For"));
    assertEquals("edge.test", seen.get("X-Forwarded-Host"));
    assertEquals("http", seen.get("X-Forwarded-Proto"));
    assertEquals("1.1 downstream, 1.1 edgecache", seen.get("Via"));
    assertEquals("edge.test", seen.get("Host"));
    assertEquals("1.1 edgecache", r.header("Via"));
  }

  @Test
  void forward_sequentialRequests_reuseOneKeepAliveOriginConnection() throws Exception {
    start(baseConfig().put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("eventLoops", 1)));
    for (int i = 0; i < 5; i++) {
      assertEquals(200, RawHttp.get(port(), "/k" + i).status());
    }
    assertEquals(5, origin.requests.get());
    assertEquals(1, origin.connections.size());
  }

  @Test
  void route_unknownHost_is421AndNothingIsDialled() throws Exception {
    JsonObject cfg = baseConfig();
    cfg.getJsonArray("origins").getJsonObject(0).put("hosts", new JsonArray().add("edge.test"));
    start(cfg);
    RawHttp.Response r = RawHttp.get(port(), "/", "Host", "other.test");
    assertEquals(421, r.status());
    assertEquals(0, origin.requests.get());
    assertEquals(200, RawHttp.get(port(), "/", "Host", "EDGE.test:8080").status());
  }

  @Test
  void route_absoluteFormTargetForUnknownHost_is421AndNothingIsDialled() throws Exception {
    JsonObject cfg = baseConfig();
    cfg.getJsonArray("origins").getJsonObject(0).put("hosts", new JsonArray().add("edge.test"));
    start(cfg);
    RawHttp.Response r = RawHttp.get(port(), "http://attacker.test/steal", "Host", "edge.test");
    assertEquals(421, r.status());
    assertEquals(0, origin.requests.get());
  }

  @Test
  void connect_isRefusedWith405() throws Exception {
    start();
    try (RawHttp c = new RawHttp(port())) {
      c.send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
      assertEquals(405, c.read(false).status());
    }
    assertEquals(0, origin.requests.get());
  }

  // ------------------------------------------------------------------ origin failures

  @Test
  void origin_unreachable_is502WithCacheStatusDetail() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    JsonObject cfg = baseConfig();
    cfg.getJsonArray("origins").getJsonObject(0).put("url", "http://127.0.0.1:" + closed);
    start(cfg);
    RawHttp.Response r = RawHttp.get(port(), "/");
    assertEquals(502, r.status());
    assertTrue(r.header("Cache-Status").contains("detail=\"origin-unreachable\""), r.header("Cache-Status"));
    assertFalse(r.text().isEmpty());
  }

  @Test
  void origin_slowerThanResponseTimeout_is504() throws Exception {
    origin.handle(r -> originVertx.setTimer(3000, t -> r.response().end("late")));
    start(baseConfig().put("upstream", new JsonObject().put("responseTimeout", "300ms")));
    RawHttp.Response r = RawHttp.get(port(), "/slow");
    assertEquals(504, r.status());
    assertTrue(r.header("Cache-Status").contains("detail=\"origin-timeout\""), r.header("Cache-Status"));
  }

  @Test
  void origin_failure_thenProxyKeepsServing() throws Exception {
    origin.handle(r -> {
      if (r.path().equals("/reset")) {
        r.connection().close();
      } else {
        r.response().end("fine");
      }
    });
    start();
    assertEquals(502, RawHttp.get(port(), "/reset").status());
    assertEquals("fine", RawHttp.get(port(), "/ok").text());
  }

  // ------------------------------------------------------------------ request limits

  @Test
  void limits_requestLineTooLong_is414() throws Exception {
    start();
    RawHttp.Response r = RawHttp.get(port(), "/" + "a".repeat(9000));
    assertEquals(414, r.status());
    assertEquals(0, origin.requests.get());
  }

  @Test
  void limits_tooManyHeaderFields_is431() throws Exception {
    start();
    String[] headers = new String[2 * 120];
    for (int i = 0; i < 120; i++) {
      headers[2 * i] = "X-H" + i;
      headers[2 * i + 1] = "v";
    }
    assertEquals(431, RawHttp.get(port(), "/", headers).status());
    assertEquals(0, origin.requests.get());
  }

  @Test
  void limits_headerSectionTooLarge_is431() throws Exception {
    start();
    assertEquals(431, RawHttp.get(port(), "/", "X-Big", "b".repeat(20_000)).status());
    assertEquals(0, origin.requests.get());
  }

  @Test
  void framing_contentLengthAndTransferEncoding_is400AndConnectionCloses() throws Exception {
    start();
    try (RawHttp c = new RawHttp(port())) {
      c.send("POST /smuggle HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
      assertEquals(400, c.read(false).status());
      assertTrue(c.closedByPeer());
    }
    assertEquals(0, origin.requests.get());
    assertEquals(200, RawHttp.get(port(), "/after").status());
  }

  @Test
  void framing_twoDifferentContentLengths_is400() throws Exception {
    start();
    try (RawHttp c = new RawHttp(port())) {
      c.send("POST /smuggle HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde");
      assertEquals(400, c.read(false).status());
    }
    assertEquals(0, origin.requests.get());
  }

  /**
   * Sends {@code head} (unfinished), then one header line every 100 ms, which keeps an idle timeout
   * happy; the proxy must close the connection within 3.5 s.
   */
  private static void assertClosedWithin3500msWhileDripping(RawHttp c, String head) throws Exception {
    long t0 = System.nanoTime();
    c.send(head);
    boolean closed = false;
    for (int i = 0; i < 40 && !closed; i++) {
      Thread.sleep(100);
      try {
        c.send("X-Drip-" + i + ": 1\r\n");
      } catch (java.io.IOException e) {
        closed = true;
      }
    }
    closed = closed || c.closedByPeer();
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertTrue(closed, "connection still open");
    assertTrue(ms < 3500, "closed only after " + ms + " ms");
  }

  @Test
  void limits_headersSentTooSlowly_connectionIsClosedAfterHeaderTimeout() throws Exception {
    start(baseConfig().put("limits", new JsonObject().put("headerTimeout", "500ms").put("idleTimeout", "60s")));
    try (RawHttp c = new RawHttp(port())) {
      assertClosedWithin3500msWhileDripping(c, "GET / HTTP/1.1\r\nHost: edge.test\r\n");
    }
    assertEquals(0, origin.requests.get());
  }

  @Test
  void limits_nextRequestSentTooSlowlyAfterAResponse_connectionIsClosedAfterIdleTimeout() throws Exception {
    start(baseConfig().put("limits", new JsonObject().put("headerTimeout", "10s").put("idleTimeout", "500ms")));
    try (RawHttp c = new RawHttp(port())) {
      c.send("GET /first HTTP/1.1\r\nHost: edge.test\r\n\r\n");
      assertEquals(200, c.read(false).status());
      assertClosedWithin3500msWhileDripping(c, "GET /second HTTP/1.1\r\nHost: edge.test\r\n");
    }
    assertEquals(1, origin.requests.get());
  }

  @Test
  void limits_keepAliveRequestsEachInTime_connectionOutlivesTheHeaderTimeout() throws Exception {
    start(baseConfig().put("limits", new JsonObject().put("headerTimeout", "400ms").put("idleTimeout", "400ms")));
    try (RawHttp c = new RawHttp(port())) {
      long t0 = System.nanoTime();
      for (int i = 0; i < 12; i++) { // 12 x 150 ms: well past 400 ms since connecting, never 400 ms idle
        c.send("GET /k" + (i % 3) + " HTTP/1.1\r\nHost: edge.test\r\n\r\n");
        assertEquals(200, c.read(false).status(), "request " + i);
        Thread.sleep(150);
      }
      // all twelve answered on this one socket: it stayed open well past 400 ms since connecting
      assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) > 1500);
    }
  }

  // ------------------------------------------------------------------ streaming

  @Test
  void stream_largeDownload_arrivesIntactAndIsNotStoredAboveObjectLimit() throws Exception {
    byte[] chunk = new byte[64 * 1024];
    new java.util.Random(7).nextBytes(chunk);
    int chunks = 512; // 32 MiB
    MessageDigest expected = MessageDigest.getInstance("SHA-256");
    for (int i = 0; i < chunks; i++) {
      expected.update(chunk);
    }
    origin.handle(r -> {
      r.response().setChunked(true).putHeader("Cache-Control", "max-age=60");
      writeChunks(originVertx, r.response(), Buffer.buffer(chunk), chunks);
    });
    start();
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<java.io.InputStream> resp = http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + "/big")).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    MessageDigest got = MessageDigest.getInstance("SHA-256");
    long total = 0;
    try (java.io.InputStream in = resp.body()) {
      byte[] buf = new byte[65536];
      int n;
      while ((n = in.read(buf)) > 0) {
        got.update(buf, 0, n);
        total += n;
      }
    }
    assertEquals(32L << 20, total);
    assertArrayEquals(expected.digest(), got.digest());
    RawHttp.Response second = RawHttp.exchange(port(), "HEAD", "/big");
    assertTrue(second.header("Cache-Status").contains("fwd=uri-miss"), second.header("Cache-Status"));
    assertEquals(2, origin.requests.get());
  }

  private static void writeChunks(io.vertx.core.Vertx vertx, io.vertx.core.http.HttpServerResponse resp, Buffer chunk, int remaining) {
    if (remaining == 0) {
      resp.end();
      return;
    }
    resp.write(chunk);
    if (resp.writeQueueFull()) {
      resp.drainHandler(v -> writeChunks(vertx, resp, chunk, remaining - 1));
    } else {
      vertx.runOnContext(v -> writeChunks(vertx, resp, chunk, remaining - 1));
    }
  }

  @Test
  void stream_largeUpload_reachesOriginIntact() throws Exception {
    byte[] data = new byte[24 << 20];
    new java.util.Random(11).nextBytes(data);
    origin.handle(r -> {
      MessageDigest md = sha256();
      long[] n = {0};
      r.handler(b -> {
        md.update(b.getBytes());
        n[0] += b.length();
      });
      r.endHandler(v -> r.response().end(n[0] + ":" + java.util.HexFormat.of().formatHex(md.digest())));
    });
    start();
    HttpResponse<String> resp = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + "/upload"))
            .PUT(HttpRequest.BodyPublishers.ofByteArray(data)).timeout(Duration.ofSeconds(60)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(data.length + ":" + java.util.HexFormat.of().formatHex(sha256().digest(data)), resp.body());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void fillBudget_concurrentLargeFillsBeyondIt_areServedButNotAllStored_andTheBudgetComesBack() throws Exception {
    byte[] half = new byte[300_000];
    origin.handle(r -> {
      r.response().putHeader("Cache-Control", "max-age=600").putHeader("Content-Length", Integer.toString(2 * half.length));
      r.response().write(Buffer.buffer(half));
      originVertx.setTimer(400, t -> r.response().end(Buffer.buffer(half)));
    });
    start(baseConfig().put("memory", new JsonObject().put("maxBytes", "64MiB").put("maxObjectBytes", "2MiB")
        .put("fillBufferBytes", "1MiB")));
    HttpClient http = HttpClient.newHttpClient();
    var a = http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + "/a")).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    var b = http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + "/b")).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(600_000, a.get(10, TimeUnit.SECONDS).body().length);
    assertEquals(600_000, b.get(10, TimeUnit.SECONDS).body().length);
    int hits = 0;
    for (String p : new String[] {"/a", "/b"}) {
      if (RawHttp.exchange(port(), "HEAD", p).header("Cache-Status").contains("hit")) {
        hits++;
      }
    }
    assertTrue(hits <= 1, "two 600 KB fills cannot both fit a 1 MiB budget");
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=600").end(Buffer.buffer(new byte[900_000])));
    RawHttp.get(port(), "/c");
    assertTrue(RawHttp.exchange(port(), "HEAD", "/c").header("Cache-Status").contains("hit"), "budget not returned");
  }

  // ------------------------------------------------------------------ start-up

  @Test
  void start_portInUse_failsWithOneLineNamingFileAndKey() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
      JsonObject cfg = baseConfig().put("listen", new JsonObject().put("host", "127.0.0.1").put("port", taken.getLocalPort()));
      ProxyServer p = new ProxyServer(ConfigLoader.fromJson("conf/x.json", cfg));
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> p.start().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS));
      assertTrue(e.getCause() instanceof ConfigException, String.valueOf(e.getCause()));
      assertTrue(e.getCause().getMessage().startsWith("conf/x.json: listen.port: cannot listen on 127.0.0.1:" + taken.getLocalPort()),
          e.getCause().getMessage());
      assertFalse(e.getCause().getMessage().contains("\n"));
    }
  }

  @Test
  void admin_healthAndReadiness_answerOnAdminPortOnly() throws Exception {
    start();
    assertEquals(200, RawHttp.get(proxy.adminPort(), "/healthz").status());
    assertEquals(200, RawHttp.get(proxy.adminPort(), "/readyz").status());
    RawHttp.get(port(), "/healthz");
    assertEquals("/healthz", origin.last().uri()); // the traffic port forwards it like any path
  }
}
