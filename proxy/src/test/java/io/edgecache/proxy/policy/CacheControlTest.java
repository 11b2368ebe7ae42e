package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class CacheControlTest {

  @Test
  void parse_null_isNone() {
    assertSame(CacheControl.NONE, CacheControl.parse((String) null));
  }

  @Test
  void parse_noFieldLines_isNone() {
    assertSame(CacheControl.NONE, CacheControl.parse(List.of()));
  }

  @Test
  void parse_onlyGarbage_isEmpty() {
    assertTrue(CacheControl.parse(" , ,=x, \"quoted\"").isEmpty());
  }

  @Test
  void parse_bareDirective_isPresentWithoutArgument() {
    CacheControl cc = CacheControl.parse("no-store");

    assertTrue(cc.has("no-store"));
    assertNull(cc.argument("no-store"));
  }

  @Test
  void parse_upperCaseName_isFoundByLowerCaseName() {
    assertEquals(OptionalLong.of(60), CacheControl.parse("Max-Age=60").seconds("max-age"));
  }

  @Test
  void parse_garbageAmongDirectives_isIgnored() {
    CacheControl cc = CacheControl.parse("bad name=1, {x}, max-age=5, ,");

    assertEquals(OptionalLong.of(5), cc.seconds("max-age"));
  }

  @Test
  void parse_commaInsideQuotedString_doesNotSplitTheDirective() {
    CacheControl cc = CacheControl.parse("ext=\"a, max-age=1\", max-age=5");

    assertEquals("a, max-age=1", cc.argument("ext"));
    assertEquals(OptionalLong.of(5), cc.seconds("max-age"));
  }

  @Test
  void parse_repeatedDirective_firstOccurrenceWins() {
    assertEquals(OptionalLong.of(10), CacheControl.parse("max-age=10, max-age=20").seconds("max-age"));
  }

  @Test
  void parse_severalFieldLines_areCombined() {
    CacheControl cc = CacheControl.parse(List.of("max-age=10", "public"));

    assertEquals(OptionalLong.of(10), cc.seconds("max-age"));
    assertTrue(cc.has("public"));
  }

  @Test
  void seconds_absentDirective_isEmpty() {
    assertEquals(OptionalLong.empty(), CacheControl.parse("public").seconds("max-age"));
  }

  @Test
  void seconds_quotedDelta_isAccepted() {
    assertEquals(OptionalLong.of(60), CacheControl.parse("max-age=\"60\"").seconds("max-age"));
  }

  @Test
  void seconds_nonDigitDelta_readsAsZero() {
    assertEquals(OptionalLong.of(0), CacheControl.parse("max-age=abc").seconds("max-age"));
  }

  @Test
  void seconds_negativeDelta_readsAsZero() {
    assertEquals(OptionalLong.of(0), CacheControl.parse("max-age=-1").seconds("max-age"));
  }

  @Test
  void seconds_fractionalDelta_readsAsZero() {
    assertEquals(OptionalLong.of(0), CacheControl.parse("max-age=1.5").seconds("max-age"));
  }

  @Test
  void seconds_emptyDelta_readsAsZero() {
    assertEquals(OptionalLong.of(0), CacheControl.parse("max-age=").seconds("max-age"));
  }

  @Test
  void seconds_bareDirective_readsAsZero() {
    assertEquals(OptionalLong.of(0), CacheControl.parse("max-age").seconds("max-age"));
  }

  @Test
  void seconds_unterminatedQuotedDelta_readsAsZero() {
    // An invalid delta-seconds must read as stale (0), not as "absent" (RFC 9111 4.2.1).
    assertEquals(OptionalLong.of(0), CacheControl.parse("max-age=\"60").seconds("max-age"));
  }

  @Test
  void seconds_valueBeyondTwoToThe31_isClampedToMaxDelta() {
    assertEquals(OptionalLong.of(CacheControl.MAX_DELTA),
        CacheControl.parse("max-age=99999999999999999999999").seconds("max-age"));
  }

  @Test
  void secondsOr_bareDirective_readsAsWhenBare() {
    assertEquals(OptionalLong.of(Long.MAX_VALUE),
        CacheControl.parse("max-stale").secondsOr("max-stale", Long.MAX_VALUE));
  }

  @Test
  void secondsOr_withValue_readsTheValue() {
    assertEquals(OptionalLong.of(30), CacheControl.parse("max-stale=30").secondsOr("max-stale", Long.MAX_VALUE));
  }

  @Test
  void secondsOr_invalidValue_readsAsZero() {
    assertEquals(OptionalLong.of(0), CacheControl.parse("max-stale=x").secondsOr("max-stale", Long.MAX_VALUE));
  }

  @Test
  void secondsOr_unterminatedQuotedValue_readsAsZeroNotAsBare() {
    assertEquals(OptionalLong.of(0), CacheControl.parse("max-stale=\"5").secondsOr("max-stale", Long.MAX_VALUE));
  }

  @Test
  void fieldNames_qualifiedDirective_listsLowerCaseNames() {
    CacheControl cc = CacheControl.parse("no-cache=\"Set-Cookie, X-Foo\"");

    assertEquals(List.of("set-cookie", "x-foo"), cc.fieldNames("no-cache"));
  }

  @Test
  void fieldNames_bareDirective_isEmpty() {
    assertEquals(List.of(), CacheControl.parse("no-cache").fieldNames("no-cache"));
  }

  @Test
  void unqualified_bareDirective_isTrue() {
    assertTrue(CacheControl.parse("no-cache").unqualified("no-cache"));
  }

  @Test
  void unqualified_qualifiedDirective_isFalse() {
    assertFalse(CacheControl.parse("private=\"Set-Cookie\"").unqualified("private"));
  }

  @Test
  void unqualified_absentDirective_isFalse() {
    assertFalse(CacheControl.parse("public").unqualified("no-cache"));
  }
}
