package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.e2e.ScriptedOrigin;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Origins that send interim responses, stall mid-body or ignore Range, behind an in-process proxy. */
class MisbehavingOriginIntegrationTest extends ProxyHarness {
  private ScriptedOrigin raw;

  @AfterEach
  void closeRaw() throws IOException {
    if (raw != null) {
      raw.close();
    }
  }

  private void startWith(ScriptedOrigin.Script script, String bodyIdle) throws Exception {
    raw = new ScriptedOrigin(script);
    JsonObject cfg = baseConfig();
    cfg.put("origins", new JsonArray().add(new JsonObject().put("name", "raw").put("url", raw.url())
        .put("hosts", new JsonArray().add("*"))));
    if (bodyIdle != null) {
      cfg.put("upstream", new JsonObject().put("bodyIdleTimeout", bodyIdle));
    }
    start(cfg);
  }

  private static void ok(OutputStream out, String interim) throws IOException {
    ScriptedOrigin.write(out, interim + "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: 5\r\n\r\nhello");
  }

  @Test
  void earlyHints_beforeFinalResponse_servesTheFinalResponse() throws Exception {
    startWith((head, in, out) -> ok(out, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"), null);
    try (RawHttp c = new RawHttp(port())) {
      c.send("GET /hints HTTP/1.1\r\nHost: edge.test\r\n\r\n");
      RawHttp.Response hints = c.read(false);
      assertEquals(103, hints.status());
      assertEquals("</a.css>; rel=preload", hints.header("link"));
      RawHttp.Response r = c.read(false);
      assertEquals(200, r.status());
      assertEquals("hello", r.text());
      assertTrue(r.header("cache-status").contains("stored"), r.header("cache-status"));
    }
    RawHttp.Response hit = RawHttp.get(port(), "/hints");
    assertEquals(200, hit.status());
    assertTrue(hit.header("cache-status").contains("hit"), hit.header("cache-status"));
  }

  @Test
  void earlyHints_http10Client_notRelayed() throws Exception {
    startWith((head, in, out) -> ok(out, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"), null);
    try (RawHttp c = new RawHttp(port())) {
      c.send("GET /hints10 HTTP/1.0\r\nHost: edge.test\r\n\r\n");
      RawHttp.Response r = c.read(false);
      assertEquals(200, r.status());
      assertEquals("hello", r.text());
    }
  }

  @Test
  void processing_beforeFinalResponse_isDropped() throws Exception {
    startWith((head, in, out) -> ok(out, "HTTP/1.1 102 Processing\r\n\r\n"), null);
    RawHttp.Response r = RawHttp.get(port(), "/processing");
    assertEquals(200, r.status());
    assertEquals("hello", r.text());
  }

  @Test
  void continue_unasked_isDropped() throws Exception {
    startWith((head, in, out) -> ok(out, "HTTP/1.1 100 Continue\r\n\r\n"), null);
    RawHttp.Response r = RawHttp.get(port(), "/continue");
    assertEquals(200, r.status());
    assertEquals("hello", r.text());
  }

  @Test
  void body_stallsMidTransferWithContentLength_clientSeesTruncationAndNextRequestRefetches() throws Exception {
    startWith((head, in, out) -> {
      ScriptedOrigin.write(out, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: 10\r\n\r\nhello");
      raw.stall();
    }, "300ms");
    for (int i = 1; i <= 2; i++) {
      RawHttp.Response r = RawHttp.get(port(), "/stall");
      assertEquals(200, r.status());
      assertEquals("hello", r.text(), "5 of 10 bytes, then the connection ends");
      assertEquals(i, raw.requests().size(), "nothing was stored: each request asks the origin");
    }
  }

  @Test
  void body_stallsMidTransferChunked_clientGetsNoLastChunk() throws Exception {
    startWith((head, in, out) -> {
      ScriptedOrigin.write(out, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5\r\nhello\r\n");
      raw.stall();
    }, "300ms");
    for (int i = 1; i <= 2; i++) {
      try (RawHttp c = new RawHttp(port())) {
        c.send("GET /stall-chunked HTTP/1.1\r\nHost: edge.test\r\n\r\n");
        String all = new String(c.readAll(), StandardCharsets.ISO_8859_1);
        assertTrue(all.startsWith("HTTP/1.1 200") && all.contains("hello"), all);
        assertFalse(all.endsWith("0\r\n\r\n"), "a stalled body must not end cleanly: " + all);
      }
      assertEquals(i, raw.requests().size(), "nothing was stored: each request asks the origin");
    }
  }

  @Test
  void range_originIgnoresRange_clientGets206() throws Exception {
    startWith((head, in, out) -> ScriptedOrigin.write(out,
        "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: 10\r\n\r\n0123456789"), null);
    RawHttp.Response r = RawHttp.get(port(), "/range", "Range", "bytes=2-4");
    assertEquals(206, r.status());
    assertEquals("234", r.text());
    assertEquals("bytes 2-4/10", r.header("content-range"));
    RawHttp.Response again = RawHttp.get(port(), "/range");
    assertEquals("0123456789", again.text());
    assertTrue(again.header("cache-status").contains("hit"), again.header("cache-status"));
  }

  private static void tenBytes(OutputStream out) throws IOException {
    ScriptedOrigin.write(out, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nETag: \"v1\"\r\n"
        + "Content-Length: 10\r\n\r\n0123456789");
  }

  @Test
  void range_cacheableMiss_originIsAskedForTheWholeObject() throws Exception {
    startWith((head, in, out) -> tenBytes(out), null);
    RawHttp.Response r = RawHttp.get(port(), "/whole", "Range", "bytes=-3");
    assertEquals(206, r.status());
    assertEquals("789", r.text());
    assertFalse(raw.requests().get(0).toLowerCase(java.util.Locale.ROOT).contains("range:"), raw.requests().get(0));
    RawHttp.Response fromStore = RawHttp.get(port(), "/whole", "Range", "bytes=0-1");
    assertEquals("01", fromStore.text());
    assertEquals(1, raw.requests().size());
  }

  @Test
  void range_unsatisfiableOnMiss_416AndTheWholeBodyIsStored() throws Exception {
    startWith((head, in, out) -> tenBytes(out), null);
    RawHttp.Response r = RawHttp.get(port(), "/unsat", "Range", "bytes=20-");
    assertEquals(416, r.status());
    assertEquals("bytes */10", r.header("content-range"));
    RawHttp.Response again = RawHttp.get(port(), "/unsat");
    assertEquals("0123456789", again.text());
    assertTrue(again.header("cache-status").contains("hit"), again.header("cache-status"));
  }

  @Test
  void range_ifRangeMatchesTheFetchedEtag_206() throws Exception {
    startWith((head, in, out) -> tenBytes(out), null);
    RawHttp.Response r = RawHttp.get(port(), "/ifrange", "Range", "bytes=2-3", "If-Range", "\"v1\"");
    assertEquals(206, r.status());
    assertEquals("23", r.text());
  }

  @Test
  void range_ifRangeDoesNotMatch_wholeBody200() throws Exception {
    startWith((head, in, out) -> tenBytes(out), null);
    RawHttp.Response r = RawHttp.get(port(), "/ifrange-old", "Range", "bytes=2-3", "If-Range", "\"v0\"");
    assertEquals(200, r.status());
    assertEquals("0123456789", r.text());
  }

  @Test
  void range_bodyLargerThanEveryTier_slicedWhileStreamingThenRangesGoToTheOrigin() throws Exception {
    int size = 3 << 20; // memory.maxObjectBytes is 1 MiB in the harness, no disk tier
    byte[] body = new byte[size];
    for (int i = 0; i < size; i++) {
      body[i] = (byte) ('a' + i % 26);
    }
    startWith((head, in, out) -> {
      ScriptedOrigin.write(out, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: " + size + "\r\n\r\n");
      out.write(body);
      out.flush();
    }, null);
    int first = (2 << 20) + 5;
    RawHttp.Response r = RawHttp.get(port(), "/big", "Range", "bytes=" + first + "-" + (first + 9));
    assertEquals(206, r.status());
    assertEquals(new String(body, first, 10, StandardCharsets.ISO_8859_1), r.text());
    assertEquals("bytes " + first + "-" + (first + 9) + "/" + size, r.header("content-range"));
    RawHttp.get(port(), "/big", "Range", "bytes=0-0");
    assertTrue(raw.requests().get(1).toLowerCase(java.util.Locale.ROOT).contains("range: bytes=0-0"),
        "known too large: the next Range is forwarded as a Range");
  }

  @Test
  void processing_beforeHeadResponse_isDropped() throws Exception {
    startWith((head, in, out) -> ScriptedOrigin.write(out, "HTTP/1.1 102 Processing\r\n\r\n"
        + "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: 5\r\n\r\n"), null);
    RawHttp.Response r = RawHttp.exchange(port(), "HEAD", "/head102");
    assertEquals(200, r.status());
    assertEquals("5", r.header("content-length"));
  }

  @Test
  void body_stallsWithCoalescedWaiters_everyClientTruncatedThenAFreshFetch() throws Exception {
    startWith((head, in, out) -> {
      ScriptedOrigin.write(out, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: 10\r\n\r\nhello");
      raw.stall();
    }, "500ms");
    java.util.List<java.util.concurrent.CompletableFuture<RawHttp.Response>> clients = new java.util.ArrayList<>();
    for (int i = 0; i < 4; i++) {
      clients.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return RawHttp.get(port(), "/stall-shared");
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }));
    }
    for (java.util.concurrent.CompletableFuture<RawHttp.Response> c : clients) {
      RawHttp.Response r = c.get(10, java.util.concurrent.TimeUnit.SECONDS);
      assertEquals(200, r.status());
      assertEquals("hello", r.text(), "every client sees the truncation, none a clean end");
    }
    int before = raw.requests().size();
    raw.script((head, in, out) -> ok(out, ""));
    RawHttp.Response fresh = RawHttp.get(port(), "/stall-shared");
    assertEquals("hello", fresh.text());
    assertTrue(fresh.header("cache-status").contains("fwd=uri-miss"), fresh.header("cache-status"));
    assertEquals(before + 1, raw.requests().size());
  }

  @Test
  void body_slowClientPausesTheOrigin_notCountedAsAStall() throws Exception {
    int size = 16 << 20;
    java.util.concurrent.atomic.AtomicLong lastProgress = new java.util.concurrent.atomic.AtomicLong();
    startWith((head, in, out) -> {
      ScriptedOrigin.write(out, "HTTP/1.1 200 OK\r\nContent-Length: " + size + "\r\n\r\n");
      byte[] chunk = new byte[64 << 10];
      for (int sent = 0; sent < size; sent += chunk.length) {
        out.write(chunk);
        lastProgress.set(System.nanoTime());
      }
      out.flush();
    }, "300ms");
    try (RawHttp c = new RawHttp(port())) {
      c.send("GET /slow-reader HTTP/1.1\r\nHost: edge.test\r\n\r\n");
      // the client reads nothing: the proxy's write queue fills, it pauses the origin, whose writes block
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
          .until(() -> lastProgress.get() != 0 && System.nanoTime() - lastProgress.get() > 1_000_000_000L);
      RawHttp.Response r = c.read(false);
      assertEquals(200, r.status());
      assertEquals(size, r.body().length, "paused for the client for over 3 windows, yet complete");
    }
  }
}
