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

  /** A peer-fill mark older (or newer) than this is refused. */
  static final long MARK_WINDOW_MS = 5 * 60_000;

  /** The {@code Edgecache-Peer} value member {@code self} sends at {@code nowMs}: {@code id;time;signature}. */
  String peerMark(String self, long nowMs) {
    String at = Long.toString(nowMs);
    return self + ";" + at + ";" + sign("peer|" + self + "|" + at);
  }

  /** Whether {@code value} is a mark made with this token within {@link #MARK_WINDOW_MS} of {@code nowMs}. */
  boolean verifyPeerMark(String value, long nowMs) {
    if (value == null) {
      return false;
    }
    String[] parts = value.trim().split(";");
    if (parts.length != 3) {
      return false;
    }
    try {
      if (Math.abs(nowMs - Long.parseLong(parts[1])) > MARK_WINDOW_MS) {
        return false;
      }
    } catch (NumberFormatException e) {
      return false;
    }
    return verify("peer|" + parts[0] + "|" + parts[1], parts[2]);
  }
}
