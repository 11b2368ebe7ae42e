package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FreshnessPolicyTest {
  private static final long NOW = 1_700_000_000_000L;
  private static final long SECOND = 1000;
  private final FreshnessPolicy policy = FreshnessPolicy.DEFAULT;

  /** A 200 response received at NOW (no delay), with a Date of NOW and the given extra fields. */
  private static ResponseView response(String... nameValues) {
    return response(200, nameValues);
  }

  private static ResponseView response(int status, String... nameValues) {
    Headers h = Headers.of(nameValues).toBuilder().add("Date", HttpDates.format(NOW)).build();
    return new ResponseView(status, h, NOW, NOW);
  }

  private static String at(long epochMs) {
    return HttpDates.format(epochMs);
  }

  // ---------------------------------------------------------------- lifetime

  @Test
  void lifetime_sMaxAge_overridesMaxAge() {
    assertEquals(30, policy.lifetimeSeconds(response("Cache-Control", "max-age=60, s-maxage=30")));
  }

  @Test
  void lifetime_maxAge_overridesExpires() {
    ResponseView r = response("Cache-Control", "max-age=60", "Expires", at(NOW + 3600 * SECOND));

    assertEquals(60, policy.lifetimeSeconds(r));
  }

  @Test
  void lifetime_invalidMaxAge_isZeroEvenWithFutureExpires() {
    ResponseView r = response("Cache-Control", "max-age=soon", "Expires", at(NOW + 3600 * SECOND));

    assertEquals(0, policy.lifetimeSeconds(r));
  }

  @Test
  void lifetime_unterminatedQuotedMaxAge_isZeroEvenWithFutureExpires() {
    ResponseView r = response("Cache-Control", "max-age=\"3600", "Expires", at(NOW + 3600 * SECOND));

    assertEquals(0, policy.lifetimeSeconds(r));
  }

  @Test
  void lifetime_expires_isExpiresMinusDate() {
    assertEquals(120, policy.lifetimeSeconds(response("Expires", at(NOW + 120 * SECOND))));
  }

  @Test
  void lifetime_expiresWithoutDate_isMeasuredFromResponseTime() {
    ResponseView r = new ResponseView(200, Headers.of("Expires", at(NOW + 120 * SECOND)), NOW - SECOND, NOW);

    assertEquals(120, policy.lifetimeSeconds(r));
  }

  @Test
  void lifetime_expiresInThePast_isZero() {
    assertEquals(0, policy.lifetimeSeconds(response("Expires", at(NOW - 120 * SECOND))));
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "Thu, 18 Aug 2050 02:01:18 gMT", "Thu, 18 Aug 2050 02:01:18 UTC", "Thu, 18 Aug 2050 02:01:18 AEST",
    "Thu, 18  Aug  2050 02:01:18 GMT", "Thu 18 Aug 2050 02:01:18 GMT", "Thu, 18 AUG 2050 02:01:18 GMT",
    "THU, 18 Aug 2050 02:01:18 GMT", "Thu, 18 Aug 50 02:01:18 GMT", "Thu, 18-Aug-2050 02:01:18 GMT",
    "Thu, 18 Aug 2050 2:01:18 GMT", "Thu, 18 Aug 2050",
  })
  void lifetime_expiresNotExactlyAnHttpDate_isAlreadyExpired(String expires) {
    assertEquals(0, policy.lifetimeSeconds(response("Expires", expires)));
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "Thursday, 18-Aug-50 02:01:18 GMT", "Thu Aug 18 02:01:18 2050", "Thu, 18 Aug 2050 02:01:18 GMT",
  })
  void lifetime_expiresInEachHttpDateForm_isRead(String expires) {
    assertTrue(policy.lifetimeSeconds(response("Expires", expires)) > 0);
  }

  @Test
  void lifetime_twoExpiresLines_isAlreadyExpired() {
    ResponseView r = response("Expires", at(NOW + 120 * SECOND), "Expires", at(NOW + 120 * SECOND));

    assertEquals(0, policy.lifetimeSeconds(r));
  }

  @Test
  void heuristic_lastModifiedWithExtraSpaces_isStillRead() {
    ResponseView r = response("Last-Modified", at(NOW - 1000 * SECOND).replace(" ", "  "));

    assertEquals(100, policy.lifetimeSeconds(r));
  }

  @Test
  void lifetime_invalidExpires_isZeroAndNoHeuristicApplies() {
    ResponseView r = response("Expires", "0", "Last-Modified", at(NOW - 100_000 * SECOND));

    assertEquals(0, policy.lifetimeSeconds(r));
  }

  @Test
  void lifetime_onlyLastModified_isFractionOfDateMinusLastModified() {
    ResponseView r = response("Last-Modified", at(NOW - 1000 * SECOND));

    assertEquals(100, new FreshnessPolicy(0.1, 86400).lifetimeSeconds(r));
  }

  @Test
  void lifetime_heuristic_isCappedAtHeuristicMax() {
    ResponseView r = response("Last-Modified", at(NOW - 86400 * SECOND));

    assertEquals(3600, new FreshnessPolicy(0.1, 3600).lifetimeSeconds(r));
  }

  @Test
  void lifetime_heuristicFractionZero_isZero() {
    ResponseView r = response("Last-Modified", at(NOW - 1000 * SECOND));

    assertEquals(0, new FreshnessPolicy(0, 86400).lifetimeSeconds(r));
  }

  @Test
  void lifetime_noLastModified_isZero() {
    assertEquals(0, policy.lifetimeSeconds(response()));
  }

  @Test
  void lifetime_lastModifiedAfterDate_isZero() {
    assertEquals(0, policy.lifetimeSeconds(response("Last-Modified", at(NOW + 1000 * SECOND))));
  }

  @Test
  void lifetime_heuristicOnStatusNotCacheableByDefault_isZero() {
    ResponseView r = response(302, "Last-Modified", at(NOW - 1000 * SECOND));

    assertEquals(0, policy.lifetimeSeconds(r));
  }

  @Test
  void lifetime_heuristicOnStatusNotCacheableByDefaultButPublic_applies() {
    ResponseView r = response(302, "Cache-Control", "public", "Last-Modified", at(NOW - 1000 * SECOND));

    assertEquals(100, policy.lifetimeSeconds(r));
  }

  @Test
  void lifetime_cdnCacheControl_replacesCacheControl() {
    ResponseView r = response("Cache-Control", "max-age=60", "CDN-Cache-Control", "max-age=600");

    assertEquals(600, policy.lifetimeSeconds(r));
  }

  @Test
  void lifetime_targetedFieldWithoutFreshness_ignoresExpires() {
    ResponseView r = response("CDN-Cache-Control", "public", "Expires", at(NOW + 600 * SECOND));

    assertEquals(0, policy.lifetimeSeconds(r));
  }

  @Test
  void hasExplicitFreshness_maxAge_isTrue() {
    assertTrue(FreshnessPolicy.hasExplicitFreshness(response("Cache-Control", "max-age=0")));
  }

  @Test
  void hasExplicitFreshness_expires_isTrue() {
    assertTrue(FreshnessPolicy.hasExplicitFreshness(response("Expires", "0")));
  }

  @Test
  void hasExplicitFreshness_onlyLastModified_isFalse() {
    assertFalse(FreshnessPolicy.hasExplicitFreshness(response("Last-Modified", at(NOW - 1000 * SECOND))));
  }

  // ---------------------------------------------------------------- Age field

  @Test
  void ageValue_absent_isZero() {
    assertEquals(0, FreshnessPolicy.ageValue(Headers.EMPTY));
  }

  @Test
  void ageValue_digits_isTheValue() {
    assertEquals(42, FreshnessPolicy.ageValue(Headers.of("Age", " 42 ")));
  }

  @Test
  void ageValue_twoFieldLines_usesTheFirst() {
    assertEquals(0, FreshnessPolicy.ageValue(Headers.of("Age", "0", "Age", "7200")));
  }

  @Test
  void ageValue_list_usesTheFirstMember() {
    assertEquals(7200, FreshnessPolicy.ageValue(Headers.of("Age", "7200,0")));
  }

  @Test
  void ageValue_listWithLeadingEmptyMember_usesTheFirstNonEmpty() {
    assertEquals(5, FreshnessPolicy.ageValue(Headers.of("Age", " , 5, 9")));
  }

  @Test
  void ageValue_negative_isIgnored() {
    assertEquals(0, FreshnessPolicy.ageValue(Headers.of("Age", "-7200")));
  }

  @Test
  void ageValue_fraction_isIgnored() {
    assertEquals(0, FreshnessPolicy.ageValue(Headers.of("Age", "7200.0")));
  }

  @Test
  void ageValue_nonNumeric_isIgnored() {
    assertEquals(0, FreshnessPolicy.ageValue(Headers.of("Age", "abc")));
  }

  @Test
  void ageValue_parameter_isIgnored() {
    assertEquals(0, FreshnessPolicy.ageValue(Headers.of("Age", "7200;foo=111")));
  }

  @Test
  void ageValue_invalidFirstMember_ignoresTheWholeField() {
    assertEquals(0, FreshnessPolicy.ageValue(Headers.of("Age", "abc, 7200")));
  }

  @Test
  void ageValue_empty_isIgnored() {
    assertEquals(0, FreshnessPolicy.ageValue(Headers.of("Age", "")));
  }

  @Test
  void ageValue_exactly2pow31_is2pow31() {
    assertEquals(CacheControl.MAX_DELTA, FreshnessPolicy.ageValue(Headers.of("Age", "2147483648")));
  }

  @Test
  void ageValue_huge_isClampedToMaxDelta() {
    assertEquals(CacheControl.MAX_DELTA, FreshnessPolicy.ageValue(Headers.of("Age", "99999999999999999999999")));
  }

  // ---------------------------------------------------------------- current age (RFC 9111 4.2.3)

  @Test
  void currentAge_noAgeNoDelay_isResidentTime() {
    assertEquals(30, policy.currentAgeSeconds(response(), NOW + 30 * SECOND));
  }

  @Test
  void currentAge_ageField_isAddedToResidentTime() {
    assertEquals(130, policy.currentAgeSeconds(response("Age", "100"), NOW + 30 * SECOND));
  }

  @Test
  void currentAge_responseDelay_isAddedToAgeValue() {
    Headers h = Headers.of("Date", at(NOW), "Age", "10");
    ResponseView r = new ResponseView(200, h, NOW - 5 * SECOND, NOW);

    assertEquals(15, policy.currentAgeSeconds(r, NOW));
  }

  @Test
  void currentAge_responseDelayWithoutAgeField_stillCounts() {
    ResponseView r = new ResponseView(200, Headers.of("Date", at(NOW)), NOW - 5 * SECOND, NOW);

    assertEquals(5, policy.currentAgeSeconds(r, NOW));
  }

  @Test
  void currentAge_apparentAgeLargerThanCorrectedAge_wins() {
    ResponseView r = new ResponseView(200, Headers.of("Date", at(NOW - 60 * SECOND), "Age", "10"), NOW, NOW);

    assertEquals(60, policy.currentAgeSeconds(r, NOW));
  }

  @Test
  void currentAge_dateInTheFuture_apparentAgeIsZero() {
    ResponseView r = new ResponseView(200, Headers.of("Date", at(NOW + 60 * SECOND)), NOW, NOW);

    assertEquals(0, policy.currentAgeSeconds(r, NOW));
  }

  @Test
  void currentAge_clockBeforeResponseTime_residentTimeIsZero() {
    assertEquals(0, policy.currentAgeSeconds(response(), NOW - 10 * SECOND));
  }

  @Test
  void currentAge_invalidAgeField_isResidentTimeOnly() {
    assertEquals(30, policy.currentAgeSeconds(response("Age", "x"), NOW + 30 * SECOND));
  }

  @Test
  void currentAge_hugeAgeField_exceedsAnyLifetime() {
    ResponseView r = response("Age", "99999999999999999999999", "Cache-Control", "max-age=2147483647");

    assertTrue(policy.currentAgeSeconds(r, NOW) > policy.lifetimeSeconds(r));
  }

  @Test
  void currentAge_subSecondAge_roundsDown() {
    assertEquals(0, policy.currentAgeSeconds(response(), NOW + 999));
  }
}
