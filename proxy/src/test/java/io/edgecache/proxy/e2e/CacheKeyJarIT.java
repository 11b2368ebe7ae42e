package io.edgecache.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Equivalent spellings of a URL name one cache entry, through the real jar: lookups, PURGE, the
 * admin purge by URL and the invalidation after unsafe methods (RFC 9111 4.4) all agree that
 * {@code edge.test}, {@code Edge.Test:80}, {@code EDGE.TEST}, {@code http://Edge.Test:80/x} and
 * {@code https://edge.test/x} are one URL, and that {@code http://edge.test:443/x} is another
 * (RFC 3986 6.2.3: only the scheme's own default port may be dropped).
 *
 * <p>One proxy (memory tier only) and one origin serve the whole class; every case starts from an
 * empty cache (admin purge of everything) and a fresh origin count, then stores {@code /x} via
 * {@code Host: edge.test}.
 */
class CacheKeyJarIT {
  private static final String HOST = "edge.test";
  private static final String OTHER = "other.test";

  @TempDir
  static Path dir;
  private static CountingOrigin origin;
  private static JarProxy proxy;
  /** The Location the origin sends with its answer to a POST, or null. */
  private static volatile String location;

  @BeforeAll
  static void startOriginAndProxy() throws Exception {
    origin = new CountingOrigin(r -> {
      if (r.method() == HttpMethod.POST) {
        String loc = location;
        if (loc != null) {
          r.response().putHeader("Location", loc);
        }
        r.response().end("posted");
      } else {
        r.response().putHeader("Cache-Control", "public, max-age=3600").end("body of " + r.getHeader("Host") + r.uri());
      }
    });
    JsonObject config = new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("eventLoops", 2))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "origin").put("url", origin.url())
            .put("hosts", new JsonArray().add(HOST).add(OTHER))))
        .put("memory", new JsonObject().put("maxBytes", "16MiB").put("maxObjectBytes", "1MiB"))
        .put("purge", new JsonObject().put("allow", new JsonArray().add("127.0.0.0/8")));
    proxy = JarProxy.start(dir, "proxy", config); // @AfterAll runs even when this fails
  }

  @AfterAll
  static void stopProxyAndOrigin() throws Exception {
    JarProxy.closeAll(proxy, origin);
  }

  @BeforeEach
  void emptyCacheAndStoreX() throws Exception {
    assertEquals(200, adminPurge(new JsonObject().put("all", true)).statusCode());
    origin.reset();
    location = null;
    Http1.Response stored = get("/x", HOST);
    assertTrue(stored.cacheStatus().contains("fwd=uri-miss") && stored.cacheStatus().contains("stored"),
        "storing /x via Host: edge.test: " + stored.cacheStatus());
    assertTrue(get("/x", HOST).isHit(), "/x via Host: edge.test is a hit once stored");
    assertEquals(1, origin.count("GET", "/x"));
  }

  private static Http1.Response get(String target, String host) throws IOException {
    Http1.Response r = Http1.once(proxy.port(), "GET", target, host);
    assertEquals(200, r.status(), "GET " + target + " Host: " + host + ": " + r.text());
    return r;
  }

  private static HttpResponse<String> adminPurge(JsonObject body) throws IOException, InterruptedException {
    return proxy.admin("POST", "/purge", body.encode());
  }

  private static int adminPurgeUrl(String url) throws IOException, InterruptedException {
    HttpResponse<String> r = adminPurge(new JsonObject().put("urls", new JsonArray().add(url)));
    assertEquals(200, r.statusCode(), "POST /purge " + url + ": " + r.body());
    return new JsonObject(r.body()).getInteger("purged");
  }

  /** Asserts that /x (as stored via Host: edge.test) is no longer stored: the next GET goes to the origin. */
  private static void assertXWasRemoved(String by) throws IOException {
    Http1.Response next = get("/x", HOST);
    assertFalse(next.isHit(), by + " did not remove /x stored via Host: edge.test: " + next.cacheStatus());
    assertEquals(2, origin.count("GET", "/x"), by + ": origin GETs of /x");
  }

  static Stream<Arguments> equivalentRequests() {
    return Stream.of(
        Arguments.of("/x", "Edge.Test:80"),
        Arguments.of("/x", "EDGE.TEST"),
        Arguments.of("/x", "edge.test:80"),
        Arguments.of("http://Edge.Test:80/x", "Edge.Test:80"),
        Arguments.of("http://EDGE.TEST/x", "edge.test"));
  }

  @ParameterizedTest(name = "GET {0} Host: {1}")
  @MethodSource("equivalentRequests")
  void get_equivalentSpelling_isAHitOnTheEntryStoredViaEdgeTest(String target, String host) throws Exception {
    Http1.Response r = get(target, host);
    assertTrue(r.isHit(), "GET " + target + " Host: " + host + ": " + r.cacheStatus());
    assertEquals("body of edge.test/x", r.text());
    assertEquals(1, origin.count("GET", "/x"), "origin GETs of /x");
  }

  @ParameterizedTest(name = "PURGE {0} Host: {1}")
  @MethodSource("equivalentRequests")
  void purgeOnTrafficPort_equivalentSpelling_removesTheEntry(String target, String host) throws Exception {
    Http1.Response r = Http1.once(proxy.port(), "PURGE", target, host);
    assertEquals(200, r.status(), r.text());
    assertEquals(1, new JsonObject(r.text()).getInteger("purged"), "PURGE " + target + " Host: " + host);
    assertXWasRemoved("PURGE " + target + " Host: " + host);
  }

  @ParameterizedTest(name = "urls: [{0}]")
  @ValueSource(strings = {
      "http://EDGE.test:80/x",
      "http://edge.test/x",
      "https://edge.test/x",
      "https://Edge.Test:443/x"})
  void adminPurgeUrl_equivalentUrl_removesTheEntry(String url) throws Exception {
    assertEquals(1, adminPurgeUrl(url), "POST /purge {\"urls\": [\"" + url + "\"]}");
    assertXWasRemoved("POST /purge " + url);
  }

  @ParameterizedTest(name = "urls: [{0}]")
  @ValueSource(strings = {
      "http://edge.test:443/x", // 443 is not http's default port
      "https://edge.test:80/x", // nor is 80 https's
      "http://edge.test:8080/x",
      "http://edge.test/X", // the path is case-sensitive
      "http://other.test/x"})
  void adminPurgeUrl_differentUrl_purgesNothing(String url) throws Exception {
    assertEquals(0, adminPurgeUrl(url), "POST /purge {\"urls\": [\"" + url + "\"]}");
    assertTrue(get("/x", HOST).isHit(), "/x must still be stored after purging " + url);
  }

  static Stream<Arguments> unsafeRequestsNamingX() {
    return Stream.of(
        Arguments.of("/x", "Edge.Test:80", null),
        Arguments.of("/x", "EDGE.TEST", null),
        Arguments.of("/y", "edge.test", "http://EDGE.test/x"),
        Arguments.of("/y", "edge.test", "http://edge.test:80/x"),
        Arguments.of("/y", "Edge.Test:80", "/x"),
        Arguments.of("/y", "edge.test", "https://edge.test/x"));
  }

  @ParameterizedTest(name = "POST {0} Host: {1} answered with Location: {2}")
  @MethodSource("unsafeRequestsNamingX")
  void unsafeMethod_answered200_invalidatesTheEquivalentUrl(String target, String host, String loc) throws Exception {
    location = loc;
    Http1.Response r = Http1.once(proxy.port(), "POST", target, host);
    assertEquals(200, r.status(), r.text());
    assertXWasRemoved("POST " + target + " Host: " + host + (loc == null ? "" : " with Location: " + loc));
  }

  @Test
  void unsafeMethod_locationOnAnotherHost_invalidatesNothing() throws Exception {
    get("/x", OTHER);
    assertTrue(get("/x", OTHER).isHit(), "/x via Host: other.test is stored");
    location = "http://other.test/x";
    assertEquals(200, Http1.once(proxy.port(), "POST", "/y", HOST).status());
    assertTrue(get("/x", OTHER).isHit(), "a Location on another host must not invalidate that host's entry");
    assertTrue(get("/x", HOST).isHit(), "nor the same path on the POST's host");
    assertEquals(2, origin.count("GET", "/x"), "origin GETs of /x (one per host)");
  }
}
