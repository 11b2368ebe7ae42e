package io.edgecache.proxy.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bounds that hold under abuse, through the jar: a cap on client connections answered with a 503
 * that says so, a cap on the Vary variants stored per URL, and many slow readers of a large
 * object that cost bounded memory while others are still served.
 *
 * <p>The proxy runs with {@code -XX:MaxDirectMemorySize=64m}: 24 readers that stop reading an
 * 8 MiB body would pin 192 MiB of direct memory if each body were written as one buffer.
 */
class AbuseBoundsJarIT {
  private static final String HOST = "edge.test";
  private static final int MAX_CONNECTIONS = 32;
  private static final int LARGE = 8 << 20;
  private static final byte[] LARGE_BODY = new byte[LARGE];

  @TempDir
  static Path dir;
  private static CountingOrigin origin;
  private static JarProxy proxy;

  @BeforeAll
  static void startOriginAndProxy() throws Exception {
    new Random(7).nextBytes(LARGE_BODY);
    origin = new CountingOrigin(r -> {
      if (r.path().equals("/large-coalesced")) { // answers late, so that a second request joins the first's fetch
        io.vertx.core.Vertx.currentContext().owner().setTimer(500, t -> r.response()
            .putHeader("Cache-Control", "public, max-age=3600").end(io.vertx.core.buffer.Buffer.buffer(LARGE_BODY)));
      } else if (r.path().startsWith("/large")) {
        r.response().putHeader("Cache-Control", "public, max-age=3600")
            .end(io.vertx.core.buffer.Buffer.buffer(LARGE_BODY));
      } else if (r.path().equals("/vary")) {
        r.response().putHeader("Cache-Control", "public, max-age=3600").putHeader("Vary", "X-Variant")
            .end("variant " + r.getHeader("X-Variant"));
      } else {
        r.response().putHeader("Cache-Control", "public, max-age=3600").end("small " + r.path());
      }
    });
    JsonObject config = new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("eventLoops", 2))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "origin").put("url", origin.url())
            .put("hosts", new JsonArray().add(HOST))))
        .put("memory", new JsonObject().put("maxBytes", "64MiB").put("maxObjectBytes", "16MiB")
            .put("fillBufferBytes", "32MiB"))
        .put("limits", new JsonObject().put("maxConnections", MAX_CONNECTIONS).put("maxVariants", 2))
        .put("accessLog", new JsonObject().put("enabled", false));
    proxy = JarProxy.start(dir, "proxy", config, List.of("-Xmx384m", "-XX:MaxDirectMemorySize=64m"));
  }

  @AfterAll
  static void stopProxyAndOrigin() throws Exception {
    JarProxy.closeAll(proxy, origin);
  }

  @Test
  void connections_beyondTheCap_getA503ThatSaysSoAndTheCapFreesWhenOnesClose() throws Exception {
    List<Http1> held = new ArrayList<>();
    try {
      for (int i = 0; i < MAX_CONNECTIONS; i++) {
        Http1 c = new Http1(proxy.port());
        held.add(c);
        assertEquals(200, c.request("GET", "/held", HOST, null).status(), "connection " + i + " within the cap");
      }
      Http1.Response refused = Http1.once(proxy.port(), "GET", "/one-more", HOST);
      assertEquals(503, refused.status());
      assertEquals("close", refused.header("Connection"));
      assertEquals("1", refused.header("Retry-After"));
      assertTrue(refused.text().contains("too many connections"), refused.text());
      assertEquals(0, origin.count("GET", "/one-more"), "a refused request reaches no origin");
    } finally {
      for (Http1 c : held) {
        c.close();
      }
    }
    await("a connection is accepted again once the held ones closed").atMost(Duration.ofSeconds(10))
        .ignoreExceptions().until(() -> Http1.once(proxy.port(), "GET", "/after", HOST).status() == 200);
  }

  @Test
  void variants_beyondTheCap_dropTheOldest() throws Exception {
    for (String v : new String[] {"a", "b", "c"}) {
      assertEquals("variant " + v, Http1.once(proxy.port(), "GET", "/vary", HOST, "X-Variant", v).text());
    }
    assertTrue(Http1.once(proxy.port(), "GET", "/vary", HOST, "X-Variant", "c").isHit(), "newest variant kept");
    assertTrue(Http1.once(proxy.port(), "GET", "/vary", HOST, "X-Variant", "b").isHit(), "second newest kept");
    Http1.Response oldest = Http1.once(proxy.port(), "GET", "/vary", HOST, "X-Variant", "a");
    assertFalse(oldest.isHit(), "oldest variant dropped at the cap of 2: " + oldest.cacheStatus());
    assertEquals(4, origin.count("GET", "/vary"), "only the dropped variant went back to the origin");
  }

  @Test
  void slowReaders_manyOnALargeStoredObject_othersAreServedAndEveryReaderGetsItsBody() throws Exception {
    Http1.Response warm = Http1.once(proxy.port(), "GET", "/large", HOST);
    assertArrayEquals(LARGE_BODY, warm.body());
    assertTrue(Http1.once(proxy.port(), "GET", "/large", HOST).isHit(), "the large object is a memory hit");
    List<Socket> readers = new ArrayList<>();
    try {
      for (int i = 0; i < 24; i++) {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096); // a reader that does not read stalls the proxy's writes early
        s.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 5000);
        s.setSoTimeout(30_000);
        OutputStream out = s.getOutputStream();
        out.write(("GET /large HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        readers.add(s);
      }
      for (int i = 0; i < 20; i++) {
        Http1.Response other = Http1.once(proxy.port(), "GET", "/other-" + i, HOST);
        assertEquals(200, other.status(), "another client is served while 24 readers stall");
      }
      for (Socket s : readers) {
        assertEquals(LARGE, bodyLength(s.getInputStream()), "a slow reader gets the whole body once it reads");
      }
    } finally {
      for (Socket s : readers) {
        s.close();
      }
    }
    assertEquals(200, Http1.once(proxy.port(), "GET", "/after-readers", HOST).status(), proxy.logTail());
  }

  @Test
  void slowReaders_ofAnObjectPurgedWhileTheyRead_countAgainstTheMemoryBoundUntilTheyLeave() throws Exception {
    assertArrayEquals(LARGE_BODY, Http1.once(proxy.port(), "GET", "/large-held", HOST).body());
    assertTrue(Http1.once(proxy.port(), "GET", "/large-held", HOST).isHit(), "the large object is a memory hit");
    List<Socket> readers = new ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 5000);
        s.setSoTimeout(30_000);
        s.getOutputStream().write(("GET /large-held HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1));
        readers.add(s);
        readers.get(i).getInputStream().read(); // the answer has begun: this reader now holds the body
      }
      assertEquals(200, Http1.once(proxy.port(), "PURGE", "/large-held", HOST).status());
      JsonObject memory = proxy.stats().getJsonObject("memory");
      long detached = memory.getLong("detachedBytes");
      assertTrue(detached >= LARGE && detached < 2L * LARGE,
          "the purged body the 4 readers hold is counted once: " + memory);
      for (int i = 0; i < 10; i++) {
        assertEquals(200, Http1.once(proxy.port(), "GET", "/large-held?copy=" + i, HOST).status());
      }
      memory = proxy.stats().getJsonObject("memory");
      assertTrue(memory.getLong("bytes") + memory.getLong("detachedBytes") <= memory.getLong("maxBytes"),
          "stored plus held stays within the bound: " + memory);
    } finally {
      for (Socket s : readers) {
        s.close();
      }
    }
    await("the held body stops counting once its readers left").atMost(Duration.ofSeconds(10))
        .until(() -> proxy.stats().getJsonObject("memory").getLong("detachedBytes") == 0);
  }

  @Test
  void aStalledClient_whoseMissOthersJoined_doesNotHoldTheirBodies() throws Exception {
    try (Socket leader = new Socket()) {
      leader.setReceiveBufferSize(4096); // reads nothing: its connection fills at once
      leader.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 5000);
      leader.getOutputStream().write(("GET /large-coalesced HTTP/1.1\r\nHost: " + HOST + "\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      await("the stalled client's miss reached the origin").atMost(Duration.ofSeconds(5))
          .until(() -> origin.count("GET", "/large-coalesced") == 1);
      long start = System.nanoTime();
      Http1.Response joined = Http1.once(proxy.port(), "GET", "/large-coalesced", HOST);
      assertEquals(200, joined.status());
      assertTrue(joined.cacheStatus().contains("collapsed"), "it joined the first fetch: " + joined.cacheStatus());
      assertArrayEquals(LARGE_BODY, joined.body(), "the whole body, though the client it joined reads nothing");
      assertTrue(System.nanoTime() - start < Duration.ofSeconds(10).toNanos(), "without waiting on that client");
      assertEquals(1, origin.count("GET", "/large-coalesced"), "one origin fetch for both");
    }
  }

  /** Reads one response head and its Content-Length body from {@code in}; returns the body's length. */
  private static long bodyLength(InputStream in) throws IOException {
    String h = Http1.readHead(in).toLowerCase(java.util.Locale.ROOT);
    assertTrue(h.startsWith("http/1.1 200"), h);
    int at = h.indexOf("content-length:");
    long want = Long.parseLong(h.substring(at + 15, h.indexOf("\r\n", at)).trim());
    byte[] buf = new byte[1 << 16];
    long got = 0;
    while (got < want) {
      int n = in.read(buf, 0, (int) Math.min(buf.length, want - got));
      if (n < 0) {
        break;
      }
      got += n;
    }
    return got;
  }
}
