package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/**
 * Property tests for the header parsers of {@code policy/}: whatever a client or an origin sends,
 * a parser returns a value (never throws), the value lies in its valid range, and where a format
 * exists parse and format agree. Strings come from two sources: any Unicode text, and text over
 * the few characters HTTP field syntax cares about, which reaches the parsers' inner branches far
 * more often than random Unicode does.
 */
class HeaderParsersPropertyTest {
  private static final int TRIES = 1000;
  private static final Set<String> DELTA_DIRECTIVES =
      Set.of("max-age", "s-maxage", "max-stale", "min-fresh", "stale-while-revalidate", "stale-if-error");

  // ---------------------------------------------------------------- Cache-Control

  @Property(tries = TRIES)
  void cacheControlParse_anyValue_neverThrowsAndSecondsStayInRange(@ForAll("fieldValues") String value) {
    CacheControl cc = CacheControl.parse(value);

    for (String name : DELTA_DIRECTIVES) {
      OptionalLong s = cc.seconds(name);
      assertTrue(s.isEmpty() || (s.getAsLong() >= 0 && s.getAsLong() <= CacheControl.MAX_DELTA), name + "=" + s);
      OptionalLong bare = cc.secondsOr(name, 7);
      assertTrue(bare.isEmpty() || (bare.getAsLong() >= 0 && bare.getAsLong() <= CacheControl.MAX_DELTA));
      assertNotNull(cc.fieldNames(name));
    }
    assertNotNull(cc.fieldNames("no-cache"));
    assertNotNull(cc.toString());
  }

  @Property(tries = TRIES)
  void cacheControlParse_severalFieldLines_neverThrow(@ForAll("fieldLines") List<String> lines) {
    CacheControl cc = CacheControl.parse(lines);

    assertEquals(cc.isEmpty(), cc.toString().equals("[]"));
  }

  @Property(tries = TRIES)
  void cacheControlMaxAge_anyDigits_isTheValueClampedTo2pow31(@ForAll @LongRange(min = 0) long n,
      @ForAll("caseOf") String name) {
    CacheControl cc = CacheControl.parse("public, " + name + "=" + n + ", max-age=1");

    assertEquals(Math.min(n, CacheControl.MAX_DELTA), cc.seconds("max-age").getAsLong());
  }

  // ---------------------------------------------------------------- HTTP dates

  @Property(tries = TRIES)
  void httpDatesParse_anyValue_neverThrowsAndReformatsToItself(@ForAll("dateish") String value) {
    Optional<Instant> t = HttpDates.parse(value);

    t.ifPresent(i -> assertEquals(Optional.of(i), HttpDates.parse(HttpDates.format(i)), value));
  }

  @Property(tries = TRIES)
  void httpDatesFormat_thenParse_roundTripsToTheSecond(
      @ForAll @LongRange(min = -2_208_988_800L, max = 253_402_300_799L) long epochSecond) {
    Instant t = Instant.ofEpochSecond(epochSecond);

    assertEquals(Optional.of(t), HttpDates.parse(HttpDates.format(t)));
    assertEquals(Optional.of(t), HttpDates.parse(HttpDates.format(t.toEpochMilli() + 999)));
  }

  // ---------------------------------------------------------------- Age

  @Property(tries = TRIES)
  void ageValue_anyFieldLines_isNonNegativeAndBounded(@ForAll("fieldLines") List<String> lines) {
    Headers.Builder b = Headers.builder();
    lines.forEach(l -> b.add("Age", l));

    long age = FreshnessPolicy.ageValue(b.build());

    assertTrue(age >= 0 && age <= CacheControl.MAX_DELTA, "age " + age); // invalid values read as absent (0)
  }

  @Property(tries = TRIES)
  void ageValue_digits_isTheValueClampedTo2pow31(@ForAll @LongRange(min = 0) long n) {
    assertEquals(Math.min(n, CacheControl.MAX_DELTA), FreshnessPolicy.ageValue(Headers.of("Age", Long.toString(n))));
  }

  @Property(tries = TRIES)
  void currentAge_anyAgeAndTimes_isNeverNegative(@ForAll("fieldValues") String age, @ForAll("dateish") String date,
      @ForAll @LongRange(min = 0, max = 4_102_444_800_000L) long requestMs, @ForAll @IntRange(min = 0, max = 60_000) int delay,
      @ForAll @IntRange(min = 0) int residentMs) {
    ResponseView r = new ResponseView(200, Headers.of("Age", age, "Date", date), requestMs, requestMs + delay);

    assertTrue(FreshnessPolicy.DEFAULT.currentAgeSeconds(r, requestMs + delay + residentMs) >= 0);
  }

  // ---------------------------------------------------------------- Vary

