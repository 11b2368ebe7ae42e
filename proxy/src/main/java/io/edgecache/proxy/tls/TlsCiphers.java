package io.edgecache.proxy.tls;

import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * The cipher suites the HTTPS listener offers: the JDK's defaults, in the JDK's order, minus
 * everything without forward secrecy or without an AEAD cipher. What remains is the TLS 1.3 suites
 * ({@code TLS_AES_*}, {@code TLS_CHACHA20_POLY1305_SHA256}) and, for TLS 1.2, ECDHE key exchange
 * with AES-GCM or ChaCha20-Poly1305 (ECDSA or RSA certificates), the shape of Mozilla's
 * "intermediate" profile. This also keeps HTTP/2 clean: RFC 9113 9.2.2 lets a client refuse a
 * connection that negotiated a TLS 1.2 suite from the block list (CBC, static RSA, DHE).
 *
 * <p>Pure functions; thread-safe.
 */
public final class TlsCiphers {
  private TlsCiphers() {}

  /** {@link #strong} of the running JDK's default server suites. */
  public static List<String> defaults() {
    try {
      return strong(SSLContext.getDefault().getDefaultSSLParameters().getCipherSuites());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no default TLS context", e);
    }
  }

  /** The suites of {@code jdkSuites} (in their order) that have forward secrecy and an AEAD cipher. */
  public static List<String> strong(String[] jdkSuites) {
    List<String> out = new ArrayList<>();
    for (String s : jdkSuites) {
      if (strong(s)) {
        out.add(s);
      }
    }
    return out;
  }

  static boolean strong(String suite) {
    boolean tls13 = suite.startsWith("TLS_AES_") || suite.equals("TLS_CHACHA20_POLY1305_SHA256");
    boolean aead = suite.contains("_GCM_") || suite.contains("_CHACHA20_POLY1305_");
    return tls13 || (suite.startsWith("TLS_ECDHE_") && aead);
  }
}
