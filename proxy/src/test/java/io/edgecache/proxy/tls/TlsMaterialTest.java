package io.edgecache.proxy.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.config.ConfigException;
import io.edgecache.proxy.config.ProxyConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsMaterialTest {
  @TempDir
  static Path dir;
  private static TestCerts.Pair a;
  private static TestCerts.Pair b;

  @BeforeAll
  static void certificates() throws Exception {
    a = TestCerts.create(dir, "a", "a.edge.test");
    b = TestCerts.create(dir, "b", "b.edge.test");
  }

  private static ProxyConfig.Tls tls(Path cert, Path key) {
    return new ProxyConfig.Tls(0, cert.toString(), key.toString(), List.of("TLSv1.2", "TLSv1.3"), true, 128, 0,
        ProxyConfig.Tls.Engine.JDK);
  }

  @Test
  void load_matchingEcPair_describesTheLeaf() {
    TlsMaterial m = TlsMaterial.load(tls(a.cert(), a.key()), "p.json");
    assertTrue(m.describe().startsWith("CN=a.edge.test, valid until "), m.describe());
  }

  @Test
  void load_rsaKeyInPkcs1_isAccepted() throws Exception {
    TestCerts.Pair rsa = TestCerts.createRsaPkcs1(dir, "rsa", "rsa.edge.test");
    assertTrue(Files.readString(rsa.key()).contains("BEGIN RSA PRIVATE KEY"));
    assertTrue(TlsMaterial.load(tls(rsa.cert(), rsa.key()), "p.json").describe().startsWith("CN=rsa.edge.test"));
  }

  @Test
  void load_keyOfAnotherCertificate_namesKeyFileAndCertFile() {
    ConfigException e = assertThrows(ConfigException.class, () -> TlsMaterial.load(tls(a.cert(), b.key()), "p.json"));
    assertEquals("p.json: listen.tls.keyFile: " + b.key() + ": this key does not belong to the first certificate of "
        + a.cert(), e.getMessage());
  }

  @Test
  void load_garbageCertificate_namesCertFile() throws Exception {
    Path bad = dir.resolve("garbage.crt");
    Files.writeString(bad, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
    ConfigException e = assertThrows(ConfigException.class, () -> TlsMaterial.load(tls(bad, a.key()), "p.json"));
    assertTrue(e.getMessage().startsWith("p.json: listen.tls.certFile: " + bad + ": not a PEM certificate chain"),
        e.getMessage());
    assertEquals(-1, e.getMessage().indexOf('\n'));
  }

  @Test
  void load_keyFileHoldingACertificate_namesKeyFile() {
    ConfigException e = assertThrows(ConfigException.class, () -> TlsMaterial.load(tls(a.cert(), a.cert()), "p.json"));
    assertTrue(e.getMessage().startsWith("p.json: listen.tls.keyFile: " + a.cert() + ": not a usable PEM private key"),
        e.getMessage());
  }

  @Test
  void load_missingFile_saysFileNotFound() {
    Path none = dir.resolve("none.key");
    ConfigException e = assertThrows(ConfigException.class, () -> TlsMaterial.load(tls(a.cert(), none), "p.json"));
    assertEquals("p.json: listen.tls.keyFile: " + none + ": file not found", e.getMessage());
  }

  @Test
  void same_comparesBytes() throws Exception {
    TlsMaterial m = TlsMaterial.load(tls(a.cert(), a.key()), "p.json");
    assertTrue(m.same(Files.readAllBytes(a.cert()), Files.readAllBytes(a.key())));
    assertTrue(!m.same(Files.readAllBytes(b.cert()), Files.readAllBytes(a.key())));
  }
}
