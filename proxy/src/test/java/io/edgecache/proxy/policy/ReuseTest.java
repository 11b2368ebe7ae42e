package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.policy.Reuse.Decision;
import io.edgecache.proxy.policy.Reuse.Kind;
import org.junit.jupiter.api.Test;

class ReuseTest {
  private static final long NOW = 1_700_000_000_000L;
  private static final long SECOND = 1000;
  private static final FreshnessPolicy FP = FreshnessPolicy.DEFAULT;

  /** A 200 stored at NOW with the given Cache-Control and a Date of NOW. */
  private static ResponseView stored(String cacheControl) {
    return new ResponseView(200, Headers.of("Cache-Control", cacheControl, "Date", HttpDates.format(NOW)), NOW, NOW);
  }

  /** The decision {@code seconds} after the response was stored. */
  private static Decision decide(String requestCacheControl, String responseCacheControl, long seconds) {
    return Reuse.decide(FP, CacheControl.parse(requestCacheControl), stored(responseCacheControl), NOW + seconds * SECOND);
  }

  private static Decision decide(String responseCacheControl, long seconds) {
    return decide(null, responseCacheControl, seconds);
  }

  // ---------------------------------------------------------------- fresh

  @Test
  void decide_withinLifetime_isFresh() {
    Decision d = decide("max-age=60", 10);

    assertEquals(Kind.FRESH, d.kind());
    assertNull(d.reason());
  }

  @Test
  void decide_withinLifetime_reportsLifetimeAgeAndTtl() {
    Decision d = decide("max-age=60", 10);

    assertEquals(60, d.lifetime());
    assertEquals(10, d.age());
    assertEquals(50, d.ttl());
    assertTrue(d.fresh());
  }

  @Test
  void decide_ageEqualToLifetime_isStale() {
    Decision d = decide("max-age=60", 60);

    assertEquals(Kind.REVALIDATE, d.kind());
    assertEquals(Reuse.Reason.STALE, d.reason());
  }

  @Test
  void decide_pastLifetime_revalidates() {
    assertEquals(Kind.REVALIDATE, decide("max-age=60", 61).kind());
  }

  // ---------------------------------------------------------------- no-cache

  @Test
  void decide_responseNoCache_revalidatesEvenWhenFresh() {
    Decision d = decide("max-age=60, no-cache", 0);

    assertEquals(Kind.REVALIDATE, d.kind());
    assertEquals(Reuse.Reason.RESPONSE_NO_CACHE, d.reason());
  }

  @Test
  void decide_responseQualifiedNoCache_servesFresh() {
    assertEquals(Kind.FRESH, decide("max-age=60, no-cache=\"Set-Cookie\"", 0).kind());
  }

  @Test
  void decide_requestNoCache_revalidatesEvenWhenFresh() {
    Decision d = decide("no-cache", "max-age=60", 0);

    assertEquals(Kind.REVALIDATE, d.kind());
    assertEquals(Reuse.Reason.REQUEST_NO_CACHE, d.reason());
  }

  // ---------------------------------------------------------------- request max-age / min-fresh

  @Test
  void decide_requestMaxAgeBelowAge_revalidates() {
    Decision d = decide("max-age=5", "max-age=60", 10);

    assertEquals(Kind.REVALIDATE, d.kind());
    assertEquals(Reuse.Reason.REQUEST_MAX_AGE, d.reason());
  }

  @Test
  void decide_requestMaxAgeEqualToAge_isFresh() {
    assertEquals(Kind.FRESH, decide("max-age=10", "max-age=60", 10).kind());
  }

  @Test
  void decide_requestMaxAgeAboveAgeOfStaleResponse_doesNotAllowStale() {
    assertEquals(Kind.REVALIDATE, decide("max-age=3600", "max-age=60", 100).kind());
  }

  @Test
  void decide_requestMinFreshNotLeft_revalidates() {
    Decision d = decide("min-fresh=55", "max-age=60", 10);

    assertEquals(Kind.REVALIDATE, d.kind());
    assertEquals(Reuse.Reason.REQUEST_MIN_FRESH, d.reason());
  }

  @Test
  void decide_requestMinFreshLeft_isFresh() {
    assertEquals(Kind.FRESH, decide("min-fresh=50", "max-age=60", 10).kind());
  }

  // ---------------------------------------------------------------- max-stale

  @Test
  void decide_requestMaxStaleCoversStaleness_isStaleOk() {
    assertEquals(Kind.STALE_OK, decide("max-stale=20", "max-age=60", 70).kind());
  }

  @Test
  void decide_requestMaxStaleBelowStaleness_revalidates() {
    assertEquals(Kind.REVALIDATE, decide("max-stale=5", "max-age=60", 70).kind());
  }

