package io.edgecache.proxy.purge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.purge.PurgeAuthorizer.Verdict;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class PurgeAuthorizerTest {
  private static final List<Cidr> LOOPBACK = List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("::1/128"));
  private static final String TOKEN = "s3cret-token";

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void check_noTokenConfiguredAndAddressAllowed_isAllowed() {
    PurgeAuthorizer a = new PurgeAuthorizer(LOOPBACK, null);
    assertEquals(Verdict.ALLOWED, a.check("127.0.0.1", null));
    assertEquals(Verdict.ALLOWED, a.check("::1", null));
    assertEquals(Verdict.ALLOWED, a.check("::ffff:127.0.0.1", null));
  }

  @Test
  void check_noTokenConfiguredAndAddressNotAllowed_isForbidden() {
    assertEquals(Verdict.FORBIDDEN, new PurgeAuthorizer(LOOPBACK, null).check("192.0.2.1", null));
  }

  @Test
  void check_noTokenConfiguredAndAnAuthorizationHeader_isDecidedByAddressOnly() {
    PurgeAuthorizer a = new PurgeAuthorizer(LOOPBACK, null);
    assertEquals(Verdict.ALLOWED, a.check("127.0.0.1", "Bearer anything"));
    assertEquals(Verdict.FORBIDDEN, a.check("192.0.2.1", "Bearer anything"));
  }

  @Test
  void check_emptyAllowListAndNoToken_isForbiddenForEveryone() {
    assertEquals(Verdict.FORBIDDEN, new PurgeAuthorizer(List.of(), null).check("127.0.0.1", null));
  }

  @Test
  void check_rightTokenFromOutsideTheAllowList_isAllowed() {
    PurgeAuthorizer a = new PurgeAuthorizer(LOOPBACK, TOKEN);
    assertEquals(Verdict.ALLOWED, a.check("192.0.2.1", "Bearer " + TOKEN));
  }

  @Test
  void check_rightTokenWithLowerCaseSchemeAndSpaces_isAllowed() {
    PurgeAuthorizer a = new PurgeAuthorizer(List.of(), TOKEN);
    assertEquals(Verdict.ALLOWED, a.check("192.0.2.1", "  bearer  " + TOKEN + " "));
  }

  @Test
  void check_wrongTokenFromOutsideTheAllowList_isUnauthorized() {
    PurgeAuthorizer a = new PurgeAuthorizer(LOOPBACK, TOKEN);
    assertEquals(Verdict.UNAUTHORIZED, a.check("192.0.2.1", "Bearer wrong"));
  }

  @Test
  void check_wrongTokenFromAnAllowedAddress_isUnauthorizedNotAllowedByAddress() {
    // A credential that is presented is checked: a wrong one is refused even from an allowed network.
    PurgeAuthorizer a = new PurgeAuthorizer(LOOPBACK, TOKEN);
    assertEquals(Verdict.UNAUTHORIZED, a.check("127.0.0.1", "Bearer wrong"));
    assertEquals(Verdict.UNAUTHORIZED, a.check("127.0.0.1", "Basic dXNlcjpwYXNz"));
  }

  @Test
  void check_missingTokenFromAnAllowedAddress_isAllowed() {
    assertEquals(Verdict.ALLOWED, new PurgeAuthorizer(LOOPBACK, TOKEN).check("127.0.0.1", null));
  }

  @Test
  void check_missingTokenFromOutsideTheAllowList_isUnauthorized() {
    // 401, not 403: a token is configured, so presenting it would have worked.
    assertEquals(Verdict.UNAUTHORIZED, new PurgeAuthorizer(LOOPBACK, TOKEN).check("192.0.2.1", null));
  }

  @Test
  void check_unknownClientAddress_isNotAllowedByAddress() {
    assertEquals(Verdict.FORBIDDEN, new PurgeAuthorizer(LOOPBACK, null).check("unknown", null));
    assertEquals(Verdict.UNAUTHORIZED, new PurgeAuthorizer(LOOPBACK, TOKEN).check("unknown", null));
  }

  @Test
  void tokenMatches_sameToken_isTrue() {
    assertTrue(PurgeAuthorizer.tokenMatches(bytes(TOKEN), "Bearer " + TOKEN));
  }

  @Test
  void tokenMatches_tokenDifferingInLengthOrOneByte_isFalse() {
    assertFalse(PurgeAuthorizer.tokenMatches(bytes(TOKEN), "Bearer " + TOKEN + "x"));
    assertFalse(PurgeAuthorizer.tokenMatches(bytes(TOKEN), "Bearer " + TOKEN.substring(1)));
    assertFalse(PurgeAuthorizer.tokenMatches(bytes(TOKEN), "Bearer s3cret-tokeN"));
    assertFalse(PurgeAuthorizer.tokenMatches(bytes(TOKEN), "Bearer "));
  }

  @Test
  void tokenMatches_otherSchemeOrNoScheme_isFalse() {
    assertFalse(PurgeAuthorizer.tokenMatches(bytes(TOKEN), TOKEN));
    assertFalse(PurgeAuthorizer.tokenMatches(bytes(TOKEN), "Basic " + TOKEN));
    assertFalse(PurgeAuthorizer.tokenMatches(bytes(TOKEN), "Bearer"));
    assertFalse(PurgeAuthorizer.tokenMatches(bytes(TOKEN), "BearerX" + TOKEN));
    assertFalse(PurgeAuthorizer.tokenMatches(bytes(TOKEN), ""));
  }

  @Test
  void tokenMatches_nonAsciiToken_comparesUtf8Bytes() {
    assertTrue(PurgeAuthorizer.tokenMatches(bytes("clé-€"), "Bearer clé-€"));
    assertFalse(PurgeAuthorizer.tokenMatches(bytes("clé-€"), "Bearer cle-€"));
  }
}
