package io.edgecache.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The request fuzz through the real jar: 300 seeded random and mutated requests
 * ({@link RequestFuzz}, another seed than the in-process test), then a normal request is still
 * served and cached, and the process is alive. An unknown HTTP major version is 505, a malformed
 * version 400 (Vert.x alone answers both with 501).
 */
class RequestFuzzJarIT {
  private static final long SEED = 0x0f0f_2026_1129L;
  private static final int CASES = 300;

  @TempDir
  Path dir;

  @Test
  void randomAndMutatedRequests_neverGet5xxNorHang_andTheJarStillServes() throws Exception {
    try (CountingOrigin origin = new CountingOrigin(r -> r.response().putHeader("Cache-Control", "max-age=60").end("hello"));
        JarProxy proxy = JarProxy.start(dir, "proxy", config(origin))) {
      List<RequestFuzz.Outcome> outcomes = RequestFuzz.runAll(proxy.port(), RequestFuzz.cases(new Random(SEED), CASES), 8);
      List<String> problems = RequestFuzz.problems(outcomes);
      long before = origin.count("GET", "/after-fuzz");
      Http1.Response first = Http1.once(proxy.port(), "GET", "/after-fuzz", "edge.test");
      Http1.Response second = Http1.once(proxy.port(), "GET", "/after-fuzz", "edge.test");
      RequestFuzz.Outcome v2 = RequestFuzz.exchange(proxy.port(), RequestFuzz.versionCase("HTTP/2.0"));
      RequestFuzz.Outcome lower = RequestFuzz.exchange(proxy.port(), RequestFuzz.versionCase("http/1.1"));

      assertTrue(problems.isEmpty(), () -> problems.size() + " problems:\n" + String.join("\n", problems)
          + "\n" + proxy.logTail());
      assertEquals(200, first.status());
      assertEquals(200, second.status());
      assertEquals(0, before);
      assertEquals(1, origin.count("GET", "/after-fuzz"), "one origin fetch, then a hit");
      assertEquals(List.of(505), v2.statuses());
      assertEquals(List.of(400), lower.statuses());
    }
  }

  private static JsonObject config(CountingOrigin origin) {
    return new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("eventLoops", 2))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "origin").put("url", origin.url())
            .put("hosts", new JsonArray().add("*"))))
        .put("memory", new JsonObject().put("maxBytes", "16MiB").put("maxObjectBytes", "1MiB"))
        .put("accessLog", new JsonObject().put("enabled", false));
  }
}
