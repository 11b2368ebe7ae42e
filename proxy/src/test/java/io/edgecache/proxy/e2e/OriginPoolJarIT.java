package io.edgecache.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An origin of two servers through the real jar: a GET keeps succeeding when one server stops
 * (failover, then ejection), {@code GET /origins} shows each server's state and counts, and a
 * reload replaces the pool while a server that stays keeps its counts.
 */
class OriginPoolJarIT {
  private static final String HOST = "edge.test";

  @TempDir
  Path dir;
  private CountingOrigin first;
  private CountingOrigin second;
  private JarProxy proxy;

  @BeforeEach
  void startOrigins() throws Exception {
    first = new CountingOrigin(r -> r.response().putHeader("Cache-Control", "no-store").end("first"));
    second = new CountingOrigin(r -> r.response().putHeader("Cache-Control", "no-store").end("second"));
  }

  @AfterEach
  void stopAll() throws Exception {
    JarProxy.closeAll(proxy, first, second);
  }

  private static String id(CountingOrigin o) {
    return o.url().substring("http://".length());
  }

  private static JsonObject config(JsonArray servers) {
    return new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("eventLoops", 2))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "app").put("servers", servers)
            .put("hosts", new JsonArray().add(HOST))))
        .put("memory", new JsonObject().put("maxBytes", "16MiB").put("maxObjectBytes", "1MiB"));
  }

  private JsonObject server(String id) throws Exception {
    HttpResponse<String> r = proxy.admin("GET", "/origins", null);
    assertEquals(200, r.statusCode(), r.body());
    JsonObject origin = new JsonObject(r.body()).getJsonArray("origins").getJsonObject(0);
    assertEquals("app", origin.getString("name"));
    for (Object s : origin.getJsonArray("servers")) {
      if (((JsonObject) s).getString("server").equals(id)) {
        return (JsonObject) s;
      }
    }
    throw new AssertionError("no server " + id + " in " + r.body());
  }

  @Test
  void get_oneServerStops_everyGetStillSucceedsAndOriginsShowsItEjected() throws Exception {
    proxy = JarProxy.start(dir, "proxy", config(new JsonArray().add(first.url())
        .add(new JsonObject().put("url", second.url()).put("weight", 1))));
    for (int i = 0; i < 4; i++) {
      assertEquals(200, Http1.once(proxy.port(), "GET", "/page", HOST).status());
    }
    assertEquals(2, first.count("GET", "/page"));
    assertEquals(2, second.count("GET", "/page"));

    first.close();
    for (int i = 0; i < 20; i++) {
      Http1.Response r = Http1.once(proxy.port(), "GET", "/after/" + i, HOST);
      assertEquals(200, r.status(), r.cacheStatus() + " " + r.text());
      assertEquals("second", r.text());
    }

    JsonObject stopped = server(id(first));
    assertEquals("ejected", stopped.getString("state"), stopped.encode());
    assertTrue(stopped.getString("ejectedUntil").endsWith("Z"), stopped.encode());
    assertTrue(stopped.getLong("errors") >= 5, stopped.encode());
    JsonObject alive = server(id(second));
    assertEquals("up", alive.getString("state"));
    assertEquals(22, alive.getLong("requests"), alive.encode());
    assertEquals(0, alive.getLong("errors"));
    assertEquals(1, alive.getInteger("weight"));
    String metrics = proxy.admin("GET", "/metrics", null).body();
    assertTrue(metrics.contains("edgecache_origin_server_requests_total{origin=\"app\",server=\"" + id(second)
        + "\"} 22.0"), metrics);
  }

  @Test
  void reload_newServerList_replacesThePoolAndAKeptServerKeepsItsCounts() throws Exception {
    proxy = JarProxy.start(dir, "proxy", config(new JsonArray().add(first.url()).add(second.url())));
    for (int i = 0; i < 4; i++) {
      Http1.once(proxy.port(), "GET", "/page", HOST);
    }
    try (CountingOrigin third = new CountingOrigin(r -> r.response().putHeader("Cache-Control", "no-store")
        .end("third"))) {
      JsonObject next = config(new JsonArray().add(second.url()).add(new JsonObject().put("url", third.url())
          .put("weight", 3))).put("startup", new JsonObject().put("warmup", "0s"));
      Files.writeString(dir.resolve("proxy.json"), next.encodePrettily());
      HttpResponse<String> reloaded = proxy.admin("POST", "/reload", null);
      assertEquals(200, reloaded.statusCode(), reloaded.body());

      assertEquals(2, server(id(second)).getLong("requests"), "carried over");
      assertEquals(3, server(id(third)).getInteger("weight"));
      for (int i = 0; i < 8; i++) {
        Http1.once(proxy.port(), "GET", "/later", HOST);
      }
      assertEquals(0, first.count("GET", "/later"), "the removed server gets nothing");
      assertEquals(6, third.count("GET", "/later"));
      assertEquals(2, second.count("GET", "/later"));
    }
  }
}
