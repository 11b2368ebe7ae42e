package io.edgecache.proxy.admin;

import io.edgecache.proxy.ProxyServer;
import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.config.ReloadPlan;
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
 * {@code POST /reload}, and the status page: {@code /} with its script and style (see {@link AdminUi})
 * and its data, {@code /api/status} and {@code /api/reload-preview}. Never reachable on the traffic
 * port. With {@code admin.token} set, every endpoint except the two probes and the status page's
 * static files (which hold no data) needs {@code Authorization: Bearer <token>}.
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
  private final StatusPage statusPage;
  private HttpServer server;

  /**
   * The status page's data: the report behind {@code GET /api/status} and the preview behind
   * {@code GET /api/reload-preview} (which throws {@code ConfigException} for a file a reload
   * would refuse).
   */
  public record StatusPage(StatusReport report, Supplier<ReloadPlan> reloadPreview) {}

  /** {@code purges} is the same service that answers {@code PURGE} on the traffic port. */
  public AdminVerticle(ProxyConfig config, BooleanSupplier ready, Supplier<JsonObject> stats, PurgeService purges,
      PrometheusMeterRegistry registry, Supplier<ProxyServer.ReloadResult> reload, Supplier<JsonObject> cluster) {
    this(config, ready, stats, purges, registry, reload, cluster, () -> new JsonObject().put("origins",
        new io.vertx.core.json.JsonArray()), UnaryOperator.identity(), null);
  }

  /**
   * {@code origins} answers {@code GET /origins}; {@code routedKey} turns the key of a URL given to
   * {@code POST /purge} into the key a request for it is stored under (a route's query rule);
   * {@code statusPage} (null: no status page) serves {@code /} and its data.
   */
  public AdminVerticle(ProxyConfig config, BooleanSupplier ready, Supplier<JsonObject> stats, PurgeService purges,
      PrometheusMeterRegistry registry, Supplier<ProxyServer.ReloadResult> reload, Supplier<JsonObject> cluster,
      Supplier<JsonObject> origins, UnaryOperator<String> routedKey, StatusPage statusPage) {
    this.statusPage = statusPage;
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
    if (statusPage != null) {
      // the page itself holds no data: it is served without the token and asks for it
      AdminUi.create().routes(router);
    }
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
    if (statusPage != null) {
      statusPage(router);
    }
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

  /** {@code GET /api/status} and {@code GET /api/reload-preview}, behind the token check like every data call. */
  private void statusPage(Router router) {
    StatusReport report = statusPage.report();
    vertx.setPeriodic(1000, id -> report.sample()); // cancelled with this verticle
    report.sample();
    router.get("/api/status").handler(rc -> vertx.executeBlocking(report::build).onComplete(ar -> {
      if (ar.failed()) {
        rc.fail(ar.cause());
      } else {
        AdminUi.noStore(rc.response()).putHeader("Content-Type", "application/json").end(ar.result().encode());
      }
    }));
    router.get("/api/reload-preview").handler(rc -> vertx.executeBlocking(() -> planJson(statusPage.reloadPreview()))
        .onComplete(ar -> {
          JsonObject body = ar.succeeded() ? ar.result() : new JsonObject().put("valid", false)
              .put("error", ar.cause().getMessage() == null ? ar.cause().toString() : ar.cause().getMessage());
          AdminUi.noStore(rc.response()).putHeader("Content-Type", "application/json").end(body.encode());
        }));
  }

  private static JsonObject planJson(Supplier<ReloadPlan> preview) {
    ReloadPlan plan = preview.get();
    return new JsonObject().put("valid", true).put("unchanged", plan.unchanged())
        .put("applied", new io.vertx.core.json.JsonArray(plan.applied()))
        .put("restartNeeded", new io.vertx.core.json.JsonArray(plan.restartNeeded()))
        .put("originsAdded", new io.vertx.core.json.JsonArray(plan.originsAdded()))
        .put("originsRemoved", new io.vertx.core.json.JsonArray(plan.originsRemoved()))
        .put("originsChanged", new io.vertx.core.json.JsonArray(plan.originsChanged()));
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
