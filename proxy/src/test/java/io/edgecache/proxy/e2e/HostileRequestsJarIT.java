package io.edgecache.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile or odd requests through the real jar (README, "Security and failure behaviour"):
 * rerouting fields are not forwarded, a GET or HEAD body is read and dropped with the connection
 * still framed, several Host fields are refused before anything is dialled, and a response that
 * sets a cookie is never replayed to another client, neither from the cache nor through request
 * coalescing.
 *
 * <p>Two proxies share one origin: {@code strict} runs the defaults; {@code lenient} sets
 * {@code cache.storeSetCookie: true} and an empty {@code upstream.stripRequestHeaders}, to show
 * that both switches reach the running jar. Every case uses its own paths.
 */
class HostileRequestsJarIT {
  private static final String HOST = "edge.test";
  private static final List<String> REROUTING = List.of("X-Original-URL", "X-Rewrite-URL", "X-HTTP-Method-Override",
      "X-HTTP-Method", "X-Method-Override", "X-Forwarded-Scheme", "X-Forwarded-Port", "X-Forwarded-Server", "X-Host",
      "X-Forwarded-Prefix");

  @TempDir
  static Path dir;
  private static CountingOrigin origin;
  private static JarProxy strict;
  private static JarProxy lenient;
  /** The header fields of the last request the origin saw, by path. */
  private static final Map<String, MultiMap> fields = new ConcurrentHashMap<>();
  /** The body length of the last request the origin saw, by path. */
  private static final Map<String, Integer> bodyLengths = new ConcurrentHashMap<>();
  /** Set-Cookie sequence numbers, by path. */
  private static final Map<String, AtomicInteger> sessions = new ConcurrentHashMap<>();

  @BeforeAll
  static void startOriginAndProxies() throws Exception {
    origin = new CountingOrigin(HostileRequestsJarIT::answer);
    strict = JarProxy.start(dir, "strict", config(new JsonObject()));
    lenient = JarProxy.start(dir, "lenient", config(new JsonObject()
        .put("cache", new JsonObject().put("storeSetCookie", true))
        .put("upstream", new JsonObject().put("stripRequestHeaders", new JsonArray()))));
  }

  @AfterAll
  static void stopProxiesAndOrigin() throws Exception {
    try {
      for (JarProxy p : new JarProxy[] {strict, lenient}) {
        if (p != null) {
          p.close();
        }
      }
    } finally {
      if (origin != null) {
        origin.close();
      }
    }
  }

