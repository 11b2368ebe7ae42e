package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** {@code origins[].routes} and {@code cache.clientDirectives} through a real proxy and origin. */
class RoutesIntegrationTest extends ProxyHarness {

  private JsonObject withRoutes(JsonArray routes) {
    JsonObject cfg = baseConfig();
    cfg.getJsonArray("origins").getJsonObject(0).put("routes", routes);
    return cfg;
  }

  private static JsonObject route(String path) {
    return new JsonObject().put("path", path);
  }

  /** An origin answering the URI it was asked for, cacheable for a minute. */
  private void echoUri(String cacheControl) {
    origin.handle(r -> {
      if (cacheControl != null) {
        r.response().putHeader("Cache-Control", cacheControl);
      }
      r.response().end(r.uri());
    });
  }

  @Test
  void bypassRoute_neverStores_andSaysWhichRule() throws Exception {
    echoUri("max-age=60");
    start(withRoutes(new JsonArray().add(route("/api/").put("bypass", true))));
    for (int i = 1; i <= 3; i++) {
      RawHttp.Response r = RawHttp.get(port(), "/api/users");
      assertEquals(200, r.status());
      assertEquals("/api/users", r.text());
      assertTrue(r.header("cache-status").contains("fwd=bypass"), r.header("cache-status"));
      assertTrue(r.header("cache-status").contains("detail=\"route /api/ bypass\""), r.header("cache-status"));
      assertEquals(i, origin.requests.get(), "every request goes to the origin");
    }
    RawHttp.Response outside = RawHttp.get(port(), "/other");
    RawHttp.Response again = RawHttp.get(port(), "/other");
    assertTrue(again.header("cache-status").contains("hit"), "other paths are cached as before: " + again.header("cache-status"));
    assertEquals(200, outside.status());
  }

  @Test
  void bypassRoute_cannotBeDodgedWithEncodingOrDotSegments() throws Exception {
    echoUri("max-age=60");
    start(withRoutes(new JsonArray().add(route("/api/").put("bypass", true))));
    for (String path : new String[] {"/%61pi/users", "/static/../api/users"}) {
      RawHttp.get(port(), path);
      RawHttp.Response r = RawHttp.get(port(), path);
      assertTrue(r.header("cache-status").contains("fwd=bypass"), path + ": " + r.header("cache-status"));
    }
    assertEquals(4, origin.requests.get());
  }

  @Test
  void longestPrefixWins_andMethodsNarrowARoute() throws Exception {
    echoUri("max-age=60");
    start(withRoutes(new JsonArray()
        .add(route("/a/").put("bypass", true))
        .add(route("/a/cached/"))
        .add(route("/b/").put("methods", new JsonArray().add("HEAD")).put("bypass", true))));
    RawHttp.get(port(), "/a/cached/x");
    assertTrue(RawHttp.get(port(), "/a/cached/x").header("cache-status").contains("hit"));
    RawHttp.get(port(), "/b/x");
    assertTrue(RawHttp.get(port(), "/b/x").header("cache-status").contains("hit"), "GET is not under the HEAD-only route");
    assertTrue(RawHttp.exchange(port(), "HEAD", "/b/x").header("cache-status").contains("fwd=bypass"));
  }

  @Test
  void dropParams_keyAndOriginRequestAgree() throws Exception {
    echoUri("max-age=60");
    start(withRoutes(new JsonArray().add(route("/").put("cacheKey", new JsonObject()
        .put("dropParams", new JsonArray().add("utm_*").add("fbclid")).put("sortParams", true)))));
    RawHttp.Response first = RawHttp.get(port(), "/page?utm_source=x&b=2&fbclid=abc&a=1");
    assertEquals("/page?a=1&b=2", first.text(), "the origin is asked for the query the cache keys on");
    RawHttp.Response second = RawHttp.get(port(), "/page?b=2&a=1&utm_medium=mail");
    assertTrue(second.header("cache-status").contains("hit"), second.header("cache-status"));
    assertEquals("/page?a=1&b=2", second.text());
    assertEquals(1, origin.requests.get());
    RawHttp.get(port(), "/page?a=2");
    assertEquals(2, origin.requests.get(), "a kept parameter still makes another entry");
  }

