package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ConditionalsTest {
  private static final long NOW = 1_700_000_000_000L;
  private static final long SECOND = 1000;
  private static final long LAST_MODIFIED = NOW - 3600 * SECOND;

  /** A stored 200 with a strong ETag "v1", Last-Modified an hour before its Date. */
  private static ResponseView stored() {
    return new ResponseView(200, Headers.of("ETag", "\"v1\"", "Last-Modified", HttpDates.format(LAST_MODIFIED),
        "Date", HttpDates.format(NOW), "Cache-Control", "max-age=60"), NOW, NOW);
  }

  private static ResponseView storedWith(int status, String... nameValues) {
    Headers h = Headers.of(nameValues).toBuilder().add("Date", HttpDates.format(NOW)).build();
    return new ResponseView(status, h, NOW, NOW);
  }

  private static boolean notModified(String... requestNameValues) {
    return Conditionals.notModified(Headers.of(requestNameValues), stored());
  }

  // ---------------------------------------------------------------- If-None-Match

  @Test
  void notModified_ifNoneMatchSameTag_isTrue() {
    assertTrue(notModified("If-None-Match", "\"v1\""));
  }

  @Test
  void notModified_ifNoneMatchOtherTag_isFalse() {
    assertFalse(notModified("If-None-Match", "\"v2\""));
  }

  @Test
  void notModified_ifNoneMatchWeakTagAgainstStrongStored_matchesWeakly() {
    assertTrue(notModified("If-None-Match", "W/\"v1\""));
  }

  @Test
  void notModified_ifNoneMatchStrongTagAgainstWeakStored_matchesWeakly() {
    ResponseView weak = storedWith(200, "ETag", "W/\"v1\"");

    assertTrue(Conditionals.notModified(Headers.of("If-None-Match", "\"v1\""), weak));
  }

  @Test
  void notModified_ifNoneMatchListContainingTag_isTrue() {
    assertTrue(notModified("If-None-Match", "\"a\", W/\"b\", \"v1\""));
  }

  @Test
  void notModified_ifNoneMatchTagsOnSeveralLines_isTrue() {
    assertTrue(notModified("If-None-Match", "\"a\"", "If-None-Match", "\"v1\""));
  }

  @Test
  void notModified_ifNoneMatchUnquotedTag_isFalse() {
    assertFalse(notModified("If-None-Match", "v1"));
  }

  @Test
  void notModified_ifNoneMatchStar_isTrue() {
    assertTrue(notModified("If-None-Match", "*"));
  }

  @Test
  void notModified_ifNoneMatchStarWithoutStoredTag_isTrue() {
    assertTrue(Conditionals.notModified(Headers.of("If-None-Match", "*"), storedWith(200)));
  }

  @Test
  void notModified_ifNoneMatchTagWithoutStoredTag_isFalse() {
    assertFalse(Conditionals.notModified(Headers.of("If-None-Match", "\"v1\""), storedWith(200)));
  }

  @Test
  void notModified_ifNoneMatchFails_ifModifiedSinceIsIgnored() {
    // RFC 9110 13.1.3: If-Modified-Since is evaluated only when If-None-Match is absent.
    assertFalse(notModified("If-None-Match", "\"v2\"", "If-Modified-Since", HttpDates.format(NOW)));
  }

  @Test
  void notModified_ifNoneMatchMatches_olderIfModifiedSinceIsIgnored() {
    assertTrue(notModified("If-None-Match", "\"v1\"", "If-Modified-Since", HttpDates.format(LAST_MODIFIED - 3600 * SECOND)));
  }

  // ---------------------------------------------------------------- If-Modified-Since

  @Test
  void notModified_ifModifiedSinceAtLastModified_isTrue() {
    assertTrue(notModified("If-Modified-Since", HttpDates.format(LAST_MODIFIED)));
  }

  @Test
  void notModified_ifModifiedSinceAfterLastModified_isTrue() {
    assertTrue(notModified("If-Modified-Since", HttpDates.format(LAST_MODIFIED + SECOND)));
  }

  @Test
  void notModified_ifModifiedSinceBeforeLastModified_isFalse() {
    assertFalse(notModified("If-Modified-Since", HttpDates.format(LAST_MODIFIED - SECOND)));
  }

  @Test
  void notModified_invalidIfModifiedSince_isFalse() {
    assertFalse(notModified("If-Modified-Since", "yesterday"));
  }

  @Test
  void notModified_ifModifiedSinceNotExactlyAnHttpDate_isIgnored() {
    // RFC 9110 13.1.3: ignored unless a valid HTTP-date; lower-case "gmt" is not one.
    assertFalse(notModified("If-Modified-Since", HttpDates.format(NOW).replace("GMT", "gmt")));
  }

  @Test
  void notModified_storedLastModifiedWithExtraSpaces_isStillRead() {
    ResponseView r = storedWith(200, "Last-Modified", HttpDates.format(LAST_MODIFIED).replace(" ", "  "));

    // Read robustly, the stored Last-Modified is what If-Modified-Since is compared with (not Date).
    assertTrue(Conditionals.notModified(Headers.of("If-Modified-Since", HttpDates.format(LAST_MODIFIED)), r));
  }

  @Test
  void notModified_ifModifiedSinceWithoutLastModified_comparesWithDate() {
    ResponseView noLastModified = storedWith(200, "Cache-Control", "max-age=60");

    assertTrue(Conditionals.notModified(Headers.of("If-Modified-Since", HttpDates.format(NOW)), noLastModified));
  }

  @Test
  void notModified_ifModifiedSinceBeforeDateWithoutLastModified_isFalse() {
    ResponseView noLastModified = storedWith(200, "Cache-Control", "max-age=60");

    assertFalse(Conditionals.notModified(Headers.of("If-Modified-Since", HttpDates.format(NOW - SECOND)), noLastModified));
  }

  // ---------------------------------------------------------------- other

  @Test
  void notModified_noConditionalFields_isFalse() {
    assertFalse(notModified("Accept", "*/*"));
  }

  @Test
  void notModified_storedStatusOtherThan200_isFalse() {
    ResponseView notFound = storedWith(404, "ETag", "\"v1\"");

    assertFalse(Conditionals.notModified(Headers.of("If-None-Match", "\"v1\""), notFound));
  }

  @Test
  void isConditional_ifRange_isTrue() {
    assertTrue(Conditionals.isConditional(Headers.of("If-Range", "\"v1\"")));
  }

  @Test
  void isConditional_noConditionalFields_isFalse() {
    assertFalse(Conditionals.isConditional(Headers.of("Accept", "*/*")));
  }

  @Test
  void isStrong_weakTag_isFalse() {
    assertFalse(Conditionals.isStrong("W/\"v1\""));
  }

  @Test
  void isStrong_strongTag_isTrue() {
    assertTrue(Conditionals.isStrong("\"v1\""));
  }

  // ---------------------------------------------------------------- If-Range

  private static boolean ifRange(String value) {
    return Conditionals.ifRangeAllows(Headers.of("Range", "bytes=0-9", "If-Range", value), stored().headers());
  }

  @Test
  void ifRangeAllows_noIfRange_isTrue() {
    assertTrue(Conditionals.ifRangeAllows(Headers.of("Range", "bytes=0-9"), stored().headers()));
  }

  @Test
  void ifRangeAllows_matchingStrongETag_isTrue() {
    assertTrue(ifRange("\"v1\""));
  }

  @Test
  void ifRangeAllows_otherETag_isFalse() {
    assertFalse(ifRange("\"v2\""));
  }

  @Test
  void ifRangeAllows_weakETag_isFalse() {
    assertFalse(ifRange("W/\"v1\""));
  }

  @Test
  void ifRangeAllows_storedETagWeak_isFalse() {
    Headers weak = Headers.of("ETag", "W/\"v1\"");
    assertFalse(Conditionals.ifRangeAllows(Headers.of("If-Range", "W/\"v1\""), weak));
  }

  @Test
  void ifRangeAllows_exactLastModified_isTrue() {
    assertTrue(ifRange(HttpDates.format(LAST_MODIFIED)));
  }

  @Test
  void ifRangeAllows_laterDate_isFalse() {
    assertFalse(ifRange(HttpDates.format(LAST_MODIFIED + SECOND)));
  }

  @Test
  void ifRangeAllows_garbageDate_isFalse() {
    assertFalse(ifRange("yesterday"));
  }

  @Test
  void notModifiedFields_areTheValidatorAndCachingFields() {
    assertEquals(List.of("ETag", "Cache-Control", "Content-Location", "Date", "Expires", "Vary", "Last-Modified"),
        Conditionals.NOT_MODIFIED_FIELDS);
  }
}
