package io.edgecache.proxy.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * RFC 9111 / RFC 5861 flows through real sockets. Responses are made stale on arrival with an
 * {@code Age} larger than their lifetime, so no test waits on a clock to pass.
 */
class CachingSemanticsIntegrationTest extends ProxyHarness {

  private void awaitOriginRequests(int n) {
    await().atMost(Duration.ofSeconds(5)).until(() -> origin.requests.get() >= n);
  }

  @Test
  void staleWhileRevalidate_servesStaleAtOnceAndRefreshesOnceInTheBackground() throws Exception {
    origin.handle(r -> {
      if (r.headers().contains("If-None-Match")) {
        originVertx.setTimer(200, t -> r.response().setStatusCode(304).putHeader("ETag", "\"v1\"")
            .putHeader("Cache-Control", "max-age=600").end());
      } else {
        r.response().putHeader("Cache-Control", "max-age=1, stale-while-revalidate=600").putHeader("Age", "10")
            .putHeader("ETag", "\"v1\"").end("swr-body");
      }
    });
    start();
    RawHttp.get(port(), "/swr");
    for (int i = 0; i < 5; i++) {
      RawHttp.Response r = RawHttp.get(port(), "/swr");
      assertEquals("swr-body", r.text());
      assertTrue(r.header("Cache-Status").contains("detail=\"stale-while-revalidate\""), r.header("Cache-Status"));
    }
    awaitOriginRequests(2);
    assertEquals("\"v1\"", origin.last().headers().get("If-None-Match"));
    // the background 304 takes 200 ms to arrive; until then the stale response keeps being served
    await().atMost(Duration.ofSeconds(5)).until(
        () -> RawHttp.get(port(), "/swr").header("Cache-Status").matches("edgecache; hit; ttl=\\d+"));
    assertEquals(2, origin.requests.get(), "exactly one background revalidation");
  }

  @Test
  void staleWhileRevalidate_backgroundRefreshGets200_replacesTheStoredResponse() throws Exception {
    origin.handle(r -> {
      if (origin.requests.get() == 1) {
        r.response().putHeader("Cache-Control", "max-age=1, stale-while-revalidate=600").putHeader("Age", "10")
            .putHeader("ETag", "\"v1\"").end("old");
      } else {
        r.response().putHeader("Cache-Control", "max-age=600").putHeader("ETag", "\"v2\"").end("new");
      }
    });
    start();
    RawHttp.get(port(), "/swr200");
    RawHttp.Response stale = RawHttp.get(port(), "/swr200");
    assertEquals("old", stale.text());
    assertTrue(stale.header("Cache-Status").contains("detail=\"stale-while-revalidate\""), stale.header("Cache-Status"));
    await().atMost(Duration.ofSeconds(5)).until(() -> RawHttp.get(port(), "/swr200").text().equals("new"));
    RawHttp.Response hit = RawHttp.get(port(), "/swr200");
    assertEquals("new", hit.text());
    assertTrue(hit.header("Cache-Status").startsWith("edgecache; hit"), hit.header("Cache-Status"));
    assertEquals(2, origin.requests.get(), "one background refresh, then hits");
  }

  @Test
  void staleIfError_origin503_servesTheStaleResponse() throws Exception {
    origin.handle(r -> {
      if (origin.requests.get() == 1) {
        r.response().putHeader("Cache-Control", "max-age=1, stale-if-error=600").putHeader("Age", "10").end("good");
      } else {
        r.response().setStatusCode(503).end("down");
      }
    });
    start();
    RawHttp.get(port(), "/sie");
    RawHttp.Response r = RawHttp.get(port(), "/sie");
    assertEquals(200, r.status());
    assertEquals("good", r.text());
    assertTrue(r.header("Cache-Status").contains("fwd-status=503"), r.header("Cache-Status"));
    assertTrue(r.header("Cache-Status").contains("stale-if-error"), r.header("Cache-Status"));
  }