  @Test
  void decide_requestBareMaxStale_acceptsAnyStaleness() {
    assertEquals(Kind.STALE_OK, decide("max-stale", "max-age=60", 1_000_000).kind());
  }

  // ---------------------------------------------------------------- stale-while-revalidate

  @Test
  void decide_withinStaleWhileRevalidateWindow_servesStaleAndRefreshes() {
    assertEquals(Kind.STALE_WHILE_REVALIDATE, decide("max-age=60, stale-while-revalidate=30", 80).kind());
  }

  @Test
  void decide_beyondStaleWhileRevalidateWindow_revalidates() {
    assertEquals(Kind.REVALIDATE, decide("max-age=60, stale-while-revalidate=30", 91).kind());
  }

  // ---------------------------------------------------------------- directives that forbid stale

  @Test
  void decide_mustRevalidate_forbidsMaxStale() {
    assertEquals(Kind.REVALIDATE, decide("max-stale", "max-age=60, must-revalidate", 70).kind());
  }

  @Test
  void decide_mustRevalidate_forbidsStaleWhileRevalidate() {
    assertEquals(Kind.REVALIDATE, decide("max-age=60, must-revalidate, stale-while-revalidate=30", 70).kind());
  }

  @Test
  void decide_proxyRevalidate_forbidsMaxStale() {
    assertEquals(Kind.REVALIDATE, decide("max-stale", "max-age=60, proxy-revalidate", 70).kind());
  }

  @Test
  void decide_sMaxAge_forbidsMaxStale() {
    assertEquals(Kind.REVALIDATE, decide("max-stale", "s-maxage=60", 70).kind());
  }

  @Test
  void decide_mustRevalidateWhileFresh_isFresh() {
    assertEquals(Kind.FRESH, decide("max-age=60, must-revalidate", 10).kind());
  }

  @Test
  void decide_invalidAgeField_isIgnoredAndFresh() {
    // RFC 9111 5.1: an invalid Age is ignored, as if absent.
    ResponseView r = new ResponseView(200,
        Headers.of("Cache-Control", "max-age=60", "Date", HttpDates.format(NOW), "Age", "soon"), NOW, NOW);

    assertEquals(Kind.FRESH, Reuse.decide(FP, CacheControl.NONE, r, NOW).kind());
  }

  @Test
  void decide_ageAt2pow31_revalidates() {
    ResponseView r = new ResponseView(200,
        Headers.of("Cache-Control", "max-age=60", "Date", HttpDates.format(NOW), "Age", "2147483648"), NOW, NOW);

    assertEquals(Kind.REVALIDATE, Reuse.decide(FP, CacheControl.NONE, r, NOW).kind());
  }

  // ---------------------------------------------------------------- stale-if-error

  @Test
  void staleIfErrorAllowed_responseDirectiveCoversStaleness_isTrue() {
    ResponseView r = stored("max-age=60, stale-if-error=100");

    assertTrue(Reuse.staleIfErrorAllowed(FP, CacheControl.NONE, r, NOW + 120 * SECOND));
  }

  @Test
  void staleIfErrorAllowed_responseDirectiveBelowStaleness_isFalse() {
    ResponseView r = stored("max-age=60, stale-if-error=10");

    assertFalse(Reuse.staleIfErrorAllowed(FP, CacheControl.NONE, r, NOW + 120 * SECOND));
  }

  @Test
  void staleIfErrorAllowed_requestDirectiveCoversStaleness_isTrue() {
    ResponseView r = stored("max-age=60");

    assertTrue(Reuse.staleIfErrorAllowed(FP, CacheControl.parse("stale-if-error=100"), r, NOW + 120 * SECOND));
  }

  @Test
  void staleIfErrorAllowed_noDirective_isFalse() {
    assertFalse(Reuse.staleIfErrorAllowed(FP, CacheControl.NONE, stored("max-age=60"), NOW + 120 * SECOND));
  }

  @Test
  void staleIfErrorAllowed_mustRevalidate_isFalse() {
    ResponseView r = stored("max-age=60, must-revalidate, stale-if-error=100");

    assertFalse(Reuse.staleIfErrorAllowed(FP, CacheControl.NONE, r, NOW + 120 * SECOND));
  }

  @Test
  void staleIfErrorStatus_500502503504_onlyThose() {
    for (int status : new int[] {500, 502, 503, 504}) {
      assertTrue(Reuse.staleIfErrorStatus(status), Integer.toString(status));
    }
    for (int status : new int[] {200, 404, 501, 505}) {
      assertFalse(Reuse.staleIfErrorStatus(status), Integer.toString(status));
    }
  }
}
