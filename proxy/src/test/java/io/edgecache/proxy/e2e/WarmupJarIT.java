package io.edgecache.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code startup.warmup} through the jar: the request path runs against a built-in loopback origin
 * before the listeners open, and none of it shows afterwards (no entry in either tier, no request
 * counted, no access-log line, no request to a configured origin). {@code --train} runs only that.
 */
class WarmupJarIT {
  private static final Pattern DONE = Pattern.compile("start-up warm-up: (\\d+) requests through the request path in"
      + " \\d+ ms \\((\\d+) failed");

  @TempDir
  Path dir;
  private CountingOrigin origin;
  private JarProxy proxy;

  @AfterEach
  void stop() throws Exception {
    JarProxy.closeAll(proxy, origin);
  }

  private JsonObject config(String originUrl) {
    return new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("eventLoops", 2))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "o").put("url", originUrl)
            .put("hosts", new JsonArray().add("*"))))
        .put("memory", new JsonObject().put("maxBytes", "64MiB").put("fillBufferBytes", "32MiB"))
        .put("disk", new JsonObject().put("path", dir.resolve("cache").toString()).put("maxBytes", "64MiB")
            .put("indexMaxBytes", "16MiB"))
        .put("accessLog", new JsonObject().put("enabled", true))
        .put("startup", new JsonObject().put("warmup", "20s"));
  }

  @Test
  void warmup_runsBeforeTheListenersOpen_andLeavesNoTrace() throws Exception {
    origin = new CountingOrigin(r -> r.response().putHeader("Cache-Control", "public, max-age=600").end("real " + r.path()));
    proxy = JarProxy.start(dir, "warm", config(origin.url()), List.of("-Xmx512m"), java.time.Duration.ofSeconds(60));

    Matcher m = DONE.matcher(proxy.log());
    assertTrue(m.find(), "no warm-up line:\n" + proxy.logTail());
    assertTrue(Long.parseLong(m.group(1)) > 1000, m.group());
    assertEquals("0", m.group(2), m.group());
    String log = proxy.log();
    assertTrue(log.indexOf("start-up warm-up:") < log.indexOf("listening on http://"),
        "the listeners opened before the warm-up ended:\n" + proxy.logTail());

    JsonObject stats = proxy.stats();
    assertEquals(0, stats.getJsonObject("memory").getLong("entries"), stats.encode());
    assertEquals(0, stats.getJsonObject("disk").getLong("entries"), stats.encode());
    String metrics = proxy.admin("GET", "/metrics", null).body();
    for (String line : metrics.lines().filter(l -> l.startsWith("edgecache_requests_total")).toList()) {
      assertTrue(line.endsWith(" 0.0"), "warm-up traffic counted: " + line);
    }
    assertEquals(0, origin.count("GET", "/hit/1"), "warm-up reached a configured origin");
    assertFalse(log.contains("warmup.local") || log.contains("/hit/"), "warm-up requests in the access log");

    Http1.Response miss = Http1.once(proxy.port(), "GET", "/a", "edge.test");
    Http1.Response hit = Http1.once(proxy.port(), "GET", "/a", "edge.test");
    assertEquals(200, miss.status());
    assertEquals("real /a", hit.text());
    assertTrue(hit.isHit(), hit.cacheStatus());
    assertEquals(1, origin.count("GET", "/a"));
  }

  @Test
  void train_runsTheWarmupOnly_neverContactsConfiguredOrigins_andExitsZero() throws Exception {
    Path cfg = dir.resolve("train.json");
    // an origin URL nothing listens on, a disk path that cannot be created: --train uses neither
    JsonObject c = config("http://127.0.0.1:9");
    c.getJsonObject("disk").put("path", "/proc/edgecache-not-here");
    Files.writeString(cfg, c.encodePrettily());
    Path out = dir.resolve("train.out.log");
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
        "-jar", JarProxy.jar().toString(), "--config", cfg.toString(), "--train")
        .redirectErrorStream(true).redirectOutput(out.toFile()).start();
    try {
      assertTrue(p.waitFor(90, TimeUnit.SECONDS), "--train still running");
      String log = Files.readString(out, StandardCharsets.UTF_8);
      assertEquals(0, p.exitValue(), log);
      Matcher m = DONE.matcher(log);
      assertTrue(m.find(), log);
      assertEquals("0", m.group(2), log);
      assertFalse(log.contains("listening on http://"), log);
    } finally {
      p.destroyForcibly();
    }
  }
}
