package io.edgecache.proxy.http;

import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.metrics.ProxyMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The server pools of every configured origin, by origin name, and their health checks.
 *
 * <p>Reload ({@link #reconfigured}) builds new pools from the new configuration. A server still
 * listed under the same origin name with the same host:port keeps its state: up or down, ejected
 * or not, requests in flight and counts, so a reload neither sends traffic back to a server the
 * checks hold down nor forgets an ejection. Servers new to the pool start up. The health checks
 * of the old pools stop and those of the new ones start ({@code ProxyServer} does both).
 *
 * <p>Thread-safe: the map is never changed after construction; pools are thread-safe.
 */
public final class OriginPools {
  private final Map<String, OriginPool> byName;
  private final ProxyMetrics metrics;
  private final Clock clock;
  /** The deployment id of the health-check verticle, once started. */
  private String checks;
  private Vertx checksVertx;
  /** Set by {@link #stopHealthChecks}: checks that finish deploying afterwards stop at once. */
  private boolean stopped;

  private OriginPools(Map<String, OriginPool> byName, ProxyMetrics metrics, Clock clock) {
    this.byName = byName;
    this.metrics = metrics;
    this.clock = clock;
  }

  /** Pools for {@code origins}, every server up; meters registered on {@code metrics}. */
  public static OriginPools of(List<ProxyConfig.Origin> origins, ProxyMetrics metrics, Clock clock) {
    return build(origins, metrics, clock, Map.of());
  }

  private static OriginPools build(List<ProxyConfig.Origin> origins, ProxyMetrics metrics, Clock clock,
      Map<String, OriginPool> previous) {
    Map<String, OriginPool> pools = new LinkedHashMap<>();
    for (ProxyConfig.Origin o : origins) {
      Map<String, OriginPool.Member> carried = new HashMap<>();
      OriginPool old = previous.get(o.name());
      if (old != null) {
        for (OriginPool.Member m : old.members()) {
          carried.put(m.id, m);
        }
      }
      pools.put(o.name(), new OriginPool(o, clock, metrics, carried));
    }
    return new OriginPools(Collections.unmodifiableMap(pools), metrics, clock);
  }

  /**
   * The pools of a reloaded configuration; servers that stay keep their state (see the class
   * comment). The meters of servers no longer listed are removed.
   */
  public OriginPools reconfigured(List<ProxyConfig.Origin> next) {
    OriginPools out = build(next, metrics, clock, byName);
    if (metrics != null) {
      for (OriginPool old : byName.values()) {
        OriginPool now = out.byName.get(old.name());
        for (OriginPool.Member m : old.members()) {
          if (m.meters != null && (now == null || !now.members().contains(m))) {
            metrics.remove(m.meters);
          }
        }
      }
    }
    return out;
  }

  /**
   * The pool of {@code origin}: the configured one when {@code origin} is the configured origin of
   * that name, else a pool of its own (an origin made in code, as the start-up warm-up does).
   */
  OriginPool of(ProxyConfig.Origin origin) {
    OriginPool p = byName.get(origin.name());
    return p != null && (p.origin() == origin || p.origin().equals(origin)) ? p : OriginPool.standalone(origin, clock);
  }

  /** Starts the health checks of every pool that has {@code healthCheck}, on one event loop of {@code vertx}. */
  public Future<Void> startHealthChecks(Vertx vertx) {
    List<OriginPool> checked = byName.values().stream().filter(p -> p.config().healthCheck() != null).toList();
    if (checked.isEmpty()) {
      return Future.succeededFuture();
    }
    return vertx.deployVerticle(new HealthChecks(checked)).compose(id -> {
      synchronized (this) {
        if (!stopped) {
          checks = id;
          checksVertx = vertx;
          return Future.succeededFuture();
        }
      }
      return vertx.undeploy(id); // replaced by a reload while starting
    });
  }

  /** Stops the health checks (when replaced by a reload, or at shutdown). */
  public synchronized Future<Void> stopHealthChecks() {
    stopped = true;
    String id = checks;
    checks = null;
    return id == null ? Future.succeededFuture() : checksVertx.undeploy(id);
  }

  /** {@code GET /origins}: every origin with its servers, state, weight, in-flight requests and counts. */
  public JsonObject describe() {
    JsonArray origins = new JsonArray();
    for (OriginPool p : byName.values()) {
      origins.add(p.describe());
    }
    return new JsonObject().put("origins", origins);
  }
}
