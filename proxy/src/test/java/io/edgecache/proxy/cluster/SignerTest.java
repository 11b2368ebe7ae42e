package io.edgecache.proxy.cluster;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SignerTest {
  private final Signer signer = new Signer("0123456789abcdef-token");

  @Test
  void verify_ownSignature_isAccepted() {
    assertTrue(signer.verify("purge|x", signer.sign("purge|x")));
  }

  @Test
  void verify_otherTokenOrOtherTextOrNothing_isRefused() {
    String sig = signer.sign("purge|x");
    assertFalse(new Signer("another-token-of-16+").verify("purge|x", sig));
    assertFalse(signer.verify("purge|y", sig));
    assertFalse(signer.verify("purge|x", null));
    assertFalse(signer.verify("purge|x", ""));
  }

  @Test
  void peerMark_fromThisTokenWithinTheWindow_isAccepted() {
    long now = 1_700_000_000_000L;
    assertTrue(signer.verifyPeerMark(signer.peerMark("node-a", now), now + 1000));
  }

  @Test
  void peerMark_expiredForgedOrMalformed_isRefused() {
    long now = 1_700_000_000_000L;
    String mark = signer.peerMark("node-a", now);
    assertFalse(signer.verifyPeerMark(mark, now + Signer.MARK_WINDOW_MS + 1), "too old");
    assertFalse(new Signer("another-token-of-16+").verifyPeerMark(mark, now), "other token");
    assertFalse(signer.verifyPeerMark(mark.replace("node-a", "node-b"), now), "id changed");
    assertFalse(signer.verifyPeerMark("node-a;x;sig", now));
    assertFalse(signer.verifyPeerMark("node-a", now));
    assertFalse(signer.verifyPeerMark(null, now));
  }
}
