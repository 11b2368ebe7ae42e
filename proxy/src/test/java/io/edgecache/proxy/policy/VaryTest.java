package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

class VaryTest {

  private static String key(List<String> names, String... requestNameValues) {
    return Vary.secondaryKey(names, Headers.of(requestNameValues));
  }

  // ---------------------------------------------------------------- names

  @Test
  void names_mixedCaseRepeatedLines_areLowerCasedSortedAndDeduplicated() {
    Headers h = Headers.of("Vary", "User-Agent, accept-encoding", "vary", "Accept-Encoding, Accept");

    assertEquals(List.of("accept", "accept-encoding", "user-agent"), Vary.names(h));
  }

  @Test
  void names_noVary_isEmpty() {
    assertEquals(List.of(), Vary.names(Headers.of("Cache-Control", "max-age=60")));
  }

  @Test
  void names_star_isOnlyStar() {
    assertEquals(List.of("*"), Vary.names(Headers.of("Vary", "Accept, *")));
  }

  @Test
  void names_emptyMembers_areDropped() {
    assertEquals(List.of("accept"), Vary.names(Headers.of("Vary", " , Accept,,")));
  }

  // ---------------------------------------------------------------- secondaryKey

  @Test
  void secondaryKey_noNames_isEmpty() {
    assertEquals("", key(List.of(), "Accept", "text/html"));
  }

  @Test
  void secondaryKey_whitespaceDifferences_areEqual() {
    List<String> names = List.of("accept");

    assertEquals(key(names, "Accept", "text/html,application/json"),
        key(names, "Accept", "text/html ,\tapplication/json"));
  }

  @Test
  void secondaryKey_twoFieldLinesVersusOneCombinedLine_areEqual() {
    List<String> names = List.of("accept");

    assertEquals(key(names, "Accept", "text/html, application/json"),
        key(names, "Accept", "text/html", "accept", "application/json"));
  }

  @Test
  void secondaryKey_differentValues_differ() {
    List<String> names = List.of("accept");

    assertNotEquals(key(names, "Accept", "text/html"), key(names, "Accept", "application/json"));
  }

  @Test
  void secondaryKey_absentVersusEmptyField_differ() {
    List<String> names = List.of("x-variant");

    assertNotEquals(key(names), key(names, "X-Variant", ""));
  }

  @Test
  void secondaryKey_unrelatedRequestFields_areIgnored() {
    List<String> names = List.of("accept");

    assertEquals(key(names, "Accept", "text/html"), key(names, "Accept", "text/html", "Cookie", "a=b"));
  }

  @Test
  void secondaryKey_acceptLanguageOrderAndCase_areIgnored() {
    List<String> names = List.of("accept-language");

    assertEquals(key(names, "Accept-Language", "en-US, fr;q=0.5"), key(names, "Accept-Language", "FR;q=0.5,en-us"));
  }

  @Test
  void secondaryKey_acceptEncodingBothAllowingBrotli_areEqual() {
    List<String> names = List.of("accept-encoding");

    assertEquals(key(names, "Accept-Encoding", "gzip, deflate, br"), key(names, "Accept-Encoding", "br"));
  }

  @Test
  void secondaryKey_acceptEncodingBrotliVersusGzip_differ() {
    List<String> names = List.of("accept-encoding");

    assertNotEquals(key(names, "Accept-Encoding", "gzip"), key(names, "Accept-Encoding", "br"));
  }

  @Test
  void secondaryKey_acceptEncodingOnlyUnsupportedCodings_isIdentity() {
    List<String> names = List.of("accept-encoding");

    assertEquals(key(names, "Accept-Encoding", "deflate"), key(names, "Accept-Encoding", "identity"));
  }

  // ---------------------------------------------------------------- acceptEncoding

  @Test
  void acceptEncoding_brotliAndGzip_prefersBrotli() {
    assertEquals("br", Vary.acceptEncoding("gzip, br"));
  }

  @Test
  void acceptEncoding_brotliWithLowerQ_isStillPreferred() {
    assertEquals("br", Vary.acceptEncoding("gzip;q=1.0, br;q=0.1"));
  }

  @Test
  void acceptEncoding_gzipOnly_isGzip() {
    assertEquals("gzip", Vary.acceptEncoding("gzip"));
  }

  @Test
  void acceptEncoding_xGzip_isGzip() {
    assertEquals("gzip", Vary.acceptEncoding("x-gzip"));
  }

  @Test
  void acceptEncoding_upperCase_isRecognised() {
    assertEquals("gzip", Vary.acceptEncoding("GZIP;Q=0.5"));
  }

  @Test
  void acceptEncoding_wildcard_isGzip() {
    assertEquals("gzip", Vary.acceptEncoding("*"));
  }

  @Test
  void acceptEncoding_brotliRefusedWithQZero_fallsBackToGzip() {
    assertEquals("gzip", Vary.acceptEncoding("br;q=0, gzip"));
  }

  @Test
  void acceptEncoding_gzipRefusedWithQZero_isNull() {
    assertNull(Vary.acceptEncoding("gzip;q=0.000"));
  }

  @Test
  void acceptEncoding_malformedQ_isRefused() {
    assertNull(Vary.acceptEncoding("gzip;q=high"));
  }

  @Test
  void acceptEncoding_identityOnly_isNull() {
    assertNull(Vary.acceptEncoding("identity"));
  }

  @Test
  void acceptEncoding_empty_isNull() {
    assertNull(Vary.acceptEncoding(""));
  }

  @org.junit.jupiter.api.Test
  void mostPreferredLanguage_highestQWins_tiesAndWildcardGiveNull() {
    assertEquals("de", Vary.mostPreferredLanguage("fr;q=0.5, de;q=1.0"));
    assertEquals("de", Vary.mostPreferredLanguage("DE, en;q=0.9"));
    assertEquals(null, Vary.mostPreferredLanguage("en, de"));
    assertEquals(null, Vary.mostPreferredLanguage("*, en;q=0.5"));
    assertEquals(null, Vary.mostPreferredLanguage("en;q=abc"));
    assertEquals(null, Vary.mostPreferredLanguage(null));
  }

  @Test
  void acceptEncoding_bareSemicolonMember_isIdentityNotAnException() {
    // found by HeaderParsersPropertyTest: ";".split(";") is an empty array, and the request got a 500
    assertNull(Vary.acceptEncoding(";"));
    assertEquals("gzip", Vary.acceptEncoding(";, gzip"));
  }

  @Test
  void mostPreferredLanguage_bareSemicolonMember_doesNotThrow() {
    assertEquals("de", Vary.mostPreferredLanguage(";q=0.5, de"));
  }
}
