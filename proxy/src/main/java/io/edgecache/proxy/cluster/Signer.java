package io.edgecache.proxy.cluster;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HMAC-SHA256 with the cluster token: what proves membership and authorises a purge, since
 * open-source Hazelcast cannot authenticate members itself. Thread-safe (a {@link Mac} per call).
 */
final class Signer {
  private final SecretKeySpec key;

  Signer(String token) {
    this.key = new SecretKeySpec(token.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
  }

  /** The signature of {@code text}, base64url without padding. */
  String sign(String text) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  /** Whether {@code signature} is this token's signature of {@code text} (constant time). */
  boolean verify(String text, String signature) {
    if (signature == null) {
      return false;
    }
    return MessageDigest.isEqual(sign(text).getBytes(StandardCharsets.US_ASCII),
        signature.getBytes(StandardCharsets.US_ASCII));
  }
}