  @Property(tries = TRIES)
  void varyNames_anyValue_areLowerCaseSortedDistinctOrJustStar(@ForAll("fieldLines") List<String> lines) {
    Headers.Builder b = Headers.builder();
    lines.forEach(l -> b.add("Vary", l));

    List<String> names = Vary.names(b.build());

    if (names.contains("*")) {
      assertEquals(List.of("*"), names);
    }
    for (int i = 0; i < names.size(); i++) {
      assertFalse(names.get(i).isEmpty());
      assertEquals(names.get(i).toLowerCase(Locale.ROOT), names.get(i));
      assertTrue(i == 0 || names.get(i - 1).compareTo(names.get(i)) < 0, names::toString);
    }
  }

  @Property(tries = TRIES)
  void varySecondaryKey_anyRequestValues_neverThrows(@ForAll("fieldValues") String ae, @ForAll("fieldValues") String al,
      @ForAll("fieldValues") String other) {
    Headers request = Headers.of("Accept-Encoding", ae, "Accept-Language", al, "X-Other", other);

    String key = Vary.secondaryKey(List.of("accept-encoding", "accept-language", "x-other", "x-absent"), request);

    assertTrue(key.endsWith("x-absent=" + Vary.ABSENT + "\n"));
    String coding = Vary.acceptEncoding(ae);
    assertTrue(coding == null || coding.equals("br") || coding.equals("gzip"), coding);
    Vary.mostPreferredLanguage(al);
  }

  // ---------------------------------------------------------------- Conditionals / ETag lists

  @Property(tries = TRIES)
  void etagList_anyValues_neverThrow(@ForAll("fieldValues") String list, @ForAll("fieldValues") String etag,
      @ForAll("fieldValues") String ifRange) {
    Conditionals.etagListMatchesWeakly(list, etag);
    Conditionals.isStrong(etag);
    Conditionals.ifRangeAllows(Headers.of("If-Range", ifRange), Headers.of("ETag", etag, "Last-Modified", ifRange));
    ResponseView stored = new ResponseView(200, Headers.of("ETag", etag, "Last-Modified", ifRange), 0, 0);
    Conditionals.notModified(Headers.of("If-Modified-Since", ifRange), stored);
    Conditionals.notModified(Headers.of("If-None-Match", list), stored);
  }

  @Property(tries = TRIES)
  void etagList_containingTheTag_matchesWeaklyWhateverElseItHolds(@ForAll("opaqueTags") String tag,
      @ForAll("opaqueTagLists") List<String> others, @ForAll boolean weakInList, @ForAll boolean weakStored,
      @ForAll @IntRange(min = 0, max = 10) int at) {
    List<String> members = new ArrayList<>(others);
    members.add(Math.min(at, members.size()), (weakInList ? "W/" : "") + tag);

    assertTrue(Conditionals.etagListMatchesWeakly(String.join(" , ", members), (weakStored ? "W/" : "") + tag));
  }

  // ---------------------------------------------------------------- Range / Content-Range

  @Property(tries = TRIES)
  void byteRangeParse_anyHeader_isIgnoredUnsatisfiableOrInsideTheBody(@ForAll("rangeish") String header,
      @ForAll @LongRange(min = 0, max = 1L << 40) long length) {
    ByteRange r = ByteRange.parse(header, length);

    if (r != null && r != ByteRange.UNSATISFIABLE) {
      assertTrue(r.first() >= 0 && r.first() <= r.last() && r.last() < length, r + " of " + length);
      assertTrue(r.length() >= 1 && r.length() <= length);
    }
  }

  @Property(tries = TRIES)
  void byteRangeParse_validFirstLast_isExactlyThatRange(@ForAll @LongRange(min = 1, max = 1L << 40) long length,
      @ForAll @LongRange(min = 0) long a, @ForAll @LongRange(min = 0) long b) {
    long first = a % length;
    long last = first + b % (length - first);

    assertEquals(new ByteRange(first, last), ByteRange.parse("bytes=" + first + "-" + last, length));
  }

  @Property(tries = TRIES)
  void contentRange_anyValue_isNullOrWithinTheCompleteLength(@ForAll("rangeish") String value) {
    ByteRange.ContentRange cr = ByteRange.contentRange(Headers.of("Content-Range", value));

    if (cr != null) {
      assertTrue(cr.first() >= 0 && cr.first() <= cr.last() && cr.last() < cr.completeLength(), cr::toString);
    }
  }

  @Property(tries = TRIES)
  void contentRange_formatted_roundTrips(@ForAll @LongRange(min = 1, max = Long.MAX_VALUE / 2) long complete,
      @ForAll @LongRange(min = 0) long a, @ForAll @LongRange(min = 0) long b) {
    long first = a % complete;
    long last = first + b % (complete - first);

    assertEquals(new ByteRange.ContentRange(first, last, complete),
        ByteRange.contentRange(Headers.of("Content-Range", "bytes " + first + "-" + last + "/" + complete)));
  }

  // ---------------------------------------------------------------- CDN-Cache-Control / Surrogate-Control

