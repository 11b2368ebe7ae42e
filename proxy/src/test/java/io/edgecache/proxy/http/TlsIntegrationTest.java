package io.edgecache.proxy.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.ProxyServer;
import io.edgecache.proxy.config.ConfigException;
import io.edgecache.proxy.config.ConfigLoader;
import io.edgecache.proxy.tls.TestCerts;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The HTTPS listener through real sockets with the JDK's HTTP/2 client: caching, coalescing,
 * PURGE and Cache-Status as on HTTP/1.1, ALPN falling back to HTTP/1.1, the stream limit,
 * connection-specific fields kept from HTTP/2 clients, certificate reloads that leave open
 * connections alone, TLS 1.1 refused, and the plain-HTTP redirect. Without {@code engine} the
 * listener takes the default ({@code "auto"}: OpenSSL where it loads, as on the build machines);
 * the engine-specific tests run with both.
 */
class TlsIntegrationTest extends ProxyHarness {
  @TempDir
  Path dir;
  private TestCerts.Pair served;
  private TestCerts.Pair a;
  private TestCerts.Pair b;

  @BeforeEach
  void certificates() throws Exception {
    a = TestCerts.create(dir, "a", "a.edge.test");
    b = TestCerts.create(dir, "b", "b.edge.test");
    served = new TestCerts.Pair(dir.resolve("served.crt"), dir.resolve("served.key"));
    TestCerts.replace(served, a);
  }

  private JsonObject tlsConfig(JsonObject tlsExtra) {
    JsonObject c = baseConfig();
    JsonObject tls = new JsonObject().put("port", 0).put("certFile", served.cert().toString())
        .put("keyFile", served.key().toString()).put("watchInterval", "0s");
    c.getJsonObject("listen").put("tls", tls.mergeIn(tlsExtra));
    return c;
  }

