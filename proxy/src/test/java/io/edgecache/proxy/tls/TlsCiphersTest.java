package io.edgecache.proxy.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class TlsCiphersTest {
  @Test
  void strong_keepsTls13AndEcdheAeadInOrder() {
    String[] jdk = {
        "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"};
    assertEquals(List.of("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"), TlsCiphers.strong(jdk));
  }

  @Test
  void defaults_ofThisJdk_haveTls13AndEcdheGcmButNoCbcOrStaticRsa() {
    List<String> d = TlsCiphers.defaults();
    assertTrue(d.contains("TLS_AES_128_GCM_SHA256"), d.toString());
    assertTrue(d.contains("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), d.toString());
    assertFalse(d.stream().anyMatch(s -> s.contains("_CBC_") || s.startsWith("TLS_RSA_")), d.toString());
  }
}
