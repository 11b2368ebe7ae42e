package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.edgecache.proxy.policy.Headers;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClientHeadersTest {
  private static final Headers ORIGIN = Headers.of("Content-Type", "text/plain", "Content-Length", "5", "Age", "3",
      "Surrogate-Control", "max-age=60", "Surrogate-Key", "a b", "Via", "1.1 upstream", "Cache-Status", "up; hit");

  @Test
  void of_fromOrigin_keepsLengthAndAgeDropsSurrogateControlAndTags() {
    Headers h = ClientHeaders.of(ORIGIN, CacheStatus.fwd(CacheStatus.Fwd.URI_MISS), false, false, false);
    assertEquals("5", h.get("content-length"));
    assertEquals("3", h.get("age"));
    assertNull(h.get("surrogate-control"));
    assertNull(h.get("surrogate-key"));
  }

  @Test
  void of_fromStore_dropsStoredLengthAndAge() {
    Headers h = ClientHeaders.of(ORIGIN, CacheStatus.hit(), true, false, false);
    assertFalse(h.contains("content-length"));
    assertFalse(h.contains("age"));
  }

  @Test
  void of_exposeTags_keepsSurrogateKey() {
    assertEquals("a b", ClientHeaders.of(ORIGIN, CacheStatus.hit(), true, true, false).get("surrogate-key"));
  }

  @Test
  void of_upstreamViaAndCacheStatus_oursIsAppendedLast() {
    Headers h = ClientHeaders.of(ORIGIN, CacheStatus.hit().param("ttl", 7), true, false, false);
    assertEquals(List.of("1.1 upstream, 1.1 edgecache"), h.all("via"));
    assertEquals(List.of("up; hit, edgecache; hit; ttl=7"), h.all("cache-status"));
  }

  @Test
  void of_specialFieldsInAnyCase_areTreatedAsTheirName() {
    Headers h = ClientHeaders.of(Headers.of("SURROGATE-CONTROL", "max-age=60", "cache-TAG", "t", "VIA", "1.0 up",
        "CONTENT-LENGTH", "5", "X-Other", "1"), CacheStatus.hit(), true, false, false);

    assertNull(h.get("surrogate-control"));
    assertNull(h.get("cache-tag"));
    assertNull(h.get("content-length"));
    assertEquals(List.of("1.0 up, 1.1 edgecache"), h.all("via"));
    assertEquals("1", h.get("x-other"));
  }

  @Test
  void of_http10Client_viaSays10() {
    Headers h = ClientHeaders.of(Headers.of(), CacheStatus.hit(), true, false, true);
    assertEquals("1.0 edgecache", h.get("via"));
  }

  @Test
  void notModified_keepsOnlyTheValidatorAndCachingFields() {
    Headers stored = Headers.of("ETag", "\"v1\"", "Content-Type", "text/plain", "Cache-Control", "max-age=60",
        "Content-Length", "5", "Vary", "Accept");
    Headers h = ClientHeaders.notModified(stored, CacheStatus.hit(), false);
    assertEquals("\"v1\"", h.get("etag"));
    assertEquals("max-age=60", h.get("cache-control"));
    assertEquals("Accept", h.get("vary"));
    assertFalse(h.contains("content-type"));
    assertFalse(h.contains("content-length"));
    assertEquals("1.1 edgecache", h.get("via"));
    assertEquals("edgecache; hit", h.get("cache-status"));
  }

  @Test
  void fwdTokens_areTheCacheStatusValues() {
    assertEquals("edgecache; fwd=uri-miss", CacheStatus.fwd(CacheStatus.Fwd.URI_MISS).toString());
    assertEquals("edgecache; fwd=vary-miss", CacheStatus.fwd(CacheStatus.Fwd.VARY_MISS).toString());
    assertEquals("edgecache; fwd=request", CacheStatus.fwd(CacheStatus.Fwd.REQUEST).toString());
    assertEquals("edgecache; fwd=method", CacheStatus.fwd(CacheStatus.Fwd.METHOD).toString());
    assertEquals("edgecache; fwd=bypass", CacheStatus.fwd(CacheStatus.Fwd.BYPASS).toString());
    assertEquals("edgecache; fwd=stale", CacheStatus.fwd(CacheStatus.Fwd.STALE).toString());
    assertEquals("edgecache; fwd=miss", CacheStatus.fwd(CacheStatus.Fwd.MISS).toString());
  }
}
