package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TtlRulesTest {
  private static final long NOW = 1_700_000_000_000L;
  private static final FreshnessPolicy BASE = new FreshnessPolicy(0.1, 86400);

  private static ResponseView resp(int status, String... fields) {
    String[] all = new String[fields.length + 2];
    System.arraycopy(fields, 0, all, 0, fields.length);
    all[fields.length] = "Date";
    all[fields.length + 1] = HttpDates.format(NOW);
    return new ResponseView(status, Headers.of(all), NOW, NOW);
  }

  private static FreshnessPolicy with(long def, long min, long max, Map<Integer, Long> neg, boolean force) {
    return BASE.withTtl(new TtlRules(def, min, max, neg, force));
  }

  @Test
  void noRules_isTheRfcLifetime() {
    assertEquals(60, BASE.lifetimeSeconds(resp(200, "Cache-Control", "max-age=60")));
    assertEquals(0, BASE.lifetimeSeconds(resp(200)));
  }

  @Test
  void default_onlyWithoutExplicitFreshness_andOnlyForSuccess() {
    FreshnessPolicy fp = with(300, 0, -1, Map.of(), false);
    assertEquals(300, fp.lifetimeSeconds(resp(200)));
    assertEquals(60, fp.lifetimeSeconds(resp(200, "Cache-Control", "max-age=60")));
    assertEquals(0, fp.lifetimeSeconds(resp(500)), "an error gets no default lifetime");
    assertEquals(0, fp.lifetimeSeconds(resp(404)), "nor a 404 without a negative rule");
  }

  @Test
  void clamps_minOnlyRaisesSuccess_maxCutsAll() {
    FreshnessPolicy fp = with(-1, 120, 600, Map.of(), false);
    assertEquals(120, fp.lifetimeSeconds(resp(200, "Cache-Control", "max-age=10")));
    assertEquals(600, fp.lifetimeSeconds(resp(200, "Cache-Control", "max-age=9999")));
    assertEquals(10, fp.lifetimeSeconds(resp(503, "Cache-Control", "max-age=10")), "an error is never raised");
    assertEquals(600, fp.lifetimeSeconds(resp(503, "Cache-Control", "max-age=9999")));
  }

  @Test
  void negative_usedAsConfigured_explicitFreshnessStillWins() {
    FreshnessPolicy fp = with(-1, 0, -1, Map.of(404, 30L), false);
    assertEquals(30, fp.lifetimeSeconds(resp(404)));
    assertEquals(5, fp.lifetimeSeconds(resp(404, "Cache-Control", "max-age=5")));
  }

  @Test
  void force_overridesTheOrigin_forItsStatusesOnly() {
    FreshnessPolicy fp = with(60, 0, -1, Map.of(410, 20L), true);
    ResponseView noStore = resp(200, "Cache-Control", "no-store, private, max-age=0");
    assertEquals(60, fp.lifetimeSeconds(noStore));
    assertNull(Storability.refusal("GET", CacheControl.NONE, false, noStore, false, fp.ttl()));
    assertEquals(Refusal.NO_STORE, Storability.refusal("GET", CacheControl.NONE, false, noStore, false, TtlRules.NONE));
    assertEquals(Reuse.Kind.FRESH, Reuse.decide(fp, CacheControl.NONE, resp(200, "Cache-Control", "no-cache"), NOW).kind());
    assertEquals(20, fp.lifetimeSeconds(resp(410, "Cache-Control", "max-age=999")));
    ResponseView error = resp(500, "Cache-Control", "no-store");
    assertNotNull(Storability.refusal("GET", CacheControl.NONE, false, error, false, fp.ttl()), "not forced for a 500");
    ResponseView cookie = resp(200, "Set-Cookie", "sid=1");
    assertEquals(Refusal.SET_COOKIE, Storability.refusal("GET", CacheControl.NONE, false, cookie, false, fp.ttl()));
  }
}