  @Test
  void keepParams_andIgnoreQuery() throws Exception {
    echoUri("max-age=60");
    start(withRoutes(new JsonArray()
        .add(route("/search").put("cacheKey", new JsonObject().put("keepParams", new JsonArray().add("q"))))
        .add(route("/static/").put("cacheKey", new JsonObject().put("query", "none")))));
    assertEquals("/search?q=cats", RawHttp.get(port(), "/search?session=1&q=cats").text());
    assertEquals("/search?q=cats", RawHttp.get(port(), "/search?q=cats&session=2").text());
    assertEquals("/static/app.js", RawHttp.get(port(), "/static/app.js?v=1").text());
    assertTrue(RawHttp.get(port(), "/static/app.js?v=2").header("cache-status").contains("hit"));
    assertEquals(2, origin.requests.get());
  }

  @Test
  void purge_usesTheRoutesKey() throws Exception {
    echoUri("max-age=60");
    start(withRoutes(new JsonArray().add(route("/").put("cacheKey", new JsonObject()
        .put("dropParams", new JsonArray().add("utm_*"))))));
    RawHttp.get(port(), "/p?utm_source=a");
    assertEquals(200, RawHttp.exchange(port(), "PURGE", "/p?utm_campaign=b").status());
    assertTrue(RawHttp.get(port(), "/p").header("cache-status").contains("fwd=uri-miss"));
  }

