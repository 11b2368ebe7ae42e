package io.edgecache.proxy.http;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away certificate authority made with the {@code openssl} command at test time: a CA, a
 * server certificate for {@code localhost} (SAN DNS:localhost and IP:127.0.0.1) and a client
 * certificate, all signed by the CA, as PEM files (keys in PKCS#8) in {@code dir}.
 */
record TestCertificates(Path ca, Path serverCert, Path serverKey, Path clientCert, Path clientKey) {

  static TestCertificates make(Path dir) throws IOException, InterruptedException {
    Path caKey = dir.resolve("ca.key");
    Path ca = dir.resolve("ca.pem");
    openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", caKey.toString(), "-out", ca.toString(), "-days", "2", "-subj", "/CN=edgecache test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    Path serverCert = issue(dir, ca, caKey, "server", "/CN=localhost", "DNS:localhost,IP:127.0.0.1");
    Path clientCert = issue(dir, ca, caKey, "client", "/CN=edgecache", null);
    return new TestCertificates(ca, serverCert, dir.resolve("server.key"), clientCert, dir.resolve("client.key"));
  }

  private static Path issue(Path dir, Path ca, Path caKey, String name, String subject, String san)
      throws IOException, InterruptedException {
    Path key = dir.resolve(name + ".key");
    Path csr = dir.resolve(name + ".csr");
    Path cert = dir.resolve(name + ".pem");
    if (san != null) {
      openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
          key.toString(), "-out", csr.toString(), "-subj", subject, "-addext", "subjectAltName=" + san);
    } else {
      openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
          key.toString(), "-out", csr.toString(), "-subj", subject);
    }
    openssl(dir, "x509", "-req", "-in", csr.toString(), "-CA", ca.toString(), "-CAkey", caKey.toString(),
        "-CAcreateserial", "-out", cert.toString(), "-days", "2", "-copy_extensions", "copyall");
    return cert;
  }

  private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
    List<String> cmd = new java.util.ArrayList<>();
    cmd.add("openssl");
    cmd.addAll(List.of(args));
    Path log = dir.resolve("openssl.log");
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("openssl " + String.join(" ", args) + " failed:\n" + Files.readString(log));
    }
  }
}
