package io.edgecache.proxy.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The heap, through the jar with a 256 MiB heap: a configuration that cannot fit is refused at
 * start with one line, and one that fits sheds its memory tier under pressure instead of dying.
 * Pressure is made real by a low {@code memory.pressureThreshold} (30% of the heap), which a
 * memory tier of 1 MiB objects crosses once it holds about 50 MiB.
 */
class HeapJarIT {
  private static final String HOST = "edge.test";
  private static final Buffer MIB_BODY = Buffer.buffer(new byte[1 << 20]);

  @TempDir
  static Path dir;
  private static CountingOrigin origin;

  @BeforeAll
  static void startOrigin() throws Exception {
    origin = new CountingOrigin(r -> r.response().putHeader("Cache-Control", "public, max-age=3600").end(MIB_BODY));
  }

  @AfterAll
  static void stopOrigin() throws Exception {
    if (origin != null) {
      origin.close();
    }
  }

  private static JsonObject config(JsonObject memory) {
    return new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("eventLoops", 2))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "origin").put("url", origin.url())
            .put("hosts", new JsonArray().add(HOST))))
        .put("memory", memory)
        .put("accessLog", new JsonObject().put("enabled", false));
  }

  @Test
  void start_configLargerThanTheHeap_exitsWithOneLineSayingWhatToChange() throws Exception {
    Path cfg = dir.resolve("big.json");
    Files.writeString(cfg, config(new JsonObject().put("maxBytes", "256MiB")).encodePrettily());
    Path err = dir.resolve("big.err.log");
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
        "-jar", JarProxy.jar().toString(), "--config", cfg.toString())
        .redirectOutput(dir.resolve("big.out.log").toFile()).redirectError(err.toFile()).start();
    try {
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "still running");
      assertEquals(1, p.exitValue());
      String line = Files.readString(err, StandardCharsets.UTF_8).strip();
      assertEquals(1, line.lines().count(), line);
      assertTrue(line.matches("edgecache: \\S*big\\.json: memory\\.maxBytes 256MiB \\+ memory\\.fillBufferBytes 256MiB"
          + " \\+ overhead \\S+ \\(.*\\) = \\S+ does not fit in the JVM's max heap \\S+ \\(expected: lower"
          + " memory\\.maxBytes or memory\\.fillBufferBytes by \\S+, or raise -Xmx / -XX:MaxRAMPercentage\\)"), line);
    } finally {
      p.destroyForcibly();
      p.waitFor();
    }
  }

  @Test
  void heapPressure_memoryTierOverTheThreshold_shedsAndKeepsServing() throws Exception {
    JsonObject memory = new JsonObject().put("maxBytes", "64MiB").put("maxObjectBytes", "2MiB")
        .put("fillBufferBytes", "16MiB").put("pressureThreshold", 0.3);
    try (JarProxy proxy = JarProxy.start(dir, "pressure", config(memory), List.of("-Xmx256m"))) {
      AtomicInteger next = new AtomicInteger();
      await("the memory tier sheds").atMost(Duration.ofSeconds(25)).pollInterval(Duration.ZERO).until(() -> {
        for (int i = 0; i < 8; i++) {
          Http1.Response r = Http1.once(proxy.port(), "GET", "/obj-" + next.getAndIncrement(), HOST);
          assertEquals(200, r.status(), proxy.logTail());
          assertEquals(1 << 20, r.body().length);
        }
        return proxy.stats().getJsonObject("memory").getLong("sheds") > 0;
      });
      JsonObject m = proxy.stats().getJsonObject("memory");
      assertTrue(m.getLong("maxBytes") < (64L << 20), "the bound was lowered: " + m);
      assertTrue(m.getLong("bytes") <= m.getLong("maxBytes"), m.encode());
      for (int i = 0; i < 20; i++) {
        assertEquals(200, Http1.once(proxy.port(), "GET", "/after-" + i, HOST).status(), "still serving");
      }
      assertTrue(proxy.logTail().contains("heap pressure:"), "one log line says it sheds: " + proxy.logTail());
    }
  }
}
