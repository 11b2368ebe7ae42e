package io.edgecache.proxy.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** PURGE on the traffic port and the admin purge API, through real sockets. */
class PurgeIntegrationTest extends ProxyHarness {
  static final String TOKEN = "s3cret-token-0123456789";

  private void cacheable() {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=600").end("body:" + r.path()));
  }

  private boolean isHit(String path, String... headers) throws Exception {
    return RawHttp.get(port(), path, headers).header("Cache-Status").contains("hit");
  }

  private HttpResponse<String> admin(String method, String path, String body, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminPort() + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void purge_storedUrl_answersCountAndNextGetIsAMissThatRefills() throws Exception {
    cacheable();
    start();
    RawHttp.get(port(), "/asset.js");
    assertTrue(isHit("/asset.js"));
    RawHttp.Response purge = RawHttp.exchange(port(), "PURGE", "/asset.js");
    assertEquals(200, purge.status());
    assertEquals("{\"purged\": 1}", purge.text().trim());
    assertTrue(RawHttp.get(port(), "/asset.js").header("Cache-Status").contains("fwd=uri-miss"));
    assertTrue(isHit("/asset.js"));
    assertEquals(2, origin.requests.get());
  }

  @Test
  void purge_isNeverForwardedToTheOrigin() throws Exception {
    cacheable();
    start();
    RawHttp.Response purge = RawHttp.exchange(port(), "PURGE", "/never-stored");
    assertEquals("{\"purged\": 0}", purge.text().trim());
    assertEquals(0, origin.requests.get());
  }

  @Test
  void purge_urlWithVariants_removesEveryVariant() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=600").putHeader("Vary", "Accept-Language")
        .end("lang:" + r.getHeader("Accept-Language")));
    start();
    RawHttp.get(port(), "/v", "Accept-Language", "en");
    RawHttp.get(port(), "/v", "Accept-Language", "fr");
    assertEquals("{\"purged\": 2}", RawHttp.exchange(port(), "PURGE", "/v").text().trim());
    assertTrue(!isHit("/v", "Accept-Language", "en"));
    assertTrue(!isHit("/v", "Accept-Language", "fr"));
    assertEquals(4, origin.requests.get());
  }

  @Test
  void purge_fromAddressOutsideAllowList_is403AndRemovesNothing() throws Exception {
    cacheable();
    start(baseConfig().put("purge", new JsonObject().put("allow", new JsonArray().add("10.0.0.0/8"))));
    RawHttp.get(port(), "/a");
    assertEquals(403, RawHttp.exchange(port(), "PURGE", "/a").status());
    assertTrue(isHit("/a"));
  }

  @Test
  void purge_withTokenConfigured_wrongTokenIs401AndRightTokenWorksFromAnyAddress() throws Exception {
    cacheable();
    start(baseConfig().put("purge", new JsonObject().put("allow", new JsonArray()).put("token", TOKEN)));
    RawHttp.get(port(), "/t");
    assertEquals(401, RawHttp.exchange(port(), "PURGE", "/t").status());
    assertEquals(401, RawHttp.exchange(port(), "PURGE", "/t", "Authorization", "Bearer wrong-token-0123456789").status());
    assertTrue(isHit("/t"));
    assertEquals(200, RawHttp.exchange(port(), "PURGE", "/t", "Authorization", "Bearer " + TOKEN).status());
    assertTrue(!isHit("/t"));
  }

  @Test
  void softPurge_thenOrigin304_revalidatesWithStoredValidatorsAndServesStoredBody() throws Exception {
    origin.handle(r -> {
      if (r.headers().contains("If-None-Match")) {
        r.response().setStatusCode(304).putHeader("ETag", "\"v1\"").putHeader("Cache-Control", "max-age=600").end();
      } else {
        r.response().putHeader("Cache-Control", "max-age=600").putHeader("ETag", "\"v1\"").end("original");
      }
    });
    start();
    RawHttp.get(port(), "/soft");
    assertEquals("{\"purged\": 1}", RawHttp.exchange(port(), "PURGE", "/soft", "Edgecache-Soft-Purge", "1").text().trim());
    RawHttp.Response r = RawHttp.get(port(), "/soft");
    assertEquals(200, r.status());
    assertEquals("original", r.text());
    assertEquals("\"v1\"", origin.last().headers().get("If-None-Match"));
    assertTrue(r.header("Cache-Status").contains("fwd-status=304"), r.header("Cache-Status"));
    assertTrue(isHit("/soft"));
    assertEquals(2, origin.requests.get());
  }

  @Test
  void purge_duringFill_theFillIsNotStored() throws Exception {
    AtomicReference<HttpServerResponse> slow = new AtomicReference<>();
    origin.handle(r -> {
      r.response().putHeader("Cache-Control", "max-age=600").putHeader("Content-Length", "10");
      r.response().write(Buffer.buffer("01234"));
      if (origin.requests.get() == 1) {
        slow.set(r.response()); // the test finishes this body after purging
      } else {
        r.response().end("56789");
      }
    });
    start();
    CompletableFuture<RawHttp.Response> first = CompletableFuture.supplyAsync(() -> {
      try {
        return RawHttp.get(port(), "/race");
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    await().atMost(Duration.ofSeconds(5)).until(() -> slow.get() != null);
    assertEquals(200, RawHttp.exchange(port(), "PURGE", "/race").status());
    originVertx.runOnContext(v -> slow.get().end("56789"));
    assertEquals("0123456789", first.get(10, TimeUnit.SECONDS).text());
    RawHttp.Response next = RawHttp.get(port(), "/race");
    assertTrue(next.header("Cache-Status").contains("fwd=uri-miss"), next.header("Cache-Status"));
    assertEquals(2, origin.requests.get());
  }

  @Test
  void purgeOfAnotherUrl_duringFill_doesNotVoidTheFill() throws Exception {
    AtomicReference<HttpServerResponse> slow = new AtomicReference<>();
    origin.handle(r -> {
      r.response().putHeader("Cache-Control", "max-age=600").putHeader("Content-Length", "10");
      r.response().write(Buffer.buffer("01234"));
      if (r.path().equals("/slow")) {
        slow.set(r.response());
      } else {
        r.response().end("56789");
      }
    });
    start();
    CompletableFuture<RawHttp.Response> first = CompletableFuture.supplyAsync(() -> {
      try {
        return RawHttp.get(port(), "/slow");
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    await().atMost(Duration.ofSeconds(5)).until(() -> slow.get() != null);
    assertEquals(200, RawHttp.exchange(port(), "PURGE", "/other").status());
    assertEquals(200, RawHttp.exchange(port(), "POST", "/third", "Content-Length", "0").status());
    originVertx.runOnContext(v -> slow.get().end("56789"));
    assertEquals("0123456789", first.get(10, TimeUnit.SECONDS).text());
    assertTrue(isHit("/slow"));
  }

  @Test
  void adminPurge_byTag_removesTaggedUrlsOnlyAndTagsAreNotExposed() throws Exception {
    origin.handle(r -> {
      HttpServerResponse resp = r.response().putHeader("Cache-Control", "max-age=600");
      if (r.path().startsWith("/product")) {
        resp.putHeader("Surrogate-Key", "catalog product-" + r.path().substring(8));
      }
      if (r.path().equals("/list")) {
        resp.putHeader("Cache-Tag", "catalog, listing");
      }
      resp.end("x");
    });
    start();
    RawHttp.Response first = RawHttp.get(port(), "/product1");
    assertNull(first.header("Surrogate-Key"));
    RawHttp.get(port(), "/product2");
    RawHttp.get(port(), "/list");
    RawHttp.get(port(), "/about");
    HttpResponse<String> r = admin("POST", "/purge", "{\"tags\": [\"catalog\"]}", null);
    assertEquals(200, r.statusCode());
    assertEquals("{\"purged\": 3}", r.body().trim());
    assertTrue(!isHit("/product1"));
    assertTrue(!isHit("/list"));
    assertTrue(isHit("/about"));
  }

  @Test
  void adminPurge_byPrefixAndAll_removeWhatTheyName() throws Exception {
    cacheable();
    start();
    RawHttp.get(port(), "/static/a.css");
    RawHttp.get(port(), "/static/b.css");
    RawHttp.get(port(), "/index.html");
    assertEquals("{\"purged\": 2}", admin("POST", "/purge", "{\"prefixes\": [\"http://edge.test/static/\"]}", null).body().trim());
    assertTrue(isHit("/index.html"));
    assertTrue(!isHit("/static/a.css"));
    assertEquals(200, admin("POST", "/purge", "{\"all\": true}", null).statusCode());
    assertTrue(!isHit("/index.html"));
  }

  @Test
  void adminPurge_badJsonOrUnknownField_is400NamingTheField() throws Exception {
    start();
    HttpResponse<String> bad = admin("POST", "/purge", "{\"urls\": [", null);
    assertEquals(400, bad.statusCode());
    HttpResponse<String> unknown = admin("POST", "/purge", "{\"bogus\": 1}", null);
    assertEquals(400, unknown.statusCode());
    assertTrue(unknown.body().contains("bogus"), unknown.body());
    HttpResponse<String> wrongType = admin("POST", "/purge", "{\"tags\": \"a\"}", null);
    assertEquals(400, wrongType.statusCode());
    assertTrue(wrongType.body().contains("tags"), wrongType.body());
  }

  @Test
  void adminToken_guardsPurgeAndStatsButNotProbes() throws Exception {
    start(baseConfig().put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("token", TOKEN)));
    assertEquals(401, admin("POST", "/purge", "{\"all\": true}", null).statusCode());
    assertEquals(401, admin("GET", "/stats", null, null).statusCode());
    assertEquals(200, admin("POST", "/purge", "{\"all\": true}", TOKEN).statusCode());
    assertEquals(200, admin("GET", "/healthz", null, null).statusCode());
    assertEquals(200, admin("GET", "/readyz", null, null).statusCode());
  }
}
