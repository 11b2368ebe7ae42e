package io.edgecache.proxy.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The status page on the admin listener: its static shell, {@code /api/status} and {@code /api/reload-preview}. */
class StatusPageIntegrationTest extends ProxyHarness {
  private static final String TOKEN = "status-page-token-0123456789";

  @TempDir
  Path dir;

  private HttpResponse<String> admin(String path, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminPort() + path));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonObject status() throws Exception {
    HttpResponse<String> r = admin("/api/status", TOKEN);
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  private void startWithToken() throws Exception {
    start(baseConfig().put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("token", TOKEN)));
  }

  @Test
  void page_withoutToken_isServedWithStrictHeadersAndHoldsNoData() throws Exception {
    startWithToken();
    HttpResponse<String> page = admin("/", null);
    assertEquals(200, page.statusCode());
    assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
    assertEquals("no-store", page.headers().firstValue("Cache-Control").orElse(""));
    assertEquals("nosniff", page.headers().firstValue("X-Content-Type-Options").orElse(""));
    String csp = page.headers().firstValue("Content-Security-Policy").orElse("");
    assertTrue(csp.startsWith("default-src 'self'") && !csp.contains("unsafe-inline"), csp);
    assertTrue(page.body().contains("<script src=\"ui/status.js\""), "script from a file, not inline");
    assertFalse(page.body().contains(origin.url()), "no data in the shell");
    assertEquals(200, admin("/ui/status.js", null).statusCode());
    assertTrue(admin("/ui/status.css", null).headers().firstValue("Content-Type").orElse("").startsWith("text/css"));
  }

  @Test
  void apiStatus_withoutOrWithWrongToken_is401() throws Exception {
    startWithToken();
    assertEquals(401, admin("/api/status", null).statusCode());
    assertEquals(401, admin("/api/status", "wrong-token-wrong-token").statusCode());
    assertEquals(401, admin("/api/reload-preview", null).statusCode());
  }

  @Test
  void apiStatus_afterTraffic_countsMoveAndRatesShowThem() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=60").end("0123456789"));
    startWithToken();
    JsonObject before = status();
    assertEquals(0L, before.getJsonObject("requests").getJsonObject("total").getLong("hit"));
    assertEquals(null, before.getJsonObject("requests").getValue("hitRatio"), "no lookups yet");
    RawHttp.get(port(), "/a"); // miss
    RawHttp.get(port(), "/a"); // hit
    RawHttp.get(port(), "/a"); // hit
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      JsonObject s = status();
      JsonObject total = s.getJsonObject("requests").getJsonObject("total");
      assertEquals(2L, total.getLong("hit"));
      assertEquals(1L, total.getLong("miss"));
    });
    JsonObject s = status();
    assertEquals(0.6667, s.getJsonObject("requests").getDouble("hitRatio"));
    assertEquals(20L, s.getJsonObject("servedBytes").getLong("memory"), "two hits of 10 bytes");
    JsonObject memory = s.getJsonArray("tiers").getJsonObject(0);
    assertEquals("memory", memory.getString("tier"));
    assertEquals(1L, memory.getLong("entries"));
    assertTrue(memory.getLong("bytes") > 0 && memory.getLong("maxBytes") == 64L << 20, memory.encode());
    JsonObject test = s.getJsonArray("origins").getJsonObject(0);
    assertEquals("test", test.getString("name"));
    assertEquals(1L, test.getJsonObject("latency").getLong("count"), "the one origin fetch");
    assertTrue(test.getJsonObject("latency").getDouble("p99Ms") > 0, test.encode());
    assertEquals("up", test.getJsonArray("servers").getJsonObject(0).getString("state"));
    assertFalse(s.getJsonObject("cluster").getBoolean("enabled"));
    assertEquals("test.json", s.getJsonObject("build").getString("configFile"));
    // the once-a-second samples turn the two hits into a rate in the chart's window
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      JsonArray hits = status().getJsonObject("requests").getJsonObject("window").getJsonObject("perSecond")
          .getJsonArray("hit");
      double sum = 0;
      for (int i = 0; i < hits.size(); i++) {
        sum += hits.getDouble(i);
      }
      assertTrue(sum > 0, hits.encode());
    });
  }

  @Test
  void reloadPreview_showsWhatReloadWouldChangeWithoutApplyingIt() throws Exception {
    Path file = dir.resolve("proxy.json");
    JsonObject cfg = baseConfig();
    Files.writeString(file, cfg.encodePrettily());
    proxy = new ProxyServer(ConfigLoader.load(file));
    proxy.start().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    JsonObject same = new JsonObject(admin("/api/reload-preview", null).body());
    assertTrue(same.getBoolean("unchanged"), same.encode());

    cfg.getJsonArray("origins").add(new JsonObject().put("name", "images").put("url", origin.url())
        .put("hosts", new JsonArray().add("img.test")));
    cfg.put("memory", new JsonObject().put("maxBytes", "32MiB"));
    Files.writeString(file, cfg.encodePrettily());
    JsonObject plan = new JsonObject(admin("/api/reload-preview", null).body());
    assertEquals(new JsonArray().add("origins"), plan.getJsonArray("applied"), plan.encode());
    assertEquals(new JsonArray().add("images"), plan.getJsonArray("originsAdded"));
    assertEquals(new JsonArray().add("memory"), plan.getJsonArray("restartNeeded"));
    assertEquals(1, proxy.config().origins().size(), "a preview applies nothing");

    Files.writeString(file, "{\"origins\": [{\"name\": \"x\", \"url\": \"ftp://nope\", \"hosts\": [\"*\"]}]}");
    JsonObject refused = new JsonObject(admin("/api/reload-preview", null).body());
    assertFalse(refused.getBoolean("valid"));
    assertTrue(refused.getString("error").contains("origins[0].url"), refused.encode());
  }
}
