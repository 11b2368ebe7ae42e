package io.edgecache.proxy.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * https:// origins: a Vert.x HTTPS origin with a certificate from a CA made for the test. The
 * certificate is verified by default (against the JVM's trust store unless {@code tls.caFile}),
 * SNI names the server as configured while Host stays the client's, and a client certificate is
 * presented when configured.
 */
class HttpsOriginIntegrationTest extends ProxyHarness {
  @TempDir
  Path dir;
  private TestCertificates certs;
  private HttpServer https;
  private final List<String> seen = new CopyOnWriteArrayList<>();
  private final AtomicInteger connections = new AtomicInteger();

  @BeforeEach
  void makeCertificates() throws Exception {
    certs = TestCertificates.make(dir);
  }

  @AfterEach
  void stopHttps() throws Exception {
    if (https != null) {
      https.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** An HTTPS origin on loopback recording "sni|every Host field|client certificate subject|path" per request. */
  private void startHttpsOrigin(boolean requireClientCertificate) throws Exception {
    HttpServerOptions o = new HttpServerOptions().setSsl(true).setSni(true)
        .setKeyCertOptions(new PemKeyCertOptions().setCertPath(certs.serverCert().toString())
            .setKeyPath(certs.serverKey().toString()));
    if (requireClientCertificate) {
      o.setClientAuth(ClientAuth.REQUIRED).setTrustOptions(new PemTrustOptions().addCertPath(certs.ca().toString()));
    }
    https = originVertx.createHttpServer(o).connectionHandler(c -> connections.incrementAndGet()).requestHandler(r -> {
      String subject = "-";
      try {
        if (requireClientCertificate) {
          subject = ((X509Certificate) r.connection().sslSession().getPeerCertificates()[0])
              .getSubjectX500Principal().getName();
        }
      } catch (Exception e) {
        subject = e.toString();
      }
      seen.add(r.connection().indicatedServerName() + "|" + String.join(",", r.headers().getAll("Host")) + "|" + subject
          + "|" + r.path());
      r.response().putHeader("Cache-Control", "no-store").end("secure");
    });
    https.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private void startProxy(JsonObject tls) throws Exception {
    JsonObject o = new JsonObject().put("name", "secure")
        .put("servers", new JsonArray().add("https://localhost:" + https.actualPort()))
        .put("hosts", new JsonArray().add("*"));
    if (tls != null) {
      o.put("tls", tls);
    }
    start(baseConfig().put("origins", new JsonArray().add(o)));
  }

  @Test
  void get_certificateFromTheConfiguredCa_isAcceptedWithSniOfTheServerAndTheClientsHost() throws Exception {
    startHttpsOrigin(false);
    startProxy(new JsonObject().put("caFile", certs.ca().toString()));
    for (int i = 0; i < 6; i++) {
      RawHttp.Response r = RawHttp.get(port(), "/s" + i);
      assertEquals(200, r.status(), r.text());
      assertEquals("secure", r.text());
    }
    assertEquals("localhost|edge.test|-|/s0", seen.get(0));
    assertTrue(connections.get() <= 2, "kept-alive connections, at most one per event loop: " + connections.get());
  }

  @Test
  void get_certificateFromAnUnknownCa_isRefusedByDefault() throws Exception {
    startHttpsOrigin(false);
    startProxy(null);
    RawHttp.Response r = RawHttp.get(port(), "/s");
    assertEquals(502, r.status());
    assertTrue(seen.isEmpty(), "nothing reached the origin");
  }

  @Test
  void get_verifyFalse_acceptsAnyCertificate() throws Exception {
    startHttpsOrigin(false);
    startProxy(new JsonObject().put("verify", false));
    assertEquals(200, RawHttp.get(port(), "/s").status());
  }

  @Test
  void get_originRequiringAClientCertificate_getsTheConfiguredOne() throws Exception {
    startHttpsOrigin(true);
    startProxy(new JsonObject().put("caFile", certs.ca().toString()).put("certFile", certs.clientCert().toString())
        .put("keyFile", certs.clientKey().toString()));
    RawHttp.Response r = RawHttp.get(port(), "/s");
    assertEquals(200, r.status(), r.text());
    assertEquals("localhost|edge.test|CN=edgecache|/s", seen.get(0));
  }

  @Test
  void healthCheck_httpsServer_isProbedWithThePoolsTls() throws Exception {
    startHttpsOrigin(false);
    JsonObject o = new JsonObject().put("name", "secure")
        .put("servers", new JsonArray().add("https://localhost:" + https.actualPort()))
        .put("hosts", new JsonArray().add("*"))
        .put("tls", new JsonObject().put("caFile", certs.ca().toString()))
        .put("healthCheck", new JsonObject().put("path", "/healthz").put("interval", "100ms"));
    start(baseConfig().put("origins", new JsonArray().add(o)));
    await().atMost(Duration.ofSeconds(10)).until(() -> seen.stream().anyMatch(s -> s.equals("localhost|localhost:"
        + https.actualPort() + "|-|/healthz")));
    JsonObject server = new JsonObject(RawHttp.get(proxy.adminPort(), "/origins").text()).getJsonArray("origins")
        .getJsonObject(0).getJsonArray("servers").getJsonObject(0);
    assertEquals("up", server.getString("state"));
  }
}