  private static JsonObject config(JsonObject extra) {
    JsonObject c = new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("eventLoops", 2))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "origin").put("url", origin.url())
            .put("hosts", new JsonArray().add(HOST))))
        .put("memory", new JsonObject().put("maxBytes", "16MiB").put("maxObjectBytes", "1MiB"));
    return c.mergeIn(extra);
  }

  /**
   * {@code /cookie/...}: {@code public, max-age=60} with a new {@code Set-Cookie: session=<n>},
   * the first answer of each path held back 300 ms so that concurrent requests queue behind it;
   * anything else: {@code public, max-age=60} and the length of the request body it received.
   */
  private static void answer(HttpServerRequest r) {
    String path = r.path();
    fields.put(path, MultiMap.caseInsensitiveMultiMap().addAll(r.headers()));
    r.body().onSuccess(body -> {
      bodyLengths.put(path, body.length());
      if (path.startsWith("/cookie/")) {
        int n = sessions.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
        r.response().setChunked(true).putHeader("Cache-Control", "public, max-age=60")
            .putHeader("Set-Cookie", "session=" + n);
        r.response().write("session " + n);
        Vertx.currentContext().owner().setTimer(n == 1 ? 300 : 1, t -> r.response().end());
      } else {
        r.response().putHeader("Cache-Control", "public, max-age=60").end("body of " + path);
      }
    });
  }

  // ---------------------------------------------------------------- 1. rerouting fields

  @Test
  void reroutingFields_areNotForwardedByDefault() throws IOException {
    String[] hs = new String[REROUTING.size() * 2 + 2];
    for (int i = 0; i < REROUTING.size(); i++) {
      hs[2 * i] = REROUTING.get(i);
      hs[2 * i + 1] = REROUTING.get(i).contains("Method") ? "DELETE" : "/admin";
    }
    hs[hs.length - 2] = "X-Kept";
    hs[hs.length - 1] = "yes";

    assertEquals(200, Http1.once(strict.port(), "GET", "/reroute", HOST, hs).status());

    MultiMap seen = fields.get("/reroute");
    for (String name : REROUTING) {
      assertNull(seen.get(name), name + " reached the origin");
    }
    assertEquals("yes", seen.get("X-Kept"));
  }

  @Test
  void reroutingFields_emptyStripList_forwardsThem() throws IOException {
    assertEquals(200, Http1.once(lenient.port(), "GET", "/reroute-lenient", HOST, "X-Original-URL", "/admin").status());

    assertEquals("/admin", fields.get("/reroute-lenient").get("X-Original-URL"));
  }

  // ---------------------------------------------------------------- 2. GET / HEAD with a body

  @Test
  void getWithContentLengthBody_bodyDroppedAndNextRequestOnTheConnectionWorks() throws IOException {
    try (Http1 c = new Http1(strict.port())) {
      String body = "{\"query\": \"poison\"}";
      Http1.Response fat = c.raw("GET /fat-cl HTTP/1.1\r\nHost: " + HOST + "\r\nContent-Length: " + body.length()
          + "\r\n\r\n" + body, false);
      Http1.Response next = c.request("GET", "/fat-cl", HOST, null);

      assertEquals(200, fat.status());
      assertEquals("body of /fat-cl", fat.text());
      assertTrue(next.isHit(), next.cacheStatus());
    }
    assertEquals(0, bodyLengths.get("/fat-cl"));
    assertNull(fields.get("/fat-cl").get("Content-Length"));
    assertEquals(1, origin.count("GET", "/fat-cl"));
  }

  @Test
  void getWithChunkedBody_bodyDroppedAndNextRequestOnTheConnectionWorks() throws IOException {
    try (Http1 c = new Http1(strict.port())) {
      Http1.Response fat = c.raw("GET /fat-chunked HTTP/1.1\r\nHost: " + HOST + "\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "6\r\npoison\r\n4\r\nGET \r\n0\r\n\r\n", false);
      Http1.Response next = c.request("GET", "/fat-chunked-next", HOST, null);

      assertEquals("body of /fat-chunked", fat.text());
      assertEquals(200, next.status());
      assertEquals("body of /fat-chunked-next", next.text());
    }
    assertEquals(0, bodyLengths.get("/fat-chunked"));
    assertNull(fields.get("/fat-chunked").get("Transfer-Encoding"));
    assertEquals(1, origin.count("GET", "/fat-chunked"));
  }

  @Test
  void headWithBody_bodyDroppedAndNextRequestOnTheConnectionWorks() throws IOException {
    try (Http1 c = new Http1(strict.port())) {
      Http1.Response head = c.raw("HEAD /fat-head HTTP/1.1\r\nHost: " + HOST + "\r\nContent-Length: 5\r\n\r\nhello", true);
      Http1.Response next = c.request("GET", "/fat-head-next", HOST, null);

      assertEquals(200, head.status());
      assertEquals("body of /fat-head-next", next.text());
    }
    assertEquals(0, bodyLengths.get("/fat-head"));
  }

  // ---------------------------------------------------------------- 3. Host

  @Test
  void twoHostFields_is400AndNothingForwarded() throws IOException {
    try (Http1 c = new Http1(strict.port())) {
      Http1.Response r = c.raw("GET /two-hosts HTTP/1.1\r\nHost: " + HOST + "\r\nHost: evil.test\r\n\r\n", false);

      assertEquals(400, r.status());
    }
    assertEquals(0, origin.count("GET", "/two-hosts"));
  }

  @Test
  void absoluteFormWithDisagreeingHost_hostIgnoredTargetAuthorityUsed() throws IOException {
    try (Http1 c = new Http1(strict.port())) {
      Http1.Response r = c.raw("GET http://" + HOST + "/absolute HTTP/1.1\r\nHost: evil.test\r\n\r\n", false);

      assertEquals(200, r.status());
    }
    assertEquals(1, origin.count("GET", HOST, "/absolute"));
    assertEquals(HOST, fields.get("/absolute").get("X-Forwarded-Host"));
  }

  // ---------------------------------------------------------------- 4. Set-Cookie

  @Test
  void setCookieWithPublic_twentyConcurrentClientsOnAColdKey_eachGetsItsOwnCookieAndNothingIsStored()
      throws Exception {
    double waitersBefore = coalescedWaiters(strict);
    Set<String> cookies = new HashSet<>();
    for (Http1.Response r : concurrentGets(strict, "/cookie/strict", 20)) {
      assertEquals(200, r.status());
      String cookie = r.header("Set-Cookie");
      assertEquals("session " + cookie.substring("session=".length()), r.text(), "body and cookie from one answer");
      cookies.add(cookie);
    }
    assertEquals(20, cookies.size(), "distinct cookies: " + cookies);
    assertEquals(20, origin.count("GET", "/cookie/strict"));
    assertTrue(coalescedWaiters(strict) > waitersBefore, "some requests waited on the first fetch, then asked themselves");

    Http1.Response later = Http1.once(strict.port(), "GET", "/cookie/strict", HOST);
    assertTrue(later.cacheStatus().contains("detail=\"set-cookie\""), later.cacheStatus());
    assertEquals("session=21", later.header("Set-Cookie"));
  }

  @Test
  void setCookieWithPublic_storeSetCookieOn_isStoredAsTheRfcAllows() throws IOException {
    Http1.Response first = Http1.once(lenient.port(), "GET", "/cookie/lenient", HOST);
    Http1.Response second = Http1.once(lenient.port(), "GET", "/cookie/lenient", HOST);

    assertEquals("session=1", first.header("Set-Cookie"));
    assertTrue(second.isHit(), second.cacheStatus());
    assertEquals("session=1", second.header("Set-Cookie"));
    assertEquals(1, origin.count("GET", "/cookie/lenient"));
  }

  /** {@code edgecache_coalesced_waiters_total} from the admin {@code /metrics}. */
  private static double coalescedWaiters(JarProxy proxy) throws IOException, InterruptedException {
    for (String line : proxy.admin("GET", "/metrics", null).body().split("\n")) {
      if (line.startsWith("edgecache_coalesced_waiters_total")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new AssertionError("no edgecache_coalesced_waiters_total in /metrics");
  }

  private static List<Http1.Response> concurrentGets(JarProxy proxy, String path, int clients) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      List<Callable<Http1.Response>> calls = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        calls.add(() -> Http1.once(proxy.port(), "GET", path, HOST));
      }
      List<Http1.Response> out = new ArrayList<>();
      for (Future<Http1.Response> f : pool.invokeAll(calls, 30, TimeUnit.SECONDS)) {
        out.add(f.get());
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }
}
