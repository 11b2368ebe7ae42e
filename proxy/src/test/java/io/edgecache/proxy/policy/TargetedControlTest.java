package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class TargetedControlTest {

  private static OptionalLong maxAge(String... nameValues) {
    return TargetedControl.select(Headers.of(nameValues)).seconds("max-age");
  }

  @Test
  void select_noTargetedField_isNull() {
    assertNull(TargetedControl.select(Headers.of("Cache-Control", "max-age=60")));
  }

  @Test
  void select_cdnCacheControl_isUsed() {
    assertEquals(OptionalLong.of(600), maxAge("Cache-Control", "max-age=60", "CDN-Cache-Control", "max-age=600"));
  }

  @Test
  void select_emptyCdnCacheControl_isNull() {
    assertNull(TargetedControl.select(Headers.of("CDN-Cache-Control", " ")));
  }

  @Test
  void select_cdnCacheControlStringMaxAge_ignoresTheField() {
    assertNull(TargetedControl.select(Headers.of("CDN-Cache-Control", "max-age=\"10\"")));
  }

  @Test
  void select_cdnCacheControlDecimalMaxAge_ignoresTheField() {
    assertNull(TargetedControl.select(Headers.of("CDN-Cache-Control", "max-age=1.5")));
  }

  @Test
  void select_cdnCacheControlNegativeMaxAge_ignoresTheField() {
    assertNull(TargetedControl.select(Headers.of("CDN-Cache-Control", "max-age=-1")));
  }

  @Test
  void select_cdnCacheControlNoStoreWithValue_ignoresTheField() {
    assertNull(TargetedControl.select(Headers.of("CDN-Cache-Control", "no-store=5, max-age=60")));
  }

  @Test
  void select_cdnCacheControlNoStoreFalse_ignoresTheField() {
    assertNull(TargetedControl.select(Headers.of("CDN-Cache-Control", "no-store=?0")));
  }

  @Test
  void select_cdnCacheControlPrivateToken_ignoresTheField() {
    assertNull(TargetedControl.select(Headers.of("CDN-Cache-Control", "private=set-cookie")));
  }

  @Test
  void select_cdnCacheControlParseError_ignoresTheField() {
    assertNull(TargetedControl.select(Headers.of("CDN-Cache-Control", "max-age=60, Max-Age=5")));
  }

  @Test
  void select_cdnCacheControlTrailingComma_ignoresTheField() {
    assertNull(TargetedControl.select(Headers.of("CDN-Cache-Control", "max-age=60,")));
  }

  @Test
  void select_cdnCacheControlInvalidLine_ignoresAllLines() {
    assertNull(TargetedControl.select(Headers.of("CDN-Cache-Control", "max-age=60", "CDN-Cache-Control", "no-store=1")));
  }

  @Test
  void effective_invalidCdnCacheControl_fallsBackToCacheControl() {
    ResponseView r = new ResponseView(200, Headers.of("Cache-Control", "max-age=30", "CDN-Cache-Control", "max-age=\"600\""), 0, 0);

    assertNull(r.targeted());
    assertEquals(OptionalLong.of(30), r.effective().seconds("max-age"));
  }

  @Test
  void select_cdnCacheControlOverTwoLines_isOneDictionary() {
    CacheControl cc = TargetedControl.select(Headers.of("CDN-Cache-Control", "max-age=60", "CDN-Cache-Control", "must-revalidate"));

    assertEquals(OptionalLong.of(60), cc.seconds("max-age"));
    assertTrue(cc.has("must-revalidate"));
  }

  @Test
  void select_cdnCacheControlParameters_areIgnored() {
    assertEquals(OptionalLong.of(60), maxAge("CDN-Cache-Control", "max-age=60;foo=bar"));
  }

  @Test
  void select_cdnCacheControlNoCacheString_isAFieldList() {
    CacheControl cc = TargetedControl.select(Headers.of("CDN-Cache-Control", "no-cache=\"Set-Cookie, X-Foo\""));

    assertEquals(List.of("set-cookie", "x-foo"), cc.fieldNames("no-cache"));
  }

  @Test
  void select_cdnCacheControlBareNoCache_isUnqualified() {
    assertTrue(TargetedControl.select(Headers.of("CDN-Cache-Control", "no-cache")).unqualified("no-cache"));
  }

  @Test
  void select_cdnCacheControlUnknownMemberOfAnyType_isKeptAndHarmless() {
    CacheControl cc = TargetedControl.select(Headers.of("CDN-Cache-Control", "none, ext=(1 2), max-age=60"));

    assertTrue(cc.has("none"));
    assertEquals(OptionalLong.of(60), cc.seconds("max-age"));
  }

  @Test
  void select_untargetedSurrogateControl_isUsed() {
    assertEquals(OptionalLong.of(30), maxAge("Surrogate-Control", "max-age=30"));
  }

  @Test
  void select_surrogateDirectiveTargetedAtUs_winsOverUntargeted() {
    assertEquals(OptionalLong.of(60), maxAge("Surrogate-Control", "max-age=10, max-age=60;edgecache"));
  }

  @Test
  void select_surrogateTargetMatch_ignoresCase() {
    assertEquals(OptionalLong.of(60), maxAge("Surrogate-Control", "max-age=60; EdgeCache"));
  }

  @Test
  void select_surrogateDirectiveTargetedElsewhere_isIgnored() {
    CacheControl cc = TargetedControl.select(Headers.of("Surrogate-Control", "no-store;other, max-age=30"));

    assertFalse(cc.has("no-store"));
    assertEquals(OptionalLong.of(30), cc.seconds("max-age"));
  }

  @Test
  void select_surrogateOnlyForOtherDevices_fallsBackToCdnCacheControl() {
    assertEquals(OptionalLong.of(600),
        maxAge("Surrogate-Control", "max-age=5;other", "CDN-Cache-Control", "max-age=600"));
  }

  @Test
  void select_surrogateOnlyForOtherDevices_isNull() {
    assertNull(TargetedControl.select(Headers.of("Surrogate-Control", "max-age=5;other")));
  }

  @Test
  void select_surrogateAndCdnCacheControl_surrogateWins() {
    assertEquals(OptionalLong.of(30), maxAge("CDN-Cache-Control", "max-age=600", "Surrogate-Control", "max-age=30"));
  }

  @Test
  void select_semicolonInsideQuotedValue_isNotATarget() {
    CacheControl cc = TargetedControl.select(Headers.of("Surrogate-Control", "ext=\"a;edgecache\", max-age=5"));

    assertEquals("a;edgecache", cc.argument("ext"));
  }

  @Test
  void effective_withTargetedField_isTheTargetedDirectives() {
    ResponseView r = new ResponseView(200, Headers.of("Cache-Control", "no-store", "CDN-Cache-Control", "max-age=5"), 0, 0);

    assertSame(r.targeted(), r.effective());
    assertTrue(r.cacheControl().has("no-store"));
  }
}
