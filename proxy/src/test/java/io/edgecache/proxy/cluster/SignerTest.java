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
}
