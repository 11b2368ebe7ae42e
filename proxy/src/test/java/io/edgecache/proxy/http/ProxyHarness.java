package io.edgecache.proxy.http;

import io.edgecache.proxy.ProxyServer;
import io.edgecache.proxy.config.ConfigLoader;
import io.edgecache.proxy.config.ProxyConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Starts a real origin and a real edgecache (in-process, real sockets, ephemeral ports) for each
 * test. Tests call {@link #start} with config overrides, then talk HTTP to {@link #port()}.
 */
abstract class ProxyHarness {
  Vertx originVertx;
  TestOrigin origin;
  ProxyServer proxy;

  @BeforeEach
  void startOrigin() throws Exception {
    originVertx = Vertx.vertx();
    origin = new TestOrigin(originVertx);
  }

  @AfterEach
  void stopAll() throws Exception {
    if (proxy != null) {
      proxy.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    origin.close();
    originVertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** A config routing {@code edge.test} and {@code *} to the test origin, on ephemeral ports. */
  JsonObject baseConfig() {
    return new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("eventLoops", 2))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "test").put("url", origin.url())
            .put("hosts", new JsonArray().add("edge.test").add("*"))))
        .put("memory", new JsonObject().put("maxBytes", "64MiB").put("maxObjectBytes", "1MiB"));
  }

  void start() throws Exception {
    start(baseConfig());
  }

  void start(JsonObject config) throws Exception {
    ProxyConfig cfg = ConfigLoader.fromJson("test.json", config);
    proxy = new ProxyServer(cfg);
    proxy.start().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  int port() {
    return proxy.port();
  }
}
