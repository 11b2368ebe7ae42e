package io.edgecache.proxy.admin;

import io.edgecache.proxy.ProxyServer;
import io.edgecache.proxy.cache.HttpCache;
import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.metrics.ProxyMetrics;
import io.edgecache.proxy.purge.PurgeAuthorizer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin listener (default 127.0.0.1:9090): {@code /healthz} (the process answers),
 * {@code /readyz} (listening and not draining), {@code /stats} (tier sizes), {@code /metrics}
 * (Prometheus), {@code POST /purge} and {@code POST /reload}. Never reachable on the traffic port. With {@code admin.token} set, every
 * endpoint except the two probes needs {@code Authorization: Bearer <token>}.
 */
public final class AdminVerticle extends VerticleBase {
  private static final Logger PURGE_LOG = LoggerFactory.getLogger("edgecache.purge");

  private final ProxyConfig config;
  private final BooleanSupplier ready;
  private final Supplier<JsonObject> stats;
  private final HttpCache cache;
  private final PrometheusMeterRegistry registry;
  private final ProxyMetrics metrics;
  private final Supplier<ProxyServer.ReloadResult> reload;
  private HttpServer server;

  public AdminVerticle(ProxyConfig config, BooleanSupplier ready, Supplier<JsonObject> stats, HttpCache cache,
      PrometheusMeterRegistry registry, ProxyMetrics metrics, Supplier<ProxyServer.ReloadResult> reload) {
    this.config = config;
    this.ready = ready;
    this.stats = stats;
    this.cache = cache;
    this.registry = registry;
    this.metrics = metrics;
    this.reload = reload;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.get("/healthz").handler(rc -> rc.response().putHeader("Content-Type", "text/plain").end("ok\n"));
    router.get("/readyz").handler(rc -> {
      boolean ok = ready.getAsBoolean();
      rc.response().setStatusCode(ok ? 200 : 503).putHeader("Content-Type", "text/plain").end(ok ? "ready\n" : "not ready\n");
    });
    String token = config.admin().token();
    if (token != null) {
      byte[] expected = token.getBytes(StandardCharsets.UTF_8);
      router.route().handler(rc -> {
        String auth = rc.request().getHeader("Authorization");
        if (auth != null && PurgeAuthorizer.tokenMatches(expected, auth)) {
          rc.next();
        } else {
          rc.response().setStatusCode(401).putHeader("WWW-Authenticate", "Bearer realm=\"edgecache admin\"")
              .putHeader("Content-Type", "application/json").end("{\"error\": \"unauthorized\"}\n");
        }
      });
    }
    router.get("/stats").handler(rc -> vertx.executeBlocking(stats::get).onComplete(ar -> {
      if (ar.failed()) {
        rc.fail(ar.cause());
      } else {
        rc.response().putHeader("Content-Type", "application/json").end(ar.result().encodePrettily());
      }
    }));
    router.post("/purge").handler(BodyHandler.create().setBodyLimit(1 << 20)).handler(this::purge);
    router.get("/metrics").handler(rc -> vertx.executeBlocking(registry::scrape).onComplete(ar -> {
      if (ar.failed()) {
        rc.fail(ar.cause());
      } else {
        rc.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(ar.result());
      }
    }));
    router.post("/reload").handler(rc -> vertx.executeBlocking(reload::get).onComplete(ar -> {
      if (ar.failed()) {
        String why = ar.cause().getMessage() == null ? ar.cause().toString() : ar.cause().getMessage();
        rc.response().setStatusCode(400).putHeader("Content-Type", "application/json")
            .end(new JsonObject().put("reloaded", false).put("error", why).encode() + "\n");
      } else {
        rc.response().putHeader("Content-Type", "application/json")
            .end(new JsonObject().put("reloaded", true)
                .put("restartNeeded", new io.vertx.core.json.JsonArray(ar.result().restartNeeded())).encode() + "\n");
      }
    }));
    server = vertx.createHttpServer();
    return server.requestHandler(router).listen(config.admin().port(), config.admin().host());
  }

  private void purge(RoutingContext rc) {
    PurgeRequest pr;
    try {
      pr = PurgeRequest.parse(rc.body().asString());
    } catch (IllegalArgumentException e) {
      rc.response().setStatusCode(400).putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("error", e.getMessage()).encode() + "\n");
      return;
    }
    String who = rc.request().remoteAddress() == null ? "unknown" : rc.request().remoteAddress().hostAddress();
    // prefix, tag and "all" purges walk the index: run them on a worker, never the event loop
    vertx.executeBlocking(() -> run(pr).toCompletableFuture().get()).onComplete(ar -> { // blocking-ok: executeBlocking runs this on a worker thread
      if (ar.failed()) {
        PURGE_LOG.warn("purge failed: {} from {}: {}", describe(pr), who, ar.cause().toString());
        rc.response().setStatusCode(500).putHeader("Content-Type", "application/json").end("{\"error\": \"purge failed\"}\n");
        return;
      }
      PURGE_LOG.info("purge {} soft={} purged={} by={}", describe(pr), pr.soft(), ar.result(), who);
      metrics.purge(pr.all() ? "all" : !pr.tags().isEmpty() ? "tag" : !pr.prefixKeys().isEmpty() ? "prefix" : "url",
          pr.soft(), ar.result());
      rc.response().putHeader("Content-Type", "application/json").end("{\"purged\": " + ar.result() + "}\n");
    });
  }

  private CompletionStage<Integer> run(PurgeRequest pr) {
    if (pr.all()) {
      return cache.purgeAll(pr.soft());
    }
    List<CompletionStage<Integer>> parts = new ArrayList<>();
    for (String u : pr.urlKeys()) {
      parts.add(cache.purgeUrl(u, pr.soft()));
    }
    for (String p : pr.prefixKeys()) {
      parts.add(cache.purgePrefix(p, pr.soft()));
    }
    for (String t : pr.tags()) {
      parts.add(cache.purgeTag(t, pr.soft()));
    }
    CompletionStage<Integer> sum = CompletableFuture.completedFuture(0);
    for (CompletionStage<Integer> p : parts) {
      sum = sum.thenCombine(p, Integer::sum);
    }
    return sum;
  }

  private static String describe(PurgeRequest pr) {
    if (pr.all()) {
      return "kind=all";
    }
    return "kind=api urls=" + pr.urlKeys().size() + " prefixes=" + pr.prefixKeys() + " tags=" + pr.tags();
  }

  public int actualPort() {
    return server.actualPort();
  }
}