  @Property(tries = TRIES)
  void targetedControl_anyFields_isNullOrNonEmpty(@ForAll("fieldValues") String surrogate, @ForAll("fieldValues") String cdn,
      @ForAll boolean withSurrogate, @ForAll boolean withCdn) {
    Headers.Builder b = Headers.builder();
    if (withSurrogate) {
      b.add("Surrogate-Control", surrogate);
    }
    if (withCdn) {
      b.add("CDN-Cache-Control", cdn);
    }

    CacheControl cc = TargetedControl.select(b.build());

    assertTrue(cc == null || !cc.isEmpty());
  }

  // ---------------------------------------------------------------- generators

  /** Any Unicode text, or text over the characters HTTP field syntax gives meaning to. */
  @Provide
  Arbitrary<String> fieldValues() {
    Arbitrary<String> syntax = Arbitraries.strings()
        .withChars("0123456789 \t,;=\"\\-/*:WGMTabcegimnoprsxyz")
        .ofMaxLength(60);
    Arbitrary<String> directives = Arbitraries.of("max-age", "s-maxage", "no-cache", "private", "no-store", "public",
        "must-revalidate", "stale-while-revalidate", "max-age=\"", "no-cache=\"a, b\"", "=", ",", ";edgecache", "\"",
        "W/\"x\"", "\"x\"", "*", "bytes=", "q=0", "q=x", "br", "gzip", " ", "-", "1", "99999999999999999999");
    Arbitrary<String> joined = directives.list().ofMaxSize(8).map(l -> String.join("", l));
    return Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(40), syntax, joined);
  }

  @Provide
  Arbitrary<List<String>> fieldLines() {
    return fieldValues().list().ofMaxSize(4);
  }

  @Provide
  Arbitrary<String> caseOf() {
    return Arbitraries.of("max-age", "MAX-AGE", "Max-Age");
  }

  /** Real HTTP-dates in the three forms, mutated by one character, and garbage. */
  @Provide
  Arbitrary<String> dateish() {
    Arbitrary<String> real = Combinators.combine(
            Arbitraries.longs().between(-2_208_988_800L, 253_402_300_799L), Arbitraries.integers().between(0, 2))
        .as((s, form) -> {
          String imf = HttpDates.format(Instant.ofEpochSecond(s));
          return switch (form) {
            case 0 -> imf;
            case 1 -> imf.substring(0, 3) + "day," + imf.substring(4, 7) + "-" + imf.substring(8, 11) + "-"
                + imf.substring(14); // an RFC 850-like shape; the parser decides what it accepts
            default -> imf.substring(0, 3) + " " + imf.substring(8, 11) + " " + imf.substring(5, 7) + " "
                + imf.substring(17, 25) + " " + imf.substring(12, 16);
          };
        });
    Arbitrary<String> mutated = Combinators.combine(real, Arbitraries.integers().between(0, 40),
            Arbitraries.of(' ', ',', '-', ':', '0', '9', 'G', 'X', 'z', '\t'))
        .as((s, i, c) -> {
          int at = Math.min(i, s.length() - 1);
          return s.substring(0, at) + c + s.substring(at + 1);
        });
    return Arbitraries.oneOf(real, mutated, fieldValues());
  }

  /**
   * Entity tags over etagc (RFC 9110 8.8.3) without the backslash: {@link Headers#splitList} reads
   * {@code \"} as a quoted-pair, which entity tags do not have, so a tag ending in a backslash
   * swallows the rest of the list (the request then gets a 200 instead of a 304, never a wrong 304).
   */
  @Provide
  Arbitrary<String> opaqueTags() {
    return Arbitraries.strings().withCharRange('#', '~').excludeChars('\\').ofMaxLength(12).map(s -> "\"" + s + "\"");
  }

  @Provide
  Arbitrary<List<String>> opaqueTagLists() {
    return Arbitraries.oneOf(opaqueTags(), Arbitraries.strings().withChars("abcW/ ").ofMaxLength(6)).list().ofMaxSize(6);
  }

  /** Range and Content-Range shapes with numbers that are small, huge, signed or missing. */
  @Provide
  Arbitrary<String> rangeish() {
    Arbitrary<String> number = Arbitraries.oneOf(Arbitraries.longs().between(0, 5000).map(String::valueOf),
        Arbitraries.of("", "-1", "+5", " 7 ", "99999999999999999999", "9223372036854775807", "0x10", "1.5", "*"));
    Arbitrary<String> unit = Arbitraries.of("bytes=", "bytes ", "BYTES=", "items=", "bytes", "");
    Arbitrary<String> sep = Arbitraries.of("-", "--", ",", "/", "-/", " - ");
    Arbitrary<String> shaped = Combinators.combine(unit, number, sep, number, Arbitraries.of("", "/", ","), number)
        .as((u, a, s, b, t, c) -> u + a + s + b + t + c);
    return Arbitraries.oneOf(shaped, fieldValues());
  }
}
