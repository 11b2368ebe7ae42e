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

  @Test
  void metrics_afterTraffic_exposeEveryFamilyWithSaneValues() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=60").end("0123456789"));
    start();
    RawHttp.get(port(), "/m");
    RawHttp.get(port(), "/m");
    RawHttp.get(port(), "/m");
    RawHttp.get(port(), "/m", "Host", "unknown.test"); // still routed: * is configured
    String m = adminGet("/metrics");
    assertTrue(m.contains("edgecache_requests_total{method=\"get\",outcome=\"hit\",status=\"2xx\"} 3.0")
        || m.contains("edgecache_requests_total{method=\"get\",outcome=\"hit\",status=\"2xx\"} 2.0"), m);
    assertTrue(m.contains("edgecache_requests_total{method=\"get\",outcome=\"miss\",status=\"2xx\"}"), m);
    assertTrue(m.contains("edgecache_served_bytes_total{source=\"memory\"} 20.0")
        || m.contains("edgecache_served_bytes_total{source=\"memory\"} 30.0"), m);
    assertTrue(m.contains("edgecache_cache_entries{tier=\"memory\"}"), m);
    assertTrue(m.contains("edgecache_cache_size_bytes{tier=\"memory\"}"), m);
    assertTrue(m.contains("edgecache_cache_max_bytes{tier=\"memory\"} 6.7108864E7"), m);
    assertTrue(m.contains("edgecache_origin_request_seconds_bucket{origin=\"test\""), m);
    assertTrue(m.contains("edgecache_coalesced_waiters_total"), m);
    assertTrue(m.contains("vertx_http_server_requests_total"), m);
    assertTrue(m.contains("jvm_memory_used_bytes"), m);
    assertFalse(m.contains("/m\""), "a URL leaked into a label");
    double active = 0;
    for (String line : m.split("\n")) {
      if (line.startsWith("vertx_http_server_active_requests")) {
        active += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    assertTrue(active <= 1, "requests served from cache still count as active: " + active); // 1: this scrape
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
    String m = adminGet("/metrics");
    assertTrue(m.contains("edgecache_origin_errors_total{kind=\"connect\",origin=\"test\"} 1.0"), m);
    assertTrue(m.contains("edgecache_requests_total{method=\"get\",outcome=\"error\",status=\"5xx\"} 1.0"), m);
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
    await().atMost(Duration.ofSeconds(5)).until(() -> origin.requests.get() >= 20);
    assertEquals(20, origin.requests.get());
    CompletableFuture<Void> stopped = proxy.stop().toCompletionStage().toCompletableFuture();
    await().atMost(Duration.ofSeconds(5)).until(() -> !proxy.ready());
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
