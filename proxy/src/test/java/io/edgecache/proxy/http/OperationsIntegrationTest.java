package io.edgecache.proxy.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.ProxyServer;
import io.edgecache.proxy.config.ConfigLoader;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Metrics, reload and graceful shutdown, through real sockets. */
class OperationsIntegrationTest extends ProxyHarness {
  @TempDir
  Path dir;

  private String adminGet(String path) throws Exception {
    return HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  private HttpResponse<String> adminPost(String path) throws Exception {
    return HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminPort() + path))
            .POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The value of one Prometheus sample (name with its labels, as scraped), or 0 when it is not there yet. */
  private static double sample(String scrape, String nameAndLabels) {
    for (String line : scrape.split("\n")) {
      if (line.startsWith(nameAndLabels + " ")) {
        return Double.parseDouble(line.substring(nameAndLabels.length() + 1).trim());
      }
    }
    return 0;
  }

  private static final String HITS = "edgecache_requests_total{method=\"get\",outcome=\"hit\",status=\"2xx\"}";
  private static final String MISSES = "edgecache_requests_total{method=\"get\",outcome=\"miss\",status=\"2xx\"}";
  private static final String MEMORY_BYTES = "edgecache_served_bytes_total{source=\"memory\"}";

  @Test
  void metrics_afterTraffic_exposeEveryFamilyWithSaneValues() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=60").end("0123456789"));
    start();
    // edge.test: one miss, then two hits
    RawHttp.get(port(), "/m");
    RawHttp.get(port(), "/m");
    RawHttp.get(port(), "/m");
    // a request is counted as it completes, which can be just after the client has read the response
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      String scrape = adminGet("/metrics");
      assertEquals(2.0, sample(scrape, HITS), "hits for edge.test");
      assertEquals(1.0, sample(scrape, MISSES), "misses for edge.test");
    });
    // another Host is another cache key (http://unknown.test/m): its own miss, no hit
    RawHttp.get(port(), "/m", "Host", "unknown.test"); // still routed: * is configured
    await().atMost(Duration.ofSeconds(5)).untilAsserted(
        () -> assertEquals(2.0, sample(adminGet("/metrics"), MISSES), "misses after unknown.test"));
    String m = adminGet("/metrics");
    assertEquals(2.0, sample(m, HITS), "hits after unknown.test: none of its own");
    assertEquals(20.0, sample(m, MEMORY_BYTES), "bytes served from memory: the two edge.test hits");
    assertEquals(2, origin.requests.get(), "origin requests: one per Host");
    assertTrue(m.contains("edgecache_cache_entries{tier=\"memory\"}"), m);
    assertTrue(m.contains("edgecache_cache_size_bytes{tier=\"memory\"}"), m);
    assertTrue(m.contains("edgecache_cache_max_bytes{tier=\"memory\"} 6.7108864E7"), m);
    assertTrue(m.contains("edgecache_origin_request_seconds_bucket{origin=\"test\""), m);
    assertTrue(m.contains("edgecache_coalesced_waiters_total"), m);
    assertTrue(m.contains("jvm_memory_used_bytes"), m);
    assertFalse(m.contains("/m\""), "a URL leaked into a label");
    assertEquals(2.0, sample(m, "edgecache_request_duration_seconds_count{outcome=\"hit\"}"), "hits timed");
    assertTrue(m.contains("edgecache_request_duration_seconds_bucket{outcome=\"hit\""), m);
    assertTrue(m.contains("edgecache_client_connections "), m);
    assertFalse(m.contains("vertx_http_server_requests_total"), "per-request Vert.x HTTP meters are off");
  }

  @Test
  void metrics_originDown_countsConnectErrors() throws Exception {
    int closed;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    JsonObject cfg = baseConfig();
    cfg.getJsonArray("origins").getJsonObject(0).put("url", "http://127.0.0.1:" + closed);
    start(cfg);
    RawHttp.get(port(), "/x");
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      String m = adminGet("/metrics");
      assertEquals(1.0, sample(m, "edgecache_origin_errors_total{kind=\"connect\",origin=\"test\"}"), m);
      assertEquals(1.0, sample(m, "edgecache_requests_total{method=\"get\",outcome=\"error\",status=\"5xx\"}"), m);
    });
  }

  @Test
  void reload_validNewConfig_changesRoutingWithoutRestart() throws Exception {
    JsonObject cfg = baseConfig();
    cfg.getJsonArray("origins").getJsonObject(0).put("hosts", new JsonArray().add("old.test"));
    Path file = dir.resolve("proxy.json");
    Files.writeString(file, cfg.encodePrettily());
    proxy = new ProxyServer(ConfigLoader.load(file));
    proxy.start().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    try (RawHttp keptOpen = new RawHttp(port())) {
      assertEquals(421, RawHttp.get(port(), "/", "Host", "new.test").status());
      assertEquals(200, keptOpen.request("GET", "/", "Host", "old.test").status());
      cfg.getJsonArray("origins").getJsonObject(0).put("hosts", new JsonArray().add("new.test"));
      Files.writeString(file, cfg.encodePrettily());
      HttpResponse<String> r = adminPost("/reload");
      assertEquals(200, r.statusCode(), r.body());
      assertEquals(200, RawHttp.get(port(), "/", "Host", "new.test").status());
      assertEquals(421, keptOpen.request("GET", "/", "Host", "old.test").status()); // same connection survives
    }
  }

  @Test
  void reload_invalidNewConfig_isRefusedWithReasonAndOldConfigStays() throws Exception {
    Path file = dir.resolve("proxy.json");
    JsonObject cfg = baseConfig();
    Files.writeString(file, cfg.encodePrettily());
    proxy = new ProxyServer(ConfigLoader.load(file));
    proxy.start().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    Files.writeString(file, "{\"origins\": [{\"name\": \"x\", \"url\": \"ftp://nope\", \"hosts\": [\"*\"]}]}");
    HttpResponse<String> r = adminPost("/reload");
    assertEquals(400, r.statusCode());
    assertTrue(r.body().contains("origins[0].url"), r.body());
    assertEquals(200, RawHttp.get(port(), "/still-works").status());
  }

  @Test
  void reload_listenChange_isNamedAsNeedingRestart() throws Exception {
    Path file = dir.resolve("proxy.json");
    JsonObject cfg = baseConfig();
    Files.writeString(file, cfg.encodePrettily());
    proxy = new ProxyServer(ConfigLoader.load(file));
    proxy.start().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    cfg.put("memory", new JsonObject().put("maxBytes", "32MiB"));
    Files.writeString(file, cfg.encodePrettily());
    HttpResponse<String> r = adminPost("/reload");
    assertEquals(200, r.statusCode());
    assertTrue(r.body().contains("\"restartNeeded\":[\"memory\"]"), r.body());
  }

  @Test
  void stop_underLoad_letsEveryInFlightRequestFinish() throws Exception {
    origin.handle(r -> originVertx.setTimer(600, t -> r.response().end("done")));
    start();
    HttpClient http = HttpClient.newHttpClient();
    List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      inFlight.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + "/slow" + i)).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> origin.requests.get() == 20);
    CompletableFuture<Void> stopped = proxy.stop().toCompletionStage().toCompletableFuture();
    await().atMost(Duration.ofSeconds(5)).until(() -> !proxy.ready());
    assertEquals(20, origin.requests.get());
    for (CompletableFuture<HttpResponse<String>> f : inFlight) {
      HttpResponse<String> r = f.get(10, TimeUnit.SECONDS);
      assertEquals(200, r.statusCode());
      assertEquals("done", r.body());
    }
    stopped.get(10, TimeUnit.SECONDS);
    assertThrows(java.io.IOException.class, () -> new RawHttp(port()).request("GET", "/"));
    proxy = null;
  }
}
