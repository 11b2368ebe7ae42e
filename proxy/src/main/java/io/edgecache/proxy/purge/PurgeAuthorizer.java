package io.edgecache.proxy.purge;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;

/**
 * Decides whether a purge may run: a request carrying {@code Authorization: Bearer <token>} with
 * the configured token is accepted from anywhere; otherwise the client address must lie in one of
 * the allowed networks. Token comparison takes constant time.
 */
public final class PurgeAuthorizer {
  /** The outcome, mapped to an HTTP status by the caller (200 / 401 / 403). */
  public enum Verdict { ALLOWED, UNAUTHORIZED, FORBIDDEN }

  private final List<Cidr> allow;
  private final byte[] token;

  public PurgeAuthorizer(List<Cidr> allow, String token) {
    this.allow = List.copyOf(allow);
    this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
  }

  public Verdict check(String clientAddress, String authorization) {
    if (token != null && authorization != null) {
      return tokenMatches(token, authorization) ? Verdict.ALLOWED : Verdict.UNAUTHORIZED;
    }
    for (Cidr c : allow) {
      if (c.contains(clientAddress)) {
        return Verdict.ALLOWED;
      }
    }
    return token != null ? Verdict.UNAUTHORIZED : Verdict.FORBIDDEN;
  }

  /** Constant-time comparison of {@code Bearer <token>} against the expected token. */
  public static boolean tokenMatches(byte[] expected, String authorization) {
    String a = authorization.trim();
    if (!a.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    byte[] given = a.substring(7).trim().getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(sha256(expected), sha256(given));
  }

  private static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
