package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AuthorizationTest {
  private static final long NOW = 1_700_000_000_000L;
  private static final Headers AUTHORIZED = Headers.of("Authorization", "Bearer x");

  private static ResponseView stored(String... nameValues) {
    return new ResponseView(200, Headers.of(nameValues), NOW, NOW);
  }

  @Test
  void storedMayAnswer_requestWithoutAuthorization_isTrue() {
    assertTrue(Authorization.storedMayAnswer(Headers.of(), stored("Cache-Control", "max-age=60")));
  }

  @Test
  void storedMayAnswer_authorizedAndPlainMaxAge_isFalse() {
    assertFalse(Authorization.storedMayAnswer(AUTHORIZED, stored("Cache-Control", "max-age=60")));
  }

  @Test
  void storedMayAnswer_authorizedAndPublic_isTrue() {
    assertTrue(Authorization.storedMayAnswer(AUTHORIZED, stored("Cache-Control", "public, max-age=60")));
  }

  @Test
  void storedMayAnswer_authorizedAndSMaxAge_isTrue() {
    assertTrue(Authorization.storedMayAnswer(AUTHORIZED, stored("Cache-Control", "s-maxage=60")));
  }

  @Test
  void storedMayAnswer_authorizedAndMustRevalidate_isTrue() {
    assertTrue(Authorization.storedMayAnswer(AUTHORIZED, stored("Cache-Control", "max-age=60, must-revalidate")));
  }

  @Test
  void storedMayAnswer_authorizedAndPublicOnlyInCdnCacheControl_isTrue() {
    assertTrue(Authorization.storedMayAnswer(AUTHORIZED,
        stored("Cache-Control", "max-age=60", "CDN-Cache-Control", "public, max-age=60")));
  }
}
