package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RequestDirectivesTest {
  @Test
  void honored_readsEverything() {
    Headers h = Headers.of("Cache-Control", "max-age=0, only-if-cached");
    CacheControl cc = RequestDirectives.honored(h, true);
    assertTrue(cc.has("max-age") && cc.has("only-if-cached"));
    assertTrue(RequestDirectives.honored(Headers.of("Pragma", "no-cache"), true).has("no-cache"));
  }

  @Test
  void ignored_keepsOnlyOnlyIfCached() {
    CacheControl cc = RequestDirectives.honored(Headers.of("Cache-Control", "no-cache, only-if-cached"), false);
    assertTrue(cc.has("only-if-cached"));
    assertFalse(cc.has("no-cache"));
    assertSame(CacheControl.NONE, RequestDirectives.honored(Headers.of("Cache-Control", "no-store, max-age=0"), false));
    assertSame(CacheControl.NONE, RequestDirectives.honored(Headers.of("Pragma", "no-cache"), false));
    assertSame(CacheControl.NONE, RequestDirectives.honored(Headers.EMPTY, false));
  }
}
