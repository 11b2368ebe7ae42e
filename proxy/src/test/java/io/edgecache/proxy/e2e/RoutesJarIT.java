package io.edgecache.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code origins[].routes} and {@code cache.clientDirectives} through the jar: bypass, the query
 * rule shared by key and origin request, negative caching, a browser reload served from the
 * cache, and a reload of the routes.
 */
class RoutesJarIT {
  @TempDir
  Path dir;
  private CountingOrigin origin;
  private JarProxy proxy;

  @AfterEach
  void stop() throws Exception {
    JarProxy.closeAll(proxy, origin);
  }

  private JsonObject config(JsonArray routes) {
    return new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("eventLoops", 2))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "o").put("url", origin.url())
            .put("hosts", new JsonArray().add("*")).put("routes", routes)))
        .put("memory", new JsonObject().put("maxBytes", "64MiB").put("fillBufferBytes", "32MiB"));
  }

  private static JsonArray routes(boolean apiBypassed) {
    return new JsonArray()
        .add(apiBypassed ? new JsonObject().put("path", "/api/").put("bypass", true)
            : new JsonObject().put("path", "/api/").put("ttl", new JsonObject().put("default", "1m")))
        .add(new JsonObject().put("path", "/").put("cacheKey", new JsonObject()
                .put("dropParams", new JsonArray().add("utm_*")).put("sortParams", true))
            .put("ttl", new JsonObject().put("default", "5m").put("negative", new JsonObject().put("404", "1m"))));
  }

  @Test
  void routes_workThroughTheJar_andReload() throws Exception {
    origin = new CountingOrigin(r -> {
      if (r.path().startsWith("/missing")) {
        r.response().setStatusCode(404).end("none");
      } else {
        r.response().end("uri " + r.uri());
      }
    });
    proxy = JarProxy.start(dir, "routes", config(routes(true)), List.of("-Xmx512m"));

    for (int i = 0; i < 2; i++) {
      Http1.Response api = Http1.once(proxy.port(), "GET", "/api/me", "edge.test");
      assertTrue(api.cacheStatus().contains("fwd=bypass") && api.cacheStatus().contains("detail=\"route /api/ bypass\""),
          api.cacheStatus());
    }
    assertEquals(2, origin.count("GET", "/api/me"));

    Http1.Response miss = Http1.once(proxy.port(), "GET", "/p?utm_source=news&b=2&a=1", "edge.test");
    assertEquals("uri /p?a=1&b=2", miss.text());
    assertTrue(miss.cacheStatus().contains("stored; ttl=300; detail=\"route /\""), miss.cacheStatus());
    Http1.Response reload = Http1.once(proxy.port(), "GET", "/p?a=1&b=2", "edge.test", "Cache-Control", "no-cache");
    assertTrue(reload.isHit(), "a hard reload is served from the cache: " + reload.cacheStatus());
    assertEquals(1, origin.count("GET", "/p"));

    Http1.once(proxy.port(), "GET", "/missing", "edge.test");
    Http1.Response notFound = Http1.once(proxy.port(), "GET", "/missing", "edge.test");
    assertEquals(404, notFound.status());
    assertTrue(notFound.isHit(), notFound.cacheStatus());
    assertEquals(1, origin.count("GET", "/missing"));

    Files.writeString(dir.resolve("routes.json"), config(routes(false))
        .put("startup", new JsonObject().put("warmup", "0s")).encodePrettily());
    assertEquals(200, proxy.admin("POST", "/reload", "").statusCode());
    Http1.once(proxy.port(), "GET", "/api/me", "edge.test");
    Http1.Response cached = Http1.once(proxy.port(), "GET", "/api/me", "edge.test");
    assertTrue(cached.isHit(), "after the reload /api/ is cached: " + cached.cacheStatus());
    assertEquals(3, origin.count("GET", "/api/me"));
  }
}
