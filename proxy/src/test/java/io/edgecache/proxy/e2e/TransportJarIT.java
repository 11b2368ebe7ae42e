package io.edgecache.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code listen.transport} through the jar: on each transport by name, concurrent clients get
 * the origin's bytes for misses, coalesced misses, memory hits, disk hits of a body larger than a
 * chunk and pass-through requests, and the process says which transport it runs on. io_uring is
 * skipped where this kernel or process cannot run it.
 */
class TransportJarIT {
  private static final int CLIENTS = 24;
  private static final byte[] SMALL = body(1024, 11);
  private static final byte[] LARGE = body(3 * 1024 * 1024 + 17, 12);

  @TempDir
  Path dir;
  private CountingOrigin origin;
  private JarProxy proxy;

  @AfterEach
  void stop() throws Exception {
    JarProxy.closeAll(proxy, origin);
  }

  @ParameterizedTest
  @ValueSource(strings = {"io_uring", "epoll", "nio"})
  void namedTransport_servesMissesHitsDiskHitsAndPassThrough(String transport) throws Exception {
    if (transport.equals("io_uring")) {
      Assumptions.assumeTrue(io.netty.channel.uring.IoUring.isAvailable(), "io_uring is not available here");
    }
    origin = new CountingOrigin(r -> {
      switch (r.path()) {
        case "/small" -> r.response().putHeader("Cache-Control", "max-age=600").end(Buffer.buffer(SMALL));
        // answered late, so that the first clients' requests coalesce on one fetch
        case "/large" -> origin.vertx().setTimer(300, t -> r.response().putHeader("Cache-Control", "max-age=600")
            .end(Buffer.buffer(LARGE)));
        default -> r.response().putHeader("Cache-Control", "no-store").end(Buffer.buffer(SMALL));
      }
    });
    JsonObject config = new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("eventLoops", 2)
            .put("transport", transport))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "o").put("url", origin.url())
            .put("hosts", new JsonArray().add("*"))))
        // bodies above 64 KiB live on disk only: every hit of /large is a disk hit
        .put("memory", new JsonObject().put("maxBytes", "64MiB").put("maxObjectBytes", "64KiB")
            .put("fillBufferBytes", "32MiB"))
        .put("disk", new JsonObject().put("path", dir.resolve("cache").toString()).put("maxBytes", "256MiB")
            .put("indexMaxBytes", "16MiB"))
        .put("startup", new JsonObject().put("warmup", "0s"));
    proxy = JarProxy.start(dir, transport, config, List.of("-Xmx384m"));

    assertTrue(proxy.log().contains(" event loops on " + transport + ","), proxy.logTail());
    JsonObject status = new JsonObject(proxy.admin("GET", "/api/status", null).body());
    assertEquals(transport, status.getJsonObject("build").getString("transport"), status.encode());
    String info = proxy.admin("GET", "/metrics", null).body().lines()
        .filter(l -> l.startsWith("edgecache_build_info{")).findFirst().orElse("");
    assertTrue(info.contains("transport=\"" + transport + "\"") && info.matches(".* 1(\\.0)?"), info);

    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    for (int round = 0; round < 3; round++) {
      List<CompletableFuture<HttpResponse<byte[]>>> large = new ArrayList<>();
      List<CompletableFuture<HttpResponse<byte[]>>> small = new ArrayList<>();
      List<CompletableFuture<HttpResponse<byte[]>>> pass = new ArrayList<>();
      for (int i = 0; i < CLIENTS; i++) {
        large.add(get(http, "/large"));
        small.add(get(http, "/small"));
        pass.add(get(http, "/pass"));
      }
      for (CompletableFuture<HttpResponse<byte[]>> f : large) {
        HttpResponse<byte[]> r = f.get(60, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode());
        assertArrayEquals(LARGE, r.body(), "a /large body differs from the origin's");
      }
      for (CompletableFuture<HttpResponse<byte[]>> f : small) {
        HttpResponse<byte[]> r = f.get(60, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode());
        assertArrayEquals(SMALL, r.body(), "a /small body differs from the origin's");
      }
      for (CompletableFuture<HttpResponse<byte[]>> f : pass) {
        HttpResponse<byte[]> r = f.get(60, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode());
        assertArrayEquals(SMALL, r.body(), "a /pass body differs from the origin's");
      }
    }
    assertEquals(1, origin.count("GET", "/large"), "the concurrent misses of /large were not served by one fetch");
    assertEquals(1, origin.count("GET", "/small"), "/small was fetched more than once");
    assertEquals(3L * CLIENTS, origin.count("GET", "/pass"), "pass-through requests must all reach the origin");
  }

  /** Bytes that differ from position to position, so a misplaced or repeated chunk shows. */
  private static byte[] body(int size, int seed) {
    byte[] b = new byte[size];
    long x = seed;
    for (int i = 0; i < size; i++) {
      x = x * 6364136223846793005L + 1442695040888963407L;
      b[i] = (byte) (x >>> 56);
    }
    return b;
  }

  private CompletableFuture<HttpResponse<byte[]>> get(HttpClient http, String path) {
    return http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path))
        .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray());
  }
}