  @Test
  void staleIfError_originDown_servesTheStaleResponse() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=1, stale-if-error=600")
        .putHeader("Age", "10").putHeader("ETag", "\"e\"").end("kept"));
    start(baseConfig().put("cache", new JsonObject().put("staleOnOriginFailure", "0s")));
    RawHttp.get(port(), "/down");
    origin.close();
    RawHttp.Response r = RawHttp.get(port(), "/down");
    assertEquals(200, r.status());
    assertEquals("kept", r.text());
    assertTrue(r.header("Cache-Status").contains("origin-unreachable"), r.header("Cache-Status"));
  }

  @Test
  void originDown_withoutStaleIfError_servesStaleWithinStaleOnOriginFailure() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=1").putHeader("Age", "10")
        .putHeader("ETag", "\"e\"").end("grace"));
    start();
    RawHttp.get(port(), "/grace");
    origin.close();
    RawHttp.Response r = RawHttp.get(port(), "/grace");
    assertEquals(200, r.status());
    assertEquals("grace", r.text());
  }

  @Test
  void originDown_mustRevalidate_neverServesStale() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=1, must-revalidate, stale-if-error=600")
        .putHeader("Age", "10").putHeader("ETag", "\"e\"").end("strict"));
    start();
    RawHttp.get(port(), "/strict");
    origin.close();
    assertEquals(502, RawHttp.get(port(), "/strict").status());
  }

  @Test
  void range_onStoredResponse_isServedAs206FromCache() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=600").putHeader("ETag", "\"r1\"").end("0123456789"));
    start();
    RawHttp.get(port(), "/range");
    RawHttp.Response part = RawHttp.get(port(), "/range", "Range", "bytes=2-5");
    assertEquals(206, part.status());
    assertEquals("2345", part.text());
    assertEquals("bytes 2-5/10", part.header("Content-Range"));
    RawHttp.Response suffix = RawHttp.get(port(), "/range", "Range", "bytes=-3");
    assertEquals("789", suffix.text());
    RawHttp.Response unsatisfiable = RawHttp.get(port(), "/range", "Range", "bytes=20-");
    assertEquals(416, unsatisfiable.status());
    assertEquals("bytes */10", unsatisfiable.header("Content-Range"));
    RawHttp.Response multi = RawHttp.get(port(), "/range", "Range", "bytes=0-1,4-5");
    assertEquals(200, multi.status());
    assertEquals("0123456789", multi.text());
    RawHttp.Response staleIfRange = RawHttp.get(port(), "/range", "Range", "bytes=2-5", "If-Range", "\"other\"");
    assertEquals(200, staleIfRange.status());
    assertEquals(1, origin.requests.get());
  }

  @Test
  void partialResponse_isStoredAndServesRangesItCovers() throws Exception {
    origin.handle(r -> r.response().setStatusCode(206).putHeader("Cache-Control", "max-age=600")
        .putHeader("Content-Range", "bytes 4-9/10").end("456789"));
    start();
    RawHttp.get(port(), "/part", "Range", "bytes=4-");
    RawHttp.Response inside = RawHttp.get(port(), "/part", "Range", "bytes=6-8");
    assertEquals(206, inside.status());
    assertEquals("678", inside.text());
    assertEquals("bytes 6-8/10", inside.header("Content-Range"));
    assertTrue(inside.header("Cache-Status").contains("hit"), inside.header("Cache-Status"));
    assertEquals(1, origin.requests.get());
    RawHttp.get(port(), "/part", "Range", "bytes=0-3"); // not covered: goes to the origin
    assertEquals(2, origin.requests.get());
    RawHttp.get(port(), "/part"); // no Range: a partial response never answers it
    assertEquals(3, origin.requests.get());
  }

  @Test
  void varyAcceptLanguage_storedVariantInTheMostPreferredLanguage_isReused() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=600").putHeader("Vary", "Accept-Language")
        .putHeader("Content-Language", "de").end("Hallo"));
    start();
    RawHttp.get(port(), "/lang", "Accept-Language", "en, de");
    RawHttp.Response r = RawHttp.get(port(), "/lang", "Accept-Language", "fr;q=0.5, de;q=1.0");
    assertTrue(r.header("Cache-Status").contains("hit"), r.header("Cache-Status"));
    assertEquals("Hallo", r.text());
    RawHttp.Response other = RawHttp.get(port(), "/lang", "Accept-Language", "fr");
    assertTrue(other.header("Cache-Status").contains("vary-miss"), other.header("Cache-Status"));
    assertEquals(2, origin.requests.get());
  }

  @Test
  void requestNoCache_withClientDirectivesHonored_revalidatesEvenAFreshResponse() throws Exception {
    origin.handle(r -> {
      if (r.headers().contains("If-None-Match")) {
        r.response().setStatusCode(304).putHeader("ETag", "\"n\"").end();
      } else {
        r.response().putHeader("Cache-Control", "max-age=600").putHeader("ETag", "\"n\"").end("nc");
      }
    });
    start(baseConfig().put("cache", new JsonObject().put("clientDirectives", "honor")));
    RawHttp.get(port(), "/nc");
    RawHttp.Response r = RawHttp.get(port(), "/nc", "Cache-Control", "no-cache");
    assertEquals("nc", r.text());
    assertTrue(r.header("Cache-Status").contains("fwd=request"), r.header("Cache-Status"));
    assertEquals(2, origin.requests.get());
  }

  @Test
  void post_withExplicitFreshnessAndContentLocationOfItsTarget_isReusedForGet() throws Exception {
    origin.handle(r -> r.body().onSuccess(b -> r.response().putHeader("Cache-Control", "max-age=600")
        .putHeader("Content-Location", "/form").end("posted:" + b)));
    start();
    try (RawHttp c = new RawHttp(port())) {
      c.send("POST /form HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 3\r\n\r\nabc");
      assertEquals("posted:abc", c.read(false).text());
    }
    RawHttp.Response get = RawHttp.get(port(), "/form");
    assertEquals("posted:abc", get.text());
    assertTrue(get.header("Cache-Status").contains("hit"), get.header("Cache-Status"));
    assertEquals(1, origin.requests.get());
  }

  @Test
  void onlyIfCached_withNothingStored_is504WithoutContactingOrigin() throws Exception {
    start();
    assertEquals(504, RawHttp.get(port(), "/oic", "Cache-Control", "only-if-cached").status());
    assertEquals(0, origin.requests.get());
  }

  @Test
  void cdnCacheControl_overridesCacheControlForThisCache() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "no-store").putHeader("CDN-Cache-Control", "max-age=600")
        .end("cdn"));
    start();
    RawHttp.get(port(), "/cdn");
    RawHttp.Response hit = RawHttp.get(port(), "/cdn");
    assertTrue(hit.header("Cache-Status").contains("hit"), hit.header("Cache-Status"));
    assertEquals("no-store", hit.header("Cache-Control")); // downstream caches still see the origin's policy
  }

  @Test
  void surrogateControl_targetedAtUs_isObeyedAndRemoved() throws Exception {
    origin.handle(r -> r.response().putHeader("Surrogate-Control", "max-age=600;edgecache").end("sc"));
    start();
    RawHttp.Response first = RawHttp.get(port(), "/sc");
    assertEquals(null, first.header("Surrogate-Control"));
    RawHttp.Response hit = RawHttp.get(port(), "/sc");
    assertTrue(hit.header("Cache-Status").contains("hit"), hit.header("Cache-Status"));
    assertEquals(null, hit.header("Surrogate-Control"));
    assertEquals(ForwardHeaders.SURROGATE_CAPABILITY, origin.last().headers().get("Surrogate-Capability"));
  }

  @Test
  void setCookie_evenWithPublic_isNotStored() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", r.path().equals("/pub") ? "public, max-age=600" : "max-age=600")
        .putHeader("Set-Cookie", "session=abc").end("c"));
    start();
    RawHttp.get(port(), "/cookie");
    RawHttp.Response again = RawHttp.get(port(), "/cookie");
    assertTrue(again.header("Cache-Status").contains("detail=\"set-cookie\""), again.header("Cache-Status"));
    RawHttp.get(port(), "/pub");
    RawHttp.Response pub = RawHttp.get(port(), "/pub");
    assertTrue(pub.header("Cache-Status").contains("detail=\"set-cookie\""), pub.header("Cache-Status"));
  }

  @Test
  void setCookie_withPublicWhenStoreSetCookieIsOn_isStored() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "public, max-age=600")
        .putHeader("Set-Cookie", "session=abc").end("c"));
    start(baseConfig().put("cache", new JsonObject().put("storeSetCookie", true)));
    RawHttp.get(port(), "/pub");
    assertTrue(RawHttp.get(port(), "/pub").header("Cache-Status").contains("hit"));
  }
}
