package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HttpDatesTest {
  /** Sun, 06 Nov 1994 08:49:37 GMT, the example of RFC 9110 section 5.6.7. */
  private static final Instant RFC_EXAMPLE = Instant.ofEpochSecond(784111777L);

  @Test
  void parse_imfFixdate_isRead() {
    assertEquals(Optional.of(RFC_EXAMPLE), HttpDates.parse("Sun, 06 Nov 1994 08:49:37 GMT"));
  }

  @Test
  void parse_rfc850Date_isRead() {
    assertEquals(Optional.of(RFC_EXAMPLE), HttpDates.parse("Sunday, 06-Nov-94 08:49:37 GMT"));
  }

  @Test
  void parse_asctimeDate_isRead() {
    assertEquals(Optional.of(RFC_EXAMPLE), HttpDates.parse("Sun Nov  6 08:49:37 1994"));
  }

  @Test
  void parse_surroundingWhitespace_isIgnored() {
    assertEquals(Optional.of(RFC_EXAMPLE), HttpDates.parse("  Sun, 06 Nov 1994 08:49:37 GMT "));
  }

  @Test
  void parse_null_isEmpty() {
    assertEquals(Optional.empty(), HttpDates.parse(null));
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "", "0", "-1", "tomorrow", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 32 Nov 1994 08:49:37 GMT",
    "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT", "Sun, 06 Nov 1994 8:49:37 GMT",
    "Sun, 06 Nov 1994 25:49:37 GMT", "Sunday, 06-Nov-1994 08:49:37 GMT", "Sun Nov  6 08:49:37",
    "1994-11-06T08:49:37Z"
  })
  void parse_garbage_isEmpty(String value) {
    assertEquals(Optional.empty(), HttpDates.parse(value));
    assertEquals(Optional.empty(), HttpDates.parseLenient(value));
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "Sun, 06  Nov  1994 08:49:37 GMT", // runs of spaces
    "Sun,  06 Nov 1994 08:49:37 GMT",
    "Sun, 06 Nov 1994 08:49:37 gmt", // wrong case of GMT
    "Sun, 06 Nov 1994 08:49:37 gMT",
    "Sun, 06 NOV 1994 08:49:37 GMT", // wrong case of the month
    "SUN, 06 Nov 1994 08:49:37 GMT", // wrong case of the day
    "Sun, 06 Nov 1994 08:49:37 AEST", // other zones
    "Sun, 06 Nov 1994 08:49:37 +0000",
    "Sun, 06 Nov 1994 08:49:37", // missing zone
    "Sun 06 Nov 1994 08:49:37 GMT", // missing comma
    "06 Nov 1994 08:49:37 GMT", // missing day name
    "Sun, 6 Nov 1994 08:49:37 GMT", // one-digit day in IMF-fixdate
    "Sun, 06-Nov-1994 08:49:37 GMT", // dashes in IMF-fixdate
    "Sun, 06 Nov 1994 08.49.37 GMT",
    "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT", // a list
    "Sun, 06-Nov-94 08:49:37 GMT", // RFC 850 needs the long day name
    "sunday, 06-Nov-94 08:49:37 GMT",
    "Sun Nov 6 08:49:37 1994", // asctime pads a one-digit day with a space
    "Sun Nov 06 08:49:37 1994 GMT",
    "Sun, 06 Nov 1994 08:49:37 GMT\u00a0",
  })
  void parse_notExactlyAnHttpDate_isEmpty(String value) {
    assertEquals(Optional.empty(), HttpDates.parse(value));
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "Sun, 06  Nov  1994 08:49:37 GMT", "Sun, 06 NOV 1994 08:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT",
    "Sun Nov 6 08:49:37 1994",
  })
  void parseLenient_robustVariants_areRead(String value) {
    assertEquals(Optional.of(RFC_EXAMPLE), HttpDates.parseLenient(value));
  }

  @Test
  void parse_asctimeTwoDigitDay_isRead() {
    assertEquals(Optional.of(Instant.parse("1994-11-16T08:49:37Z")), HttpDates.parse("Wed Nov 16 08:49:37 1994"));
  }

  @Test
  void parse_tabsAroundTheValue_areIgnored() {
    assertEquals(Optional.of(RFC_EXAMPLE), HttpDates.parse("\tSun, 06 Nov 1994 08:49:37 GMT\t"));
  }

  @Test
  void format_instant_isImfFixdate() {
    assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", HttpDates.format(RFC_EXAMPLE));
  }

  @Test
  void format_epochMillis_dropsMillisecondsAndRoundTrips() {
    long now = 1_700_000_000_123L;

    assertEquals(Optional.of(Instant.ofEpochSecond(1_700_000_000L)), HttpDates.parse(HttpDates.format(now)));
  }
}
