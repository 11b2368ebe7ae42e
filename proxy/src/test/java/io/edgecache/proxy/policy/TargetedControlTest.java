package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