  /** Starts from a config file (so that POST /reload can read it again). */
  private void startFromFile(JsonObject config) throws Exception {
    Path file = dir.resolve("proxy.json");
    Files.writeString(file, config.encodePrettily());
    proxy = new ProxyServer(ConfigLoader.load(file));
    proxy.start().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  private static HttpClient client(HttpClient.Version version) {
    return HttpClient.newBuilder().version(version).sslContext(TestCerts.trustAll())
        .connectTimeout(Duration.ofSeconds(5)).build();
  }

  private HttpResponse<String> send(HttpClient c, String method, String path) throws Exception {
    HttpRequest r = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + proxy.tlsPort() + path))
        .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build();
    return c.send(r, HttpResponse.BodyHandlers.ofString());
  }

  private static String subject(HttpResponse<?> r) throws Exception {
    SSLSession s = r.sslSession().orElseThrow();
    return TestCerts.subject(s.getPeerCertificates());
  }

  private HttpResponse<String> adminPost(String path) throws Exception {
    HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminPort() + path))
        .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(20)).build();
    return HttpClient.newHttpClient().send(r, HttpResponse.BodyHandlers.ofString());
  }

  private void cacheable() {
    origin.handle(r -> r.response().putHeader("Cache-Control", "public, max-age=600").end("body of " + r.path()));
  }

  @Test
  void h2_missThenHit_sameCacheStatusAsHttp1AndOneOriginFetch() throws Exception {
    start(tlsConfig(new JsonObject()));
    cacheable();
    HttpClient h2 = client(HttpClient.Version.HTTP_2);
    HttpResponse<String> miss = send(h2, "GET", "/a");
    HttpResponse<String> hit = send(h2, "GET", "/a");
    assertEquals(HttpClient.Version.HTTP_2, miss.version());
    assertEquals(200, hit.statusCode());
    assertEquals("body of /a", hit.body());
    assertTrue(miss.headers().firstValue("cache-status").orElseThrow()
        .startsWith("edgecache; fwd=uri-miss; fwd-status=200; stored; ttl="), miss.headers().toString());
    assertTrue(hit.headers().firstValue("cache-status").orElseThrow().startsWith("edgecache; hit; ttl="),
        hit.headers().toString());
    assertEquals(1, origin.requests.get());
    assertEquals("https", origin.last().headers().get("X-Forwarded-Proto"));
    assertTrue(origin.last().headers().get("Via").startsWith("2 edgecache"), origin.last().headers().toString());
  }

  @Test
  void http11OverTls_whenTheClientOffersOnlyIt_isServedAndCached() throws Exception {
    start(tlsConfig(new JsonObject()));
    cacheable();
    HttpClient h1 = client(HttpClient.Version.HTTP_1_1);
    HttpResponse<String> miss = send(h1, "GET", "/h1");
    HttpResponse<String> hit = send(h1, "GET", "/h1");
    assertEquals(HttpClient.Version.HTTP_1_1, hit.version());
    assertTrue(hit.headers().firstValue("cache-status").orElseThrow().startsWith("edgecache; hit"));
    assertEquals(200, miss.statusCode());
    assertEquals(1, origin.requests.get());
  }

  @Test
  void h2_concurrentStreamsForOneUrl_shareOneOriginFetch() throws Exception {
    start(tlsConfig(new JsonObject()));
    Queue<HttpServerRequest> held = new ConcurrentLinkedQueue<>();
    origin.handle(r -> {
      if (r.path().equals("/warm")) {
        r.response().end("warm");
      } else {
        held.add(r); // answered once every stream is waiting
      }
    });
    HttpClient h2 = client(HttpClient.Version.HTTP_2);
    assertEquals(HttpClient.Version.HTTP_2, send(h2, "GET", "/warm").version()); // one connection, then streams on it
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      all.add(h2.sendAsync(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + proxy.tlsPort() + "/shared"))
          .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString()));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> held.size() == 1
        && proxy.registry().counter("edgecache.coalesced.waiters").count() >= 9);
    HttpServerRequest first = held.poll();
    origin.vertx().runOnContext(v -> first.response().putHeader("Cache-Control", "max-age=600").end("shared body"));
    int collapsed = 0;
    for (CompletableFuture<HttpResponse<String>> f : all) {
      HttpResponse<String> r = f.get(20, TimeUnit.SECONDS);
      assertEquals("shared body", r.body());
      collapsed += r.headers().firstValue("cache-status").orElse("").contains("collapsed") ? 1 : 0;
    }
    assertEquals(9, collapsed);
    assertEquals(2, origin.requests.get()); // /warm and one /shared
  }

  @Test
  void h2_purge_removesTheEntry() throws Exception {
    start(tlsConfig(new JsonObject()));
    cacheable();
    HttpClient h2 = client(HttpClient.Version.HTTP_2);
    send(h2, "GET", "/p");
    HttpResponse<String> purged = send(h2, "PURGE", "/p");
    assertEquals(200, purged.statusCode(), purged.body());
    assertEquals(HttpClient.Version.HTTP_2, purged.version());
    HttpResponse<String> again = send(h2, "GET", "/p");
    assertTrue(again.headers().firstValue("cache-status").orElseThrow().contains("fwd=uri-miss"));
    assertEquals(2, origin.requests.get());
  }

  @Test
  void h2_originConnectionFields_neverReachTheClient() throws Exception {
    start(tlsConfig(new JsonObject()));
    origin.handle(r -> r.response().setChunked(true).putHeader("Keep-Alive", "timeout=5")
        .putHeader("Connection", "keep-alive, x-private").putHeader("X-Private", "hop").end("chunked body"));
    HttpResponse<String> r = send(client(HttpClient.Version.HTTP_2), "GET", "/chunked");
    assertEquals("chunked body", r.body());
    for (String name : List.of("connection", "keep-alive", "transfer-encoding", "x-private")) {
      assertFalse(r.headers().firstValue(name).isPresent(), name + " in " + r.headers());
    }
  }

  @Test
  void h2_refusedRequest_endsItsStreamAndTheConnectionServesTheNext() throws Exception {
    JsonObject config = tlsConfig(new JsonObject());
    config.put("limits", new JsonObject().put("maxHeaderCount", 10));
    start(config);
    cacheable();
    HttpClient h2 = client(HttpClient.Version.HTTP_2);
    HttpRequest.Builder many = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + proxy.tlsPort() + "/many"));
    for (int i = 0; i < 20; i++) {
      many.header("X-Field-" + i, "v");
    }
    HttpResponse<String> refused = h2.send(many.build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(431, refused.statusCode());
    assertFalse(refused.headers().firstValue("connection").isPresent());
    HttpResponse<String> next = send(h2, "GET", "/after");
    assertEquals(200, next.statusCode());
    assertEquals(HttpClient.Version.HTTP_2, next.version());
  }

  @Test
  void h2_largeBodies_rangesHeadAndConditionals_behaveAsOnHttp1() throws Exception {
    start(tlsConfig(new JsonObject()));
    byte[] big = new byte[900 * 1024]; // stored in memory, delivered in slices through the stream's flow control
    byte[] huge = new byte[3 * 1024 * 1024]; // above memory.maxObjectBytes: streamed through, not stored
    for (int i = 0; i < huge.length; i++) {
      huge[i] = (byte) (i * 31);
      if (i < big.length) {
        big[i] = (byte) (i * 7);
      }
    }
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=600").putHeader("ETag", "\"v1\"")
        .end(Buffer.buffer(r.path().equals("/big") ? big : huge)));
    HttpClient h2 = client(HttpClient.Version.HTTP_2);
    URI bigUri = URI.create("https://127.0.0.1:" + proxy.tlsPort() + "/big");
    List<CompletableFuture<HttpResponse<byte[]>>> many = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      many.add(h2.sendAsync(HttpRequest.newBuilder(bigUri).build(), HttpResponse.BodyHandlers.ofByteArray()));
      many.add(h2.sendAsync(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + proxy.tlsPort() + "/huge")).build(),
          HttpResponse.BodyHandlers.ofByteArray()));
    }
    for (int i = 0; i < many.size(); i++) {
      assertTrue(Arrays.equals(i % 2 == 0 ? big : huge, many.get(i).get(30, TimeUnit.SECONDS).body()),
          "body " + i);
    }
    HttpResponse<byte[]> hit = h2.send(HttpRequest.newBuilder(bigUri).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertTrue(hit.headers().firstValue("cache-status").orElseThrow().startsWith("edgecache; hit"));
    assertTrue(Arrays.equals(big, hit.body()));
    HttpResponse<byte[]> range = h2.send(HttpRequest.newBuilder(bigUri).header("Range", "bytes=10-19").build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(206, range.statusCode());
    assertTrue(Arrays.equals(Arrays.copyOfRange(big, 10, 20), range.body()));
    HttpResponse<String> notModified = h2.send(HttpRequest.newBuilder(bigUri).header("If-None-Match", "\"v1\"").build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(304, notModified.statusCode());
    HttpResponse<String> head = send(h2, "HEAD", "/big");
    assertEquals(200, head.statusCode());
    assertEquals("", head.body());
    assertEquals(String.valueOf(big.length), head.headers().firstValue("content-length").orElseThrow());
  }

  @Test
  void h2_originUnreachable_answers502OnTheStream() throws Exception {
    JsonObject config = tlsConfig(new JsonObject());
    config.put("origins", new JsonArray().add(new JsonObject().put("name", "down").put("url", "http://127.0.0.1:1")
        .put("hosts", new JsonArray().add("*"))));
    start(config);
    HttpResponse<String> r = send(client(HttpClient.Version.HTTP_2), "GET", "/down");
    assertEquals(502, r.statusCode());
    assertTrue(r.headers().firstValue("cache-status").orElseThrow().contains("origin-unreachable"), r.headers().toString());
  }

  @Test
  void h2_headerSection_isBoundedByLimitsMaxHeaderBytesAsOnHttp1() throws Exception {
    JsonObject config = tlsConfig(new JsonObject());
    config.put("limits", new JsonObject().put("maxHeaderBytes", 4096)); // HTTP/2's own default would be 8192
    start(config);
    cacheable();
    HttpClient h2 = client(HttpClient.Version.HTTP_2);
    HttpResponse<String> small = h2.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + proxy.tlsPort() + "/hb"))
        .header("X-Big", "x".repeat(3 * 1024)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, small.statusCode());
    int tooBig;
    try {
      tooBig = h2.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + proxy.tlsPort() + "/hb2"))
          .header("X-Big", "x".repeat(6 * 1024)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    } catch (java.io.IOException e) {
      tooBig = -1; // the stream reset
    }
    assertTrue(tooBig == 431 || tooBig == -1, "status " + tooBig);
    assertEquals(1, origin.requests.get());
  }

  @Test
  void h2_streamStillSending_keepsTheConnectionPastIdleTimeoutAfterAnotherStreamEnded() throws Exception {
    JsonObject config = tlsConfig(new JsonObject());
    config.put("limits", new JsonObject().put("idleTimeout", "1s").put("headerTimeout", "1s"));
    start(config);
    origin.handle(r -> {
      if (r.path().equals("/quick")) {
        r.response().end("quick");
        return;
      }
      r.response().setChunked(true).putHeader("Cache-Control", "no-store");
      int[] left = {12}; // a chunk every 200 ms: 2.4 s of a body that keeps moving
      origin.vertx().setPeriodic(200, id -> {
        r.response().write("chunk;");
        if (--left[0] == 0) {
          origin.vertx().cancelTimer(id);
          r.response().end();
        }
      });
    });
    HttpClient h2 = client(HttpClient.Version.HTTP_2);
    CompletableFuture<HttpResponse<String>> slow = h2.sendAsync(HttpRequest.newBuilder(
        URI.create("https://127.0.0.1:" + proxy.tlsPort() + "/drip")).build(), HttpResponse.BodyHandlers.ofString());
    await().atMost(Duration.ofSeconds(5)).until(() -> origin.requests.get() == 1);
    assertEquals("quick", send(h2, "GET", "/quick").body()); // ends while /drip is still open on the connection
    assertEquals("chunk;".repeat(12), slow.get(20, TimeUnit.SECONDS).body());
  }

  @Test
  void h2_settings_announceTheStreamLimit() throws Exception {
    start(tlsConfig(new JsonObject().put("maxConcurrentStreams", 7)));
    io.vertx.core.http.HttpClient vc = originVertx.createHttpClient(new HttpClientOptions().setSsl(true)
        .setUseAlpn(true).setTrustAll(true).setVerifyHost(false).setProtocolVersion(HttpVersion.HTTP_2));
    HttpConnection conn = vc.request(HttpMethod.GET, proxy.tlsPort(), "127.0.0.1", "/s")
        .compose(HttpClientRequest::send)
        .map(resp -> resp.request().connection())
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(7, conn.remoteSettings().getMaxConcurrentStreams());
    assertEquals(16384, conn.remoteSettings().getMaxHeaderListSize()); // limits.maxHeaderBytes
    vc.close();
  }

  @Test
  void reload_newCertificate_newConnectionsGetItOpenOnesKeepWorking() throws Exception {
    startFromFile(tlsConfig(new JsonObject()));
    cacheable();
    HttpClient before = client(HttpClient.Version.HTTP_2);
    assertEquals("CN=a.edge.test", subject(send(before, "GET", "/r")));
    double aExpiry = proxy.registry().get("edgecache.tls.certificate.not.after").gauge().value();
    assertTrue(aExpiry > System.currentTimeMillis() / 1000.0, "notAfter " + aExpiry);
    TestCerts.replace(served, b);
    HttpResponse<String> answer = adminPost("/reload");
    assertEquals(200, answer.statusCode());
    assertTrue(new JsonObject(answer.body()).getString("tls").startsWith("certificate reloaded (CN=b.edge.test"),
        answer.body());
    HttpResponse<String> old = send(before, "GET", "/r");
    assertEquals(200, old.statusCode());
    assertEquals("CN=a.edge.test", subject(old)); // the same connection, still open
    assertEquals("CN=b.edge.test", subject(send(client(HttpClient.Version.HTTP_2), "GET", "/r")));
    assertEquals(1, proxy.registry().get("edgecache.tls.certificate.reloads").tag("result", "reloaded").functionCounter()
        .count());
    assertTrue(proxy.registry().scrape().contains("edgecache_tls_certificate_not_after_seconds "), "scrape");
  }

  @ParameterizedTest
  @ValueSource(strings = {"jdk", "openssl"})
  void eachEngine_servesH2HitsAndTakesAReloadedCertificate(String engine) throws Exception {
    startFromFile(tlsConfig(new JsonObject().put("engine", engine)));
    cacheable();
    HttpClient before = client(HttpClient.Version.HTTP_2);
    send(before, "GET", "/o");
    HttpResponse<String> hit = send(before, "GET", "/o");
    assertEquals(HttpClient.Version.HTTP_2, hit.version());
    assertTrue(hit.headers().firstValue("cache-status").orElseThrow().startsWith("edgecache; hit"));
    assertEquals("CN=a.edge.test", subject(hit));
    TestCerts.replace(served, b);
    assertTrue(new JsonObject(adminPost("/reload").body()).getString("tls").startsWith("certificate reloaded"));
    assertEquals("CN=a.edge.test", subject(send(before, "GET", "/o")));
    assertEquals("CN=b.edge.test", subject(send(client(HttpClient.Version.HTTP_2), "GET", "/o")));
  }

  @Test
  void reload_brokenNewKey_keepsServingTheOldPairAndSaysSo() throws Exception {
    startFromFile(tlsConfig(new JsonObject()));
    Files.write(served.cert(), Files.readAllBytes(b.cert())); // new certificate, old key: a half-done renewal
    HttpResponse<String> answer = adminPost("/reload");
    String tls = new JsonObject(answer.body()).getString("tls");
    assertTrue(tls.startsWith("kept the previous certificate: " + dir.resolve("proxy.json") + ": listen.tls.keyFile: "
        + served.key() + ": this key does not belong"), tls);
    assertEquals("CN=a.edge.test", subject(send(client(HttpClient.Version.HTTP_2), "GET", "/k")));
    assertEquals(1, proxy.registry().get("edgecache.tls.certificate.reloads").tag("result", "kept").functionCounter()
        .count());
  }

  @Test
  void watcher_changedFiles_areServedWithoutAReload() throws Exception {
    start(tlsConfig(new JsonObject().put("watchInterval", "1s")));
    assertEquals("CN=a.edge.test", subject(send(client(HttpClient.Version.HTTP_2), "GET", "/w")));
    TestCerts.replace(served, b);
    await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200)).until(
        () -> subject(send(client(HttpClient.Version.HTTP_2), "GET", "/w")).equals("CN=b.edge.test"));
  }

  @Test
  void start_brokenCertificate_failsWithOneLineNamingTheKeyAndFile() throws Exception {
    Files.writeString(served.cert(), "not a certificate\n");
    Exception e = assertThrows(Exception.class, () -> start(tlsConfig(new JsonObject())));
    Throwable c = e.getCause();
    assertTrue(c instanceof ConfigException, String.valueOf(c));
    assertTrue(c.getMessage().startsWith("test.json: listen.tls.certFile: " + served.cert() + ": "), c.getMessage());
    proxy = null;
  }

  @ParameterizedTest
  @ValueSource(strings = {"jdk", "openssl"})
  void tls11_isRefusedWhileTls12IsServed(String engine) throws Exception {
    start(tlsConfig(new JsonObject().put("engine", engine)));
    String connect = "127.0.0.1:" + proxy.tlsPort();
    Process ok = new ProcessBuilder("openssl", "s_client", "-connect", connect, "-tls1_2").redirectErrorStream(true).start();
    ok.getOutputStream().close();
    String okOut = new String(ok.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(ok.waitFor(20, TimeUnit.SECONDS));
    assertTrue(okOut.contains("Protocol  : TLSv1.2") || okOut.contains("TLSv1.2"), okOut);
    Process old = new ProcessBuilder("openssl", "s_client", "-connect", connect, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
        .redirectErrorStream(true).start();
    old.getOutputStream().close();
    String oldOut = new String(old.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(old.waitFor(20, TimeUnit.SECONDS));
    assertNotEquals(0, old.exitValue(), oldOut);
    // how the refusal reads depends on the engine and on which side gives up first: a protocol_version
    // alert, no common protocol, or (the JDK engine at times) an alert in a TLS 1.2 record
    assertTrue(oldOut.contains("alert protocol version") || oldOut.contains("unsupported protocol")
        || oldOut.contains("wrong version number"), oldOut);
    assertTrue(oldOut.contains("Cipher is (NONE)"), "no session was set up: " + oldOut);
  }

  @Test
  void redirectHttps_plainRequestsGetTheHttpsUrl() throws Exception {
    JsonObject config = tlsConfig(new JsonObject());
    config.put("origins", new JsonArray().add(new JsonObject().put("name", "test").put("url", origin.url())
        .put("hosts", new JsonArray().add("edge.test")).put("redirectHttps", true)));
    start(config);
    io.vertx.core.http.HttpClient plain = originVertx.createHttpClient();
    int get = plainStatus(plain, HttpMethod.GET, "/x?y=1");
    assertEquals(301, get);
    assertEquals("https://edge.test:" + proxy.tlsPort() + "/x?y=1", lastLocation);
    assertEquals(308, plainStatus(plain, HttpMethod.POST, "/form"));
    assertEquals(0, origin.requests.get());
    plain.close();
  }

  private volatile String lastLocation;

  private int plainStatus(io.vertx.core.http.HttpClient c, HttpMethod m, String uri) throws Exception {
    return c.request(m, proxy.port(), "127.0.0.1", uri)
        .compose(req -> req.putHeader("Host", "edge.test").send())
        .compose(resp -> {
          lastLocation = resp.getHeader("Location");
          return resp.body().map(body -> resp.statusCode());
        })
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
