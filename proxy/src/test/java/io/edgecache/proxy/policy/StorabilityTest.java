package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StorabilityTest {
  private static final long NOW = 1_700_000_000_000L;

  private static ResponseView response(int status, String... nameValues) {
    Headers h = Headers.of(nameValues).toBuilder().add("Date", HttpDates.format(NOW)).build();
    return new ResponseView(status, h, NOW, NOW);
  }

  private static ResponseView ok(String... nameValues) {
    return response(200, nameValues);
  }

  private static Refusal refusal(ResponseView r) {
    return Storability.refusal("GET", CacheControl.NONE, false, r, false);
  }

  private static Refusal refusalWithAuthorization(ResponseView r) {
    return Storability.refusal("GET", CacheControl.NONE, true, r, false);
  }

  @Test
  void refusal_freshGet_isNull() {
    assertNull(refusal(ok("Cache-Control", "max-age=60")));
  }

  @Test
  void refusal_nonGetMethod_isMethod() {
    assertEquals(Refusal.METHOD,
        Storability.refusal("POST", CacheControl.NONE, false, ok("Cache-Control", "max-age=60"), false));
  }

  @ParameterizedTest
  @ValueSource(ints = {100, 101, 199, 206, 304, 600, 999})
  void refusal_statusNotStoredHere_isStatus(int status) {
    assertEquals(Refusal.STATUS, refusal(response(status, "Cache-Control", "max-age=60")));
  }

  @Test
  void refusal_requestNoStore_isRequestNoStore() {
    ResponseView r = ok("Cache-Control", "max-age=60");

    assertEquals(Refusal.REQUEST_NO_STORE, Storability.refusal("GET", CacheControl.parse("no-store"), false, r, false));
  }

  @Test
  void refusal_responseNoStore_isNoStore() {
    assertEquals(Refusal.NO_STORE, refusal(ok("Cache-Control", "max-age=60, no-store")));
  }

  @Test
  void refusal_mustUnderstandWithUnderstoodStatus_overridesNoStore() {
    assertNull(refusal(ok("Cache-Control", "max-age=60, no-store, must-understand")));
  }

  @Test
  void refusal_mustUnderstandWithUnknownStatus_isMustUnderstand() {
    assertEquals(Refusal.MUST_UNDERSTAND, refusal(response(299, "Cache-Control", "max-age=60, no-store, must-understand")));
  }

  @Test
  void refusal_private_isPrivate() {
    assertEquals(Refusal.PRIVATE, refusal(ok("Cache-Control", "private, max-age=60")));
  }

  @Test
  void refusal_qualifiedPrivate_isStorable() {
    assertNull(refusal(ok("Cache-Control", "private=\"X-User\", max-age=60")));
  }

  @Test
  void refusal_privateInCacheControlWithTargetedField_isStorable() {
    // RFC 9213 2.1: the targeted field replaces Cache-Control for this cache.
    assertNull(refusal(ok("Cache-Control", "private", "CDN-Cache-Control", "max-age=60")));
  }

  @Test
  void refusal_authorizationWithoutSharedDirective_isAuthorization() {
    assertEquals(Refusal.AUTHORIZATION, refusalWithAuthorization(ok("Cache-Control", "max-age=60")));
  }

  @Test
  void refusal_authorizationWithPublic_isStorable() {
    assertNull(refusalWithAuthorization(ok("Cache-Control", "public, max-age=60")));
  }

  @Test
  void refusal_authorizationWithSMaxAge_isStorable() {
    assertNull(refusalWithAuthorization(ok("Cache-Control", "s-maxage=60")));
  }

  @Test
  void refusal_authorizationWithMustRevalidate_isStorable() {
    assertNull(refusalWithAuthorization(ok("Cache-Control", "max-age=60, must-revalidate")));
  }

  @Test
  void refusal_setCookieWithoutSharedDirective_isSetCookie() {
    assertEquals(Refusal.SET_COOKIE, refusal(ok("Cache-Control", "max-age=60", "Set-Cookie", "sid=1")));
  }

  @Test
  void refusal_setCookieWithPublic_isSetCookie() {
    assertEquals(Refusal.SET_COOKIE, refusal(ok("Cache-Control", "public, max-age=60", "Set-Cookie", "sid=1")));
  }

  @Test
  void refusal_setCookieWithSMaxAge_isSetCookie() {
    assertEquals(Refusal.SET_COOKIE, refusal(ok("Cache-Control", "s-maxage=60", "Set-Cookie", "sid=1")));
  }

  @Test
  void refusal_setCookieNamedByQualifiedNoCache_isStorable() {
    assertNull(refusal(ok("Cache-Control", "public, max-age=60, no-cache=\"Set-Cookie\"", "Set-Cookie", "sid=1")));
  }

  @Test
  void refusal_setCookieNamedByQualifiedPrivate_isStorable() {
    assertNull(refusal(ok("Cache-Control", "max-age=60, private=\"set-cookie\"", "Set-Cookie", "sid=1")));
  }

  @Test
  void refusal_setCookieWithPublicWhenStoreSetCookieIsOn_isStorable() {
    ResponseView r = ok("Cache-Control", "public, max-age=60", "Set-Cookie", "sid=1");

    assertNull(Storability.refusal("GET", CacheControl.NONE, false, r, true));
  }

  @Test
  void refusal_setCookieWhenStoreSetCookieIsOn_isStorable() {
    ResponseView r = ok("Cache-Control", "max-age=60", "Set-Cookie", "sid=1");

    assertNull(Storability.refusal("GET", CacheControl.NONE, false, r, true));
  }

  @Test
  void refusal_varyStar_isVaryStar() {
    assertEquals(Refusal.VARY_STAR, refusal(ok("Cache-Control", "max-age=60", "Vary", "*")));
  }

  @Test
  void refusal_varyStarAmongOtherNames_isVaryStar() {
    assertEquals(Refusal.VARY_STAR, refusal(ok("Cache-Control", "max-age=60", "Vary", "Accept-Encoding, *")));
  }

  @Test
  void refusal_varyOnNamedField_isStorable() {
    assertNull(refusal(ok("Cache-Control", "max-age=60", "Vary", "Accept-Encoding")));
  }

  @Test
  void refusal_statusNotCacheableByDefaultWithoutFreshness_isNoFreshness() {
    assertEquals(Refusal.NO_FRESHNESS, refusal(response(302)));
  }

  @Test
  void refusal_statusNotCacheableByDefaultWithMaxAge_isStorable() {
    assertNull(refusal(response(500, "Cache-Control", "max-age=5")));
  }

  @Test
  void refusal_statusNotCacheableByDefaultWithPublic_isStorable() {
    assertNull(refusal(response(302, "Cache-Control", "public")));
  }

  @Test
  void refusal_heuristicallyCacheableStatusWithoutFreshness_isStorable() {
    assertNull(refusal(response(404)));
  }

  @Test
  void refusalDetail_everyRefusal_keepsItsCacheStatusText() {
    assertEquals("request-no-store", Refusal.REQUEST_NO_STORE.detail());
    assertEquals("no-freshness", Refusal.NO_FRESHNESS.detail());
    assertEquals("too-large", Refusal.TOO_LARGE.detail());
    assertEquals("vary-star", Refusal.VARY_STAR.detail());
  }

  @Test
  void worthKeeping_noLifetimeNoValidator_isNoFreshness() {
    assertEquals(Refusal.NO_FRESHNESS, Storability.worthKeeping(ok(), 0, 10, 100));
  }

  @Test
  void worthKeeping_noLifetimeButETag_isKept() {
    assertNull(Storability.worthKeeping(ok("ETag", "\"a\""), 0, 10, 100));
  }

  @Test
  void worthKeeping_noLifetimeButStaleIfError_isKept() {
    assertNull(Storability.worthKeeping(ok("Cache-Control", "stale-if-error=60"), 0, 10, 100));
  }

  @Test
  void worthKeeping_declaredLengthAboveLimit_isTooLarge() {
    assertEquals(Refusal.TOO_LARGE, Storability.worthKeeping(ok("Cache-Control", "max-age=60"), 60, 101, 100));
  }

  @Test
  void worthKeeping_unknownLength_isKept() {
    assertNull(Storability.worthKeeping(ok("Cache-Control", "max-age=60"), 60, -1, 100));
  }

  @Test
  void postResponseReusable_contentLocationEqualsTarget_isTrue() {
    assertTrue(Storability.postResponseReusable("POST",
        ok("Cache-Control", "max-age=60", "Content-Location", "/form"), "http://edge.test/form"));
  }

  @Test
  void postResponseReusable_contentLocationWithDefaultPortAndUpperCaseHost_isTrue() {
    assertTrue(Storability.postResponseReusable("POST",
        ok("Cache-Control", "max-age=60", "Content-Location", "http://Edge.Test:80/form"), "http://edge.test/form"));
  }

  @Test
  void postResponseReusable_contentLocationElsewhere_isFalse() {
    assertFalse(Storability.postResponseReusable("POST",
        ok("Cache-Control", "max-age=60", "Content-Location", "/other"), "http://edge.test/form"));
  }

  @Test
  void postResponseReusable_withoutExplicitFreshness_isFalse() {
    assertFalse(Storability.postResponseReusable("POST", ok("Content-Location", "/form"), "http://edge.test/form"));
  }

  @Test
  void postResponseReusable_putMethod_isFalse() {
    assertFalse(Storability.postResponseReusable("PUT",
        ok("Cache-Control", "max-age=60", "Content-Location", "/form"), "http://edge.test/form"));
  }

  @Test
  void storedForm_qualifiedPrivateAndNoCache_dropsTheNamedFields() {
    ResponseView r = ok("Cache-Control", "max-age=60, private=\"X-User\", no-cache=\"X-Trace\"",
        "X-User", "alice", "X-Trace", "t1", "X-Other", "kept");
    ResponseView stored = Storability.storedForm(r);
    assertFalse(stored.headers().contains("x-user"));
    assertFalse(stored.headers().contains("x-trace"));
    assertEquals("kept", stored.headers().get("x-other"));
  }

  @Test
  void storedForm_noQualifiedDirectives_returnsTheSameView() {
    ResponseView r = ok("Cache-Control", "max-age=60", "X-User", "alice");
    assertSame(r, Storability.storedForm(r));
  }
}
