package io.edgecache.proxy.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.tls.TestCerts;
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
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTPS and HTTP/2 through the real jar: one process serves plain HTTP and HTTPS from one cache,
 * an HTTP/2 hit costs the origin nothing more, {@code POST /reload} puts a renewed certificate on
 * new connections while an open one keeps working (SIGHUP too), and a broken pair stops start-up
 * with one line.
 */
class TlsJarIT {
  @TempDir
  Path dir;
  private CountingOrigin origin;
  private JarProxy proxy;
  private TestCerts.Pair served;

  @BeforeEach
  void originAndCertificate() throws Exception {
    origin = new CountingOrigin(r -> {
      r.response().putHeader("Cache-Control", "public, max-age=600");
      if (r.path().startsWith("/big/")) {
        r.response().end(io.vertx.core.buffer.Buffer.buffer(big(r.path())));
      } else {
        r.response().end("body of " + r.path());
      }
    });
    served = new TestCerts.Pair(dir.resolve("edge.crt"), dir.resolve("edge.key"));
    TestCerts.replace(served, TestCerts.create(dir, "first", "first.edge.test"));
  }

  @AfterEach
  void stop() throws Exception {
    JarProxy.closeAll(proxy, origin);
  }

  private JsonObject config() {
    return new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("eventLoops", 2)
            .put("tls", new JsonObject().put("port", 0).put("certFile", served.cert().toString())
                .put("keyFile", served.key().toString())))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "web").put("url", origin.url())
            .put("hosts", new JsonArray().add("*"))));
  }

  /** 3,000,000 bytes that differ per path: several disk reads of 64 KiB chunks. */
  private static byte[] big(String path) {
    byte[] b = new byte[3_000_000];
    new java.util.Random(path.hashCode()).nextBytes(b);
    return b;
  }

  private static HttpClient h2() {
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(TestCerts.trustAll())
        .connectTimeout(Duration.ofSeconds(5)).build();
  }

  private HttpResponse<String> get(HttpClient c, String scheme, int port, String path) throws Exception {
    return c.send(HttpRequest.newBuilder(URI.create(scheme + "://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String subject(HttpResponse<?> r) throws Exception {
    return TestCerts.subject(r.sslSession().orElseThrow().getPeerCertificates());
  }

  @Test
  void h2Hit_andPlainHttp_fromOneProcess() throws Exception {
    proxy = JarProxy.start(dir, "tls", config());
    assertTrue(proxy.tlsPort() > 0, proxy.logTail());
    HttpClient c = h2();
    HttpResponse<String> miss = get(c, "https", proxy.tlsPort(), "/page");
    HttpResponse<String> hit = get(c, "https", proxy.tlsPort(), "/page");
    assertEquals(HttpClient.Version.HTTP_2, hit.version());
    assertEquals("body of /page", hit.body());
    assertTrue(miss.headers().firstValue("cache-status").orElseThrow().contains("fwd=uri-miss"));
    assertTrue(hit.headers().firstValue("cache-status").orElseThrow().startsWith("edgecache; hit"));
    assertEquals(1, origin.count("GET", "/page"));
    HttpResponse<String> plain = get(HttpClient.newHttpClient(), "http", proxy.port(), "/plain");
    assertEquals("body of /plain", plain.body());
  }

  /**
   * Disk bodies over HTTP/2: chunks go out in DATA frames under flow control, so a chunk buffer is
   * released only when its frames were written or the stream was reset. Streams multiplexed on
   * one connection get every byte right, and streams the client cancels mid-body free theirs.
   *
   * <p>Each round is a new connection, with 8 streams fetching while 4 others are cancelled: the
   * socket fills and drains while streams are written and reset, which is when Netty's flow
   * controller could leave a stream marked unwritable for good ({@code StreamWritabilityCheck}).
   * Without that check about one connection in ten stalled until the idle timeout.
   */
  @Test
  void h2DiskHits_multiplexedAndCancelled_everyByteRightAndEveryChunkBufferFreed() throws Exception {
    JsonObject cfg = config()
        .put("memory", new JsonObject().put("maxBytes", "8MiB").put("maxObjectBytes", "64KiB"))
        .put("disk", new JsonObject().put("path", dir.resolve("cache").toString()).put("maxBytes", "256MiB")
            .put("chunkBytes", "64KiB"));
    proxy = JarProxy.start(dir, "h2-disk", cfg);
    String path = "/big/a.bin";
    URI uri = URI.create("https://127.0.0.1:" + proxy.tlsPort() + path);
    byte[] expected = big(path);
    HttpClient first = h2();
    await().atMost(Duration.ofSeconds(10)).until(() -> first.send(HttpRequest.newBuilder(uri).build(),
        HttpResponse.BodyHandlers.discarding()).headers().firstValue("Cache-Status").orElse("").contains("hit"));

    for (int round = 0; round < 60; round++) {
      HttpClient c = h2(); // a connection of its own
      List<java.util.concurrent.CompletableFuture<HttpResponse<byte[]>>> whole = new java.util.ArrayList<>();
      for (int i = 0; i < 8; i++) {
        whole.add(c.sendAsync(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofByteArray()));
      }
      for (int i = 0; i < 4; i++) { // read a little, then cancel the stream (RST_STREAM)
        java.util.concurrent.CompletableFuture<byte[]> head = c.sendAsync(HttpRequest.newBuilder(uri).build(),
            HttpResponse.BodyHandlers.ofInputStream()).thenApply(r -> {
              try (java.io.InputStream in = r.body()) {
                return in.readNBytes(5000);
              } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
        assertTrue(java.util.Arrays.equals(java.util.Arrays.copyOf(expected, 5000), head.get(15, TimeUnit.SECONDS)),
            "round " + round + ": the first bytes of a cancelled stream");
      }
      for (java.util.concurrent.CompletableFuture<HttpResponse<byte[]>> f : whole) {
        HttpResponse<byte[]> r = f.get(15, TimeUnit.SECONDS);
        assertEquals(HttpClient.Version.HTTP_2, r.version());
        assertTrue(java.util.Arrays.equals(expected, r.body()), "round " + round + ": bytes of a multiplexed disk hit");
        assertTrue(r.headers().firstValue("Cache-Status").orElse("").contains("hit"));
      }
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      String metrics = get(HttpClient.newHttpClient(), "http", proxy.adminPort(), "/metrics").body();
      return metrics.contains("\nedgecache_disk_chunk_buffers 0.0\n")
          && metrics.matches("(?s).*edgecache_served_bytes_total\\{source=\"disk\"} [1-9].*");
    });
    assertEquals(1, origin.count("GET", path), "one fill, every other request a disk hit");
  }

  @Test
  void warmup_drivesTheHttpsListenerToo_withoutAFailure() throws Exception {
    proxy = JarProxy.start(dir, "warm", config().put("startup", new JsonObject().put("warmup", "3s")));
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("start-up warm-up: (\\d+) requests .*\\((\\d+) failed")
        .matcher(proxy.log());
    assertTrue(m.find(), proxy.logTail());
    assertTrue(Long.parseLong(m.group(1)) > 0, m.group());
    assertEquals("0", m.group(2), m.group());
    assertEquals(HttpClient.Version.HTTP_2, get(h2(), "https", proxy.tlsPort(), "/after-warmup").version());
  }

  @Test
  void plainOff_servesHttpsAlone() throws Exception {
    JsonObject config = config();
    config.getJsonObject("listen").put("plain", false);
    proxy = JarProxy.start(dir, "https-only", config);
    assertEquals(proxy.port(), proxy.tlsPort(), proxy.logTail()); // the start-up line names the HTTPS port
    assertEquals("body of /only", get(h2(), "https", proxy.tlsPort(), "/only").body());
    assertTrue(proxy.log().contains("listening on https://127.0.0.1:" + proxy.tlsPort() + " (admin"), proxy.logTail());
  }

  @Test
  void reload_renewedCertificate_reachesNewConnectionsOnly() throws Exception {
    proxy = JarProxy.start(dir, "reload", config());
    HttpClient open = h2();
    assertEquals("CN=first.edge.test", subject(get(open, "https", proxy.tlsPort(), "/a")));
    TestCerts.replace(served, TestCerts.create(dir, "second", "second.edge.test"));
    HttpResponse<String> answer = proxy.admin("POST", "/reload", null);
    assertTrue(new JsonObject(answer.body()).getString("tls").startsWith("certificate reloaded (CN=second.edge.test"),
        answer.body());
    HttpResponse<String> still = get(open, "https", proxy.tlsPort(), "/a");
    assertEquals(200, still.statusCode());
    assertEquals("CN=first.edge.test", subject(still));
    assertEquals("CN=second.edge.test", subject(get(h2(), "https", proxy.tlsPort(), "/a")));
    assertTrue(proxy.log().contains("TLS certificate reloaded: CN=second.edge.test"), proxy.logTail());
  }

  @Test
  void sighup_renewedCertificate_isServed() throws Exception {
    proxy = JarProxy.start(dir, "hup", config());
    TestCerts.replace(served, TestCerts.create(dir, "third", "third.edge.test"));
    proxy.hangUp();
    await("the renewed certificate").atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200))
        .until(() -> subject(get(h2(), "https", proxy.tlsPort(), "/h")).equals("CN=third.edge.test"));
    assertTrue(proxy.log().contains("TLS certificate reloaded: CN=third.edge.test"), proxy.logTail());
  }

  @Test
  void start_keyOfAnotherCertificate_exitsWithOneLine() throws Exception {
    TestCerts.Pair other = TestCerts.create(dir, "other", "other.edge.test");
    Files.write(served.key(), Files.readAllBytes(other.key()));
    Path cfg = dir.resolve("broken.json");
    Files.writeString(cfg, config().encodePrettily());
    Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        JarProxy.jar().toString(), "--config", cfg.toString())).redirectErrorStream(false).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "still running");
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(1, p.exitValue(), err);
    assertEquals("edgecache: " + cfg + ": listen.tls.keyFile: " + served.key()
        + ": this key does not belong to the first certificate of " + served.cert() + "\n", err);
  }
}
