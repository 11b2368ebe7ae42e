package io.edgecache.proxy.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class CacheKeyTest {
  private static final String KEY = "http://edge.test/a?b";

  /** A table row: how the key was spelled, and the key that spelling builds. */
  private static Arguments row(String spelling, Supplier<String> key) {
    return Arguments.of(spelling, key);
  }

  private static String url(String url) {
    return CacheKey.ofUrl(url, "urls");
  }

  static Stream<Arguments> equivalentSpellings() {
    return Stream.of(
        row("of(http, Edge.Test, 80, /a?b)", () -> CacheKey.of("http", "Edge.Test", 80, "/a?b")),
        row("of(http, edge.test, -1, /a?b)", () -> CacheKey.of("http", "edge.test", -1, "/a?b")),
        row("of(https, EDGE.TEST, 443, /a?b)", () -> CacheKey.of("https", "EDGE.TEST", 443, "/a?b")),
        row("of(HTTPS, edge.test, -1, /a?b)", () -> CacheKey.of("HTTPS", "edge.test", -1, "/a?b")),
        row("ofUrl(http://EDGE.test:80/a?b)", () -> url("http://EDGE.test:80/a?b")),
        row("ofUrl(https://edge.test:443/a?b)", () -> url("https://edge.test:443/a?b")),
        row("ofUrl(https://edge.test/a?b)", () -> url("https://edge.test/a?b")),
        row("ofUrl(HTTP://edge.test/a?b)", () -> url("HTTP://edge.test/a?b")),
        row("ofUrl( http://edge.test/a?b ) (surrounding blanks)", () -> url(" http://edge.test/a?b ")),
        row("ofUrl(http://edge.test/a?b#frag) (fragment dropped)", () -> url("http://edge.test/a?b#frag")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("equivalentSpellings")
  void ofAndOfUrl_equivalentSpelling_buildOneKey(String spelling, Supplier<String> key) {
    assertEquals(KEY, key.get(), spelling);
  }

  static Stream<Arguments> differentUrls() {
    return Stream.of(
        row("http://edge.test:443/a?b (443 is not http's default port)", () -> url("http://edge.test:443/a?b")),
        row("https://edge.test:80/a?b (80 is not https's default port)", () -> url("https://edge.test:80/a?b")),
        row("of(http, edge.test, 443, /a?b)", () -> CacheKey.of("http", "edge.test", 443, "/a?b")),
        row("of(https, edge.test, 80, /a?b)", () -> CacheKey.of("https", "edge.test", 80, "/a?b")),
        row("http://edge.test:8080/a?b", () -> url("http://edge.test:8080/a?b")),
        row("http://edge.test/A?b (path case)", () -> url("http://edge.test/A?b")),
        row("http://edge.test/a?B (query case)", () -> url("http://edge.test/a?B")),
        row("http://edge.test/a (no query)", () -> url("http://edge.test/a")),
        row("http://edge.test/a? (empty query)", () -> url("http://edge.test/a?")),
        row("http://edge.test/%61?b (no decoding)", () -> url("http://edge.test/%61?b")),
        row("http://other.test/a?b", () -> url("http://other.test/a?b")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("differentUrls")
  void ofAndOfUrl_differentUrl_buildAnotherKey(String spelling, Supplier<String> key) {
    assertNotEquals(KEY, key.get(), spelling);
  }

  @Test
  void ofUrl_queryOrder_isKept() {
    assertEquals("http://edge.test/a?x=1&y=2", url("http://edge.test/a?x=1&y=2"));
    assertNotEquals(url("http://edge.test/a?x=1&y=2"), url("http://edge.test/a?y=2&x=1"));
  }

  @Test
  void ofAndOfUrl_nonDefaultPort_isKeptInTheKey() {
    assertEquals("http://edge.test:8080/a", CacheKey.of("http", "Edge.Test", 8080, "/a"));
    assertEquals("http://edge.test:8080/a", url("https://edge.test:8080/a"));
    assertEquals("http://edge.test:443/a", url("http://edge.test:443/a"));
    assertEquals("http://edge.test:80/a", url("https://edge.test:80/a"));
  }

  static Stream<Arguments> emptyPaths() {
    return Stream.of(
        row("of(http, edge.test, -1, \"\")", () -> CacheKey.of("http", "edge.test", -1, "")),
        row("of(http, edge.test, -1, null)", () -> CacheKey.of("http", "edge.test", -1, null)),
        row("ofUrl(http://edge.test)", () -> url("http://edge.test")),
        row("ofUrl(https://Edge.Test:443)", () -> url("https://Edge.Test:443")),
        row("ofUrl(http://edge.test/)", () -> url("http://edge.test/")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("emptyPaths")
  void ofAndOfUrl_emptyPath_isSlash(String spelling, Supplier<String> key) {
    assertEquals("http://edge.test/", key.get(), spelling);
  }

  @Test
  void ofUrl_emptyPathWithQuery_isSlashAndQuery() {
    assertEquals("http://edge.test/?q=1", url("http://edge.test?q=1"));
  }

  static Stream<Arguments> ipv6Spellings() {
    return Stream.of(
        row("of(http, ::1, 8080, /a) (no brackets, as some Host parsers give it)",
            () -> CacheKey.of("http", "::1", 8080, "/a")),
        row("of(http, [::1], 8080, /a)", () -> CacheKey.of("http", "[::1]", 8080, "/a")),
        row("ofUrl(http://[::1]:8080/a)", () -> url("http://[::1]:8080/a")),
        row("ofUrl(https://[::1]:8080/a)", () -> url("https://[::1]:8080/a")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("ipv6Spellings")
  void ofAndOfUrl_ipv6Literal_keepsOrAddsBrackets(String spelling, Supplier<String> key) {
    assertEquals("http://[::1]:8080/a", key.get(), spelling);
  }

  @Test
  void ofAndOfUrl_ipv6Literal_isLowerCasedAndDefaultPortDropped() {
    assertEquals("http://[2001:db8::a]/x", CacheKey.of("http", "2001:DB8::A", 80, "/x"));
    assertEquals("http://[2001:db8::a]/x", url("http://[2001:DB8::A]:80/x"));
    assertEquals("http://[2001:db8::a]/x", url("https://[2001:db8::a]/x"));
    assertEquals("[2001:db8::a]", CacheKey.authorityOf(url("https://[2001:db8::a]/x")));
  }

  @Test
  void authorityOf_key_isHostAndNonDefaultPort() {
    assertEquals("edge.test", CacheKey.authorityOf(KEY));
    assertEquals("edge.test:8080", CacheKey.authorityOf(CacheKey.of("http", "edge.test", 8080, "/")));
    assertEquals("[::1]:8080", CacheKey.authorityOf(url("http://[::1]:8080/a")));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"ftp://x", "/relative/path", "edge.test/a", "mailto:someone@edge.test", "http:///no-host",
      "http:/a", "file:///etc/passwd"})
  void ofUrl_notAnAbsoluteHttpUrl_namesTheFieldAndTheValue(String value) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CacheKey.ofUrl(value, "urls"));
    assertEquals("urls: expected an absolute http(s) URL, got " + value, e.getMessage());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"http://edge test/a", "http://edge.test/a b", "http://[::1/a", "http://edge.test/%zz"})
  void ofUrl_unparseable_namesTheFieldAndSaysNotAUrl(String value) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CacheKey.ofUrl(value, "prefixes"));
    assertEquals("prefixes: not a URL: " + value, e.getMessage());
  }

  static Stream<Arguments> references() {
    String base = "http://edge.test/dir/page?q=1";
    return Stream.of(
        Arguments.of(base, "/x", Optional.of("http://edge.test/x")),
        Arguments.of(base, "/x?y=2", Optional.of("http://edge.test/x?y=2")),
        Arguments.of(base, "other", Optional.of("http://edge.test/dir/other")),
        Arguments.of(base, "../up", Optional.of("http://edge.test/up")),
        Arguments.of(base, " /x ", Optional.of("http://edge.test/x")),
        // RFC 3986 5.2.2 / 5.4.1: a reference with an empty path keeps the base path
        Arguments.of(base, "?q=2", Optional.of("http://edge.test/dir/page?q=2")),
        Arguments.of(base, "", Optional.of(base)),
        Arguments.of(base, "#top", Optional.of(base)),
        Arguments.of(base, "http://edge.test/x", Optional.of("http://edge.test/x")),
        Arguments.of(base, "HTTP://Edge.Test:80/x", Optional.of("http://edge.test/x")),
        Arguments.of(base, "https://EDGE.TEST/x", Optional.of("http://edge.test/x")),
        Arguments.of(base, "https://edge.test:443/x", Optional.of("http://edge.test/x")),
        Arguments.of(base, "//Edge.Test/x", Optional.of("http://edge.test/x")),
        Arguments.of(base, "http://other.test/x", Optional.empty()),
        Arguments.of(base, "//other.test/x", Optional.empty()),
        Arguments.of(base, "http://edge.test.other.test/x", Optional.empty()),
        Arguments.of(base, "http://edge.test:8080/x", Optional.empty()),
        Arguments.of(base, "http://edge.test:443/x", Optional.empty()),
        Arguments.of(base, "https://edge.test:80/x", Optional.empty()),
        Arguments.of(base, "ftp://edge.test/x", Optional.empty()),
        Arguments.of(base, "http://edge test/x", Optional.empty()),
        Arguments.of(base, "/a b", Optional.empty()),
        Arguments.of(base, "http://[::1/x", Optional.empty()),
        Arguments.of("http://edge.test:8080/a", "/x", Optional.of("http://edge.test:8080/x")),
        Arguments.of("http://edge.test:8080/a", "http://EDGE.test:8080/x", Optional.of("http://edge.test:8080/x")),
        Arguments.of("http://edge.test:8080/a", "http://edge.test/x", Optional.empty()),
        Arguments.of("http://[::1]:8080/a", "/x", Optional.of("http://[::1]:8080/x")),
        Arguments.of("http://[::1]:8080/a", "http://[::1]/x", Optional.empty()));
  }

  @ParameterizedTest(name = "base {0}, reference \"{1}\" -> {2}")
  @MethodSource("references")
  void sameOriginReference_resolvesAgainstTheBaseAndKeepsOnlyTheSameAuthority(String base, String reference,
      Optional<String> expected) {
    assertEquals(expected, CacheKey.sameOriginReference(base, reference));
  }
}
