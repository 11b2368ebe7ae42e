package io.edgecache.proxy.admin;

import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.storage.StoreStats;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The admin listener (default 127.0.0.1:9090): {@code /healthz} (the process answers),
 * {@code /readyz} (listening and not draining) and {@code /stats} (tier sizes). Never reachable on
 * the traffic port.
 */
public final class AdminVerticle extends VerticleBase {
  private final ProxyConfig config;
  private final BooleanSupplier ready;
  private final Supplier<StoreStats> memoryStats;
  private HttpServer server;

  public AdminVerticle(ProxyConfig config, BooleanSupplier ready, Supplier<StoreStats> memoryStats) {
    this.config = config;
    this.ready = ready;
    this.memoryStats = memoryStats;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.get("/healthz").handler(rc -> rc.response().putHeader("Content-Type", "text/plain").end("ok\n"));
    router.get("/readyz").handler(rc -> {
      boolean ok = ready.getAsBoolean();
      rc.response().setStatusCode(ok ? 200 : 503).putHeader("Content-Type", "text/plain").end(ok ? "ready\n" : "not ready\n");
    });
    router.get("/stats").handler(rc -> {
      StoreStats s = memoryStats.get();
      JsonObject memory = new JsonObject().put("entries", s.entries()).put("bytes", s.bytes())
          .put("maxBytes", s.maxBytes()).put("evictions", s.evictions()).put("rejected", s.rejected());
      rc.response().putHeader("Content-Type", "application/json").end(new JsonObject().put("memory", memory).encodePrettily());
    });
    server = vertx.createHttpServer();
    return server.requestHandler(router).listen(config.admin().port(), config.admin().host());
  }

  public int actualPort() {
    return server.actualPort();
  }
}
