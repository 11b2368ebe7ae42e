package io.edgecache.proxy.admin;

import io.edgecache.proxy.ProxyServer;
import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.purge.PurgeAuthorizer;
import io.edgecache.proxy.purge.PurgeService;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The admin listener (default 127.0.0.1:9090): {@code /healthz} (the process answers),
 * {@code /readyz} (listening and not draining), {@code /stats} (tier sizes), {@code /metrics}
 * (Prometheus), {@code /origins} (origin servers and their state), {@code POST /purge} and
 * {@code POST /reload}. Never reachable on the traffic port. With {@code admin.token} set, every
 * endpoint except the two probes needs {@code Authorization: Bearer <token>}.
 */
public final class AdminVerticle extends VerticleBase {
  private final ProxyConfig config;
  private final BooleanSupplier ready;
  private final Supplier<JsonObject> stats;
  private final Supplier<JsonObject> cluster;
  private final PurgeService purges;
  private final PrometheusMeterRegistry registry;
  private final Supplier<ProxyServer.ReloadResult> reload;
  private final Supplier<JsonObject> origins;
  private final UnaryOperator<String> routedKey;
  private HttpServer server;

  /** {@code purges} is the same service that answers {@code PURGE} on the traffic port. */
  public AdminVerticle(ProxyConfig config, BooleanSupplier ready, Supplier<JsonObject> stats, PurgeService purges,
      PrometheusMeterRegistry registry, Supplier<ProxyServer.ReloadResult> reload, Supplier<JsonObject> cluster) {
    this(config, ready, stats, purges, registry, reload, cluster, () -> new JsonObject().put("origins",
        new io.vertx.core.json.JsonArray()), UnaryOperator.identity());
  }

  /**
   * {@code origins} answers {@code GET /origins}; {@code routedKey} turns the key of a URL given to
   * {@code POST /purge} into the key a request for it is stored under (a route's query rule).
   */
  public AdminVerticle(ProxyConfig config, BooleanSupplier ready, Supplier<JsonObject> stats, PurgeService purges,
      PrometheusMeterRegistry registry, Supplier<ProxyServer.ReloadResult> reload, Supplier<JsonObject> cluster,
      Supplier<JsonObject> origins, UnaryOperator<String> routedKey) {
    this.routedKey = routedKey;
    this.origins = origins;
    this.cluster = cluster;
    this.config = config;
    this.ready = ready;
    this.stats = stats;
    this.purges = purges;
    this.registry = registry;
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
    router.get("/cluster").handler(rc -> rc.response().putHeader("Content-Type", "application/json")
        .end(cluster.get().encodePrettily()));
    router.get("/origins").handler(rc -> rc.response().putHeader("Content-Type", "application/json")
        .end(origins.get().encodePrettily()));
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
        JsonObject answer = new JsonObject().put("reloaded", true)
            .put("restartNeeded", new io.vertx.core.json.JsonArray(ar.result().restartNeeded()));
        if (ar.result().tls() != null) {
          answer.put("tls", ar.result().tls());
        }
        rc.response().putHeader("Content-Type", "application/json").end(answer.encode() + "\n");
      }
    }));
    server = vertx.createHttpServer();
    return server.requestHandler(router).listen(config.admin().port(), config.admin().host());
  }

  /** {@code POST /purge}: parses the body, then hands the purge to {@link PurgeService}. */
  private void purge(RoutingContext rc) {
    PurgeRequest pr;
    try {
      pr = PurgeRequest.parse(rc.body().asString(), routedKey);
    } catch (IllegalArgumentException e) {
      rc.response().setStatusCode(400).putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("error", e.getMessage()).encode() + "\n");
      return;
    }
    String who = rc.request().remoteAddress() == null ? "unknown" : rc.request().remoteAddress().hostAddress();
    // prefix, tag and "all" purges walk the index: run them on a worker (where waiting for the
    // result is allowed), never on the event loop
    vertx.executeBlocking(() -> purges.run(pr.spec(), who).toCompletableFuture().get()).onComplete(ar -> { // blocking-ok: executeBlocking runs this on a worker thread
      PurgeService.Answer a = ar.succeeded() ? ar.result() : PurgeService.Answer.FAILED;
      rc.response().setStatusCode(a.status()).putHeader("Content-Type", "application/json").end(a.body() + "\n");
    });
  }

  public int actualPort() {
    return server.actualPort();
  }
}