  @Test
  void adminPurgeByUrl_appliesTheRoutesQueryRule() throws Exception {
    echoUri("max-age=60");
    start(withRoutes(new JsonArray().add(route("/").put("cacheKey", new JsonObject()
        .put("dropParams", new JsonArray().add("utm_*")).put("sortParams", true)))));
    RawHttp.get(port(), "/p?b=2&a=1");
    java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + proxy.adminPort() + "/purge"))
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                "{\"urls\": [\"http://edge.test/p?utm_source=mail&a=1&b=2\"]}")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.body().contains("\"purged\": 1"), r.body());
    assertTrue(RawHttp.get(port(), "/p?a=1&b=2").header("cache-status").contains("fwd=uri-miss"));
  }

  @Test
  void keyHeadersAndCookies_selectVariants_andAreNotForwardedAsFields() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=60")
        .end(r.getHeader("accept-language") + "|" + r.getHeader("cookie")));
    start(withRoutes(new JsonArray().add(route("/").put("cacheKey", new JsonObject()
        .put("headers", new JsonArray().add("Accept-Language"))
        .put("cookies", new JsonArray().add("currency"))))));
    assertEquals("en|currency=EUR; sid=1", RawHttp.get(port(), "/price", "Accept-Language", "en",
        "Cookie", "currency=EUR; sid=1").text());
    RawHttp.Response sameKey = RawHttp.get(port(), "/price", "Accept-Language", "en", "Cookie", "sid=2; currency=EUR");
    assertTrue(sameKey.header("cache-status").contains("hit"), "another sid, same currency: " + sameKey.header("cache-status"));
    RawHttp.Response otherCurrency = RawHttp.get(port(), "/price", "Accept-Language", "en", "Cookie", "currency=USD");
    assertTrue(otherCurrency.header("cache-status").contains("fwd=vary-miss"), otherCurrency.header("cache-status"));
    RawHttp.Response otherLanguage = RawHttp.get(port(), "/price", "Accept-Language", "de", "Cookie", "currency=EUR");
    assertEquals("de|currency=EUR", otherLanguage.text());
    assertEquals(3, origin.requests.get());
    for (TestOrigin.Seen s : origin.seen) {
      s.headers().names().forEach(n -> assertTrue(!n.startsWith(":"), "internal field forwarded: " + n));
    }
    assertNull(otherLanguage.header("vary"), "the origin's Vary is passed on unchanged");
    assertEquals(200, RawHttp.exchange(port(), "PURGE", "/price").status());
    assertTrue(RawHttp.get(port(), "/price", "Accept-Language", "en", "Cookie", "currency=EUR")
        .header("cache-status").contains("miss"), "a PURGE of the URL removes every variant");
  }

  @Test
  void defaultTtl_appliesWhenTheOriginSaysNothing_andMaxClamps() throws Exception {
    origin.handle(r -> {
      if (r.path().equals("/long")) {
        r.response().putHeader("Cache-Control", "max-age=86400");
      }
      r.response().end("x");
    });
    start(withRoutes(new JsonArray().add(route("/").put("ttl", new JsonObject().put("default", "2m").put("max", "1h")))));
    RawHttp.Response plain = RawHttp.get(port(), "/plain");
    assertTrue(plain.header("cache-status").contains("stored; ttl=120"), plain.header("cache-status"));
    assertTrue(plain.header("cache-status").contains("detail=\"route /\""), plain.header("cache-status"));
    assertTrue(RawHttp.get(port(), "/plain").header("cache-status").contains("hit"));
    RawHttp.Response longer = RawHttp.get(port(), "/long");
    assertTrue(longer.header("cache-status").contains("ttl=3600"), longer.header("cache-status"));
    assertEquals("max-age=86400", longer.header("cache-control"), "clients see the origin's own field");
  }

  @Test
  void negativeTtl_caches404_butNeverARequestError() throws Exception {
    origin.handle(r -> r.response().setStatusCode(r.path().equals("/gone") ? 404 : 400).end("no"));
    start(withRoutes(new JsonArray().add(route("/").put("ttl", new JsonObject()
        .put("negative", new JsonObject().put("404", "30s"))))));
    RawHttp.get(port(), "/gone");
    RawHttp.Response again = RawHttp.get(port(), "/gone");
    assertEquals(404, again.status());
    assertTrue(again.header("cache-status").contains("hit"), again.header("cache-status"));
    RawHttp.get(port(), "/bad");
    RawHttp.Response bad = RawHttp.get(port(), "/bad");
    assertEquals(400, bad.status());
    assertTrue(bad.header("cache-status").contains("fwd="), "a 400 is never stored: " + bad.header("cache-status"));
    assertEquals(3, origin.requests.get());
  }

  @Test
  void originNoStoreWins_unlessTheRouteForces() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "private, no-store").end("x"));
    start(withRoutes(new JsonArray()
        .add(route("/soft/").put("ttl", new JsonObject().put("default", "1m")))
        .add(route("/forced/").put("ttl", new JsonObject().put("default", "1m").put("force", true)))));
    RawHttp.get(port(), "/soft/a");
    assertTrue(RawHttp.get(port(), "/soft/a").header("cache-status").contains("fwd=uri-miss"));
    RawHttp.get(port(), "/forced/a");
    RawHttp.Response forced = RawHttp.get(port(), "/forced/a");
    assertTrue(forced.header("cache-status").contains("hit"), forced.header("cache-status"));
    assertEquals(3, origin.requests.get());
  }

  @Test
  void clientDirectives_ignoredByDefault_honouredWhenConfigured() throws Exception {
    echoUri("max-age=60");
    start(baseConfig());
    RawHttp.get(port(), "/reload");
    for (String cc : new String[] {"max-age=0", "no-cache", "no-store"}) {
      RawHttp.Response r = RawHttp.get(port(), "/reload", "Cache-Control", cc);
      assertTrue(r.header("cache-status").contains("hit"), cc + ": " + r.header("cache-status"));
    }
    assertTrue(RawHttp.get(port(), "/reload", "Pragma", "no-cache").header("cache-status").contains("hit"));
    assertEquals(504, RawHttp.get(port(), "/never", "Cache-Control", "only-if-cached").status(),
        "only-if-cached is still honoured");
    assertEquals(1, origin.requests.get());
  }

  @Test
  void clientDirectives_honor_letsAReloadRevalidate() throws Exception {
    echoUri("max-age=60");
    JsonObject cfg = baseConfig();
    cfg.put("cache", new JsonObject().put("clientDirectives", "honor"));
    start(cfg);
    RawHttp.get(port(), "/reload");
    RawHttp.Response r = RawHttp.get(port(), "/reload", "Cache-Control", "no-cache");
    assertTrue(r.header("cache-status").contains("fwd=request"), r.header("cache-status"));
    assertEquals(2, origin.requests.get());
  }
}
