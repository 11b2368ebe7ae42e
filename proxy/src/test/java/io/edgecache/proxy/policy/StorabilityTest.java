package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

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

  private static String refusal(ResponseView r) {
    return Storability.refusal("GET", CacheControl.NONE, false, r, false);
  }

  private static String refusalWithAuthorization(ResponseView r) {
    return Storability.refusal("GET", CacheControl.NONE, true, r, false);
  }

  @Test
  void refusal_freshGet_isNull() {
    assertNull(refusal(ok("Cache-Control", "max-age=60")));
  }

  @Test
  void refusal_nonGetMethod_isMethod() {
    assertEquals("method",
        Storability.refusal("POST", CacheControl.NONE, false, ok("Cache-Control", "max-age=60"), false));
  }

  @ParameterizedTest
  @ValueSource(ints = {100, 101, 199, 206, 304, 600, 999})
  void refusal_statusNotStoredHere_isStatus(int status) {
    assertEquals("status", refusal(response(status, "Cache-Control", "max-age=60")));
  }

  @Test
  void refusal_requestNoStore_isRequestNoStore() {
    ResponseView r = ok("Cache-Control", "max-age=60");

    assertEquals("request-no-store", Storability.refusal("GET", CacheControl.parse("no-store"), false, r, false));
  }

  @Test
  void refusal_responseNoStore_isNoStore() {
    assertEquals("no-store", refusal(ok("Cache-Control", "max-age=60, no-store")));
  }

  @Test
  void refusal_mustUnderstandWithUnderstoodStatus_overridesNoStore() {
    assertNull(refusal(ok("Cache-Control", "max-age=60, no-store, must-understand")));
  }

  @Test
  void refusal_mustUnderstandWithUnknownStatus_isMustUnderstand() {
    assertEquals("must-understand", refusal(response(299, "Cache-Control", "max-age=60, no-store, must-understand")));
  }

  @Test
  void refusal_private_isPrivate() {
    assertEquals("private", refusal(ok("Cache-Control", "private, max-age=60")));
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
    assertEquals("authorization", refusalWithAuthorization(ok("Cache-Control", "max-age=60")));
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
    assertEquals("set-cookie", refusal(ok("Cache-Control", "max-age=60", "Set-Cookie", "sid=1")));
  }

  @Test
  void refusal_setCookieWithPublic_isStorable() {
    assertNull(refusal(ok("Cache-Control", "public, max-age=60", "Set-Cookie", "sid=1")));
  }

  @Test
  void refusal_setCookieWithSMaxAge_isStorable() {
    assertNull(refusal(ok("Cache-Control", "s-maxage=60", "Set-Cookie", "sid=1")));
  }

  @Test
  void refusal_setCookieWhenStoreSetCookieIsOn_isStorable() {
    ResponseView r = ok("Cache-Control", "max-age=60", "Set-Cookie", "sid=1");

    assertNull(Storability.refusal("GET", CacheControl.NONE, false, r, true));
  }

  @Test
  void refusal_varyStar_isVaryStar() {
    assertEquals("vary-star", refusal(ok("Cache-Control", "max-age=60", "Vary", "*")));
  }

  @Test
  void refusal_varyStarAmongOtherNames_isVaryStar() {
    assertEquals("vary-star", refusal(ok("Cache-Control", "max-age=60", "Vary", "Accept-Encoding, *")));
  }

  @Test
  void refusal_varyOnNamedField_isStorable() {
    assertNull(refusal(ok("Cache-Control", "max-age=60", "Vary", "Accept-Encoding")));
  }

  @Test
  void refusal_statusNotCacheableByDefaultWithoutFreshness_isNoFreshness() {
    assertEquals("no-freshness", refusal(response(302)));
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
}
