package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class StoreDecisionTest {
  private static final long NOW = 1_700_000_000_000L;
  private static final FreshnessPolicy FP = new FreshnessPolicy(0.1, 86_400);
  private static final String KEY = "http://edge.test/form";

  private static ResponseView ok(String... nameValues) {
    Headers h = Headers.of(nameValues).toBuilder().add("Date", HttpDates.format(NOW)).build();
    return new ResponseView(200, h, NOW, NOW);
  }

  private static StoreDecision get(ResponseView r, long maxObject) {
    return StoreDecision.of(FP, "GET", false, CacheControl.NONE, false, r, KEY, maxObject, false);
  }

  @Test
  void of_freshGet_isStoredWithItsTtl() {
    StoreDecision d = get(ok("Cache-Control", "max-age=60", "Age", "10"), 100);
    assertTrue(d.stored());
    assertNull(d.refusal());
    assertEquals(50, d.ttl());
  }

  @Test
  void of_noFreshnessNoValidator_isNoFreshness() {
    ResponseView found = new ResponseView(302, Headers.of("Date", HttpDates.format(NOW)), NOW, NOW);
    assertEquals(Refusal.NO_FRESHNESS, get(found, 100).refusal());
  }

  @Test
  void of_declaredLengthOverLimit_isTooLarge() {
    assertEquals(Refusal.TOO_LARGE, get(ok("Cache-Control", "max-age=60", "Content-Length", "101"), 100).refusal());
  }

  @Test
  void of_rfcRefusalComesBeforeTheSizeLimit() {
    assertEquals(Refusal.NO_STORE, get(ok("Cache-Control", "no-store", "Content-Length", "101"), 100).refusal());
  }

  @Test
  void of_passedPut_isMethod() {
    StoreDecision d = StoreDecision.of(FP, "PUT", true, CacheControl.NONE, false,
        ok("Cache-Control", "max-age=60"), KEY, 100, false);
    assertEquals(Refusal.METHOD, d.refusal());
    assertFalse(d.postReusable());
  }

  @Test
  void of_postWithContentLocationOfItsTarget_isStoredAsReusable() {
    StoreDecision d = StoreDecision.of(FP, "POST", true, CacheControl.NONE, false,
        ok("Cache-Control", "max-age=60", "Content-Location", "/form"), KEY, 100, false);
    assertTrue(d.stored());
    assertTrue(d.postReusable());
  }
}
