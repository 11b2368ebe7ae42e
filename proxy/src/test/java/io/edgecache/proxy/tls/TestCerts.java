package io.edgecache.proxy.tls;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Certificates for tests, made by the {@code openssl} command line: a self-signed leaf for
 * {@code localhost} / 127.0.0.1 with an EC (P-256) key in PKCS#8, or an RSA key in PKCS#1
 * ({@code BEGIN RSA PRIVATE KEY}). Clients trust anything ({@link #trustAll}): the tests are about
 * which certificate is served, read from the session, not about the chain of trust.
 */
public final class TestCerts {
  private TestCerts() {}

  /** A certificate and key file pair written by {@link #create}. */
  public record Pair(Path cert, Path key) {}

  /** An EC certificate with subject {@code CN=<cn>} and its PKCS#8 key, in {@code dir/<name>.crt|.key}. */
  public static Pair create(Path dir, String name, String cn) throws IOException, InterruptedException {
    Pair p = new Pair(dir.resolve(name + ".crt"), dir.resolve(name + ".key"));
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", p.key().toString(), "-out", p.cert().toString(), "-days", "2", "-subj", "/CN=" + cn,
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1");
    return p;
  }

  /** An RSA certificate whose key file is PKCS#1 ({@code -----BEGIN RSA PRIVATE KEY-----}). */
  public static Pair createRsaPkcs1(Path dir, String name, String cn) throws IOException, InterruptedException {
    Pair p = new Pair(dir.resolve(name + ".crt"), dir.resolve(name + ".key"));
    run("openssl", "genrsa", "-traditional", "-out", p.key().toString(), "2048");
    run("openssl", "req", "-x509", "-key", p.key().toString(), "-out", p.cert().toString(), "-days", "2",
        "-subj", "/CN=" + cn);
    return p;
  }

  /** Copies {@code from}'s files over {@code to}'s (as a renewal tool would). */
  public static void replace(Pair to, Pair from) throws IOException {
    Files.write(to.cert(), Files.readAllBytes(from.cert()));
    Files.write(to.key(), Files.readAllBytes(from.key()));
  }

  private static void run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed: " + out);
    }
  }

  /** A client context that accepts any server certificate and any host name. */
  public static SSLContext trustAll() {
    try {
      SSLContext c = SSLContext.getInstance("TLS");
      c.init(null, new TrustManager[] {new TrustAll()}, new SecureRandom());
      return c;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The subject of the first certificate in {@code chain}. */
  public static String subject(java.security.cert.Certificate[] chain) {
    return ((X509Certificate) chain[0]).getSubjectX500Principal().getName();
  }

  private static final class TrustAll extends X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
