package io.edgecache.proxy.tls;

import io.edgecache.proxy.config.ConfigException;
import io.edgecache.proxy.config.ProxyConfig;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PemKeyCertOptions;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Collection;
import java.util.Enumeration;

/**
 * A certificate chain and its private key, read from the PEM files of {@code listen.tls} and
 * checked before a listener is given them: the certificate file must hold at least one X.509
 * certificate (the leaf first, then intermediates), the key file one private key in a form Vert.x
 * reads (PKCS#8 {@code PRIVATE KEY}, PKCS#1 {@code RSA PRIVATE KEY}, SEC1 {@code EC PRIVATE KEY}),
 * and the key must belong to the leaf: a test signature made with the key is verified with the
 * leaf's public key. A pair that fails any check is refused with one line naming the
 * configuration key and the file, so that start-up stops and a reload keeps the running pair.
 *
 * <p>The bytes are kept and handed to Vert.x as values, not paths: what was checked is what is
 * served, even if the files change again in between. Immutable; {@link #load} does blocking file
 * I/O (call it off the event loop, or at start-up).
 */
public final class TlsMaterial {
  private static final byte[] PROBE = "edgecache certificate check".getBytes(StandardCharsets.US_ASCII);

  private final byte[] cert;
  private final byte[] key;
  private final X509Certificate leaf;

  private TlsMaterial(byte[] cert, byte[] key, X509Certificate leaf) {
    this.cert = cert;
    this.key = key;
    this.leaf = leaf;
  }

  /**
   * Reads and checks the pair named by {@code tls}.
   *
   * @param source the configuration file, for messages
   * @throws ConfigException one line: {@code <source>: listen.tls.certFile: <file>: <problem>}
   */
  public static TlsMaterial load(ProxyConfig.Tls tls, String source) {
    byte[] cert = read(source, "certFile", tls.certFile());
    byte[] key = read(source, "keyFile", tls.keyFile());
    return of(cert, key, tls, source);
  }

  /** Checks a pair already read; {@code tls} names the files in messages. */
  static TlsMaterial of(byte[] cert, byte[] key, ProxyConfig.Tls tls, String source) {
    X509Certificate leaf = leaf(cert, tls, source);
    PrivateKey privateKey = privateKey(cert, key, tls, source);
    String alg = signatureAlgorithm(privateKey);
    if (alg == null || !matches(alg, privateKey, leaf.getPublicKey())) {
      throw problem(source, "keyFile", tls.keyFile(), alg == null
          ? "unsupported key algorithm " + privateKey.getAlgorithm()
          : "this key does not belong to the first certificate of " + tls.certFile());
    }
    return new TlsMaterial(cert, key, leaf);
  }

  /** The pair as Vert.x key/certificate options (values, not paths). */
  public PemKeyCertOptions keyCertOptions() {
    return new PemKeyCertOptions().setCertValue(Buffer.buffer(cert)).setKeyValue(Buffer.buffer(key));
  }

  /** Whether this pair is exactly these bytes. */
  boolean same(byte[] otherCert, byte[] otherKey) {
    return Arrays.equals(cert, otherCert) && Arrays.equals(key, otherKey);
  }

  /** When the leaf certificate expires, as Unix seconds. */
  public long notAfterEpochSeconds() {
    return leaf.getNotAfter().toInstant().getEpochSecond();
  }

  /** One line for logs: the leaf's subject and expiry. */
  public String describe() {
    return leaf.getSubjectX500Principal().getName() + ", valid until " + leaf.getNotAfter().toInstant();
  }

  /** The bytes of {@code file}, or a one-line refusal naming {@code listen.tls.<key>}. */
  static byte[] read(String source, String key, String file) {
    try {
      return Files.readAllBytes(Path.of(file));
    } catch (NoSuchFileException e) {
      throw problem(source, key, file, "file not found");
    } catch (IOException | RuntimeException e) {
      throw problem(source, key, file, "cannot read: " + e.getMessage());
    }
  }

  private static X509Certificate leaf(byte[] cert, ProxyConfig.Tls tls, String source) {
    Collection<? extends Certificate> chain;
    try {
      chain = CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(cert));
    } catch (CertificateException | RuntimeException e) {
      throw problem(source, "certFile", tls.certFile(), "not a PEM certificate chain (" + firstLine(e) + ")");
    }
    if (chain.isEmpty() || !(chain.iterator().next() instanceof X509Certificate x)) {
      throw problem(source, "certFile", tls.certFile(), "no certificate found (expected -----BEGIN CERTIFICATE-----)");
    }
    return x;
  }

  /** The key as Vert.x will read it (its own PEM parser), so that what passes here also serves. */
  private static PrivateKey privateKey(byte[] cert, byte[] key, ProxyConfig.Tls tls, String source) {
    try {
      PemKeyCertOptions o = new PemKeyCertOptions().setCertValue(Buffer.buffer(cert)).setKeyValue(Buffer.buffer(key));
      KeyStore store = o.loadKeyStore(null); // values only: no file system needed
      javax.net.ssl.KeyManagerFactory kmf = o.getKeyManagerFactory(null);
      javax.net.ssl.X509KeyManager km = (javax.net.ssl.X509KeyManager) kmf.getKeyManagers()[0];
      for (Enumeration<String> aliases = store.aliases(); aliases.hasMoreElements(); ) {
        PrivateKey k = km.getPrivateKey(aliases.nextElement());
        if (k != null) {
          return k;
        }
      }
      throw new IllegalStateException("no private key found");
    } catch (Exception e) {
      throw problem(source, "keyFile", tls.keyFile(), "not a usable PEM private key (" + firstLine(e) + ")");
    }
  }

  private static String signatureAlgorithm(PrivateKey k) {
    return switch (k.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> null;
    };
  }

  private static boolean matches(String alg, PrivateKey privateKey, PublicKey publicKey) {
    try {
      Signature s = Signature.getInstance(alg);
      s.initSign(privateKey);
      s.update(PROBE);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(alg);
      v.initVerify(publicKey);
      v.update(PROBE);
      return v.verify(sig);
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  private static String firstLine(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null && c.getCause() != c && c.getMessage() == null) {
      c = c.getCause();
    }
    String m = c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  private static ConfigException problem(String source, String key, String file, String what) {
    return new ConfigException(source + ": listen.tls." + key + ": " + file + ": " + what);
  }
}
