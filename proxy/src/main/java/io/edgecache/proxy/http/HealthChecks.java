package io.edgecache.proxy.http;

import io.edgecache.proxy.config.PoolConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Active health checks of the origin pools that configure {@code healthCheck}: every
 * {@code interval}, a {@code GET path} to each server on a connection of its own (so a server
 * that no longer accepts connections fails at once); a 2xx or 3xx response head within
 * {@code timeout} is a success, anything else (connect error, TLS failure, timeout, another
 * status) a failure. Results go to {@link ServerHealth#probed}, which decides up and down; each
 * change is logged once.
 *
 * <p>A verticle, so that every timer, probe and callback runs on its one event loop and needs no
 * lock; a server is never probed twice at once. Probes of https servers use the pool's TLS options
 * (verification, CA, client certificate), as live traffic does.
 */
final class HealthChecks extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(HealthChecks.class);

  private final List<OriginPool> pools;
  private final Set<OriginPool.Member> probing = new HashSet<>();
  private final List<Long> timers = new ArrayList<>();
  private HttpClient client;
  /** Set when stopping: probes cut short by closing the client say nothing about the servers. */
  private boolean stopped;

  HealthChecks(List<OriginPool> pools) {
    this.pools = List.copyOf(pools);
  }

  @Override
  public Future<?> start() {
    client = vertx.httpClientBuilder().with(new HttpClientOptions().setKeepAlive(false)
        .setDecompressionSupported(false).setForceSni(true)) // as the origin client (ProxyVerticle)
        .build();
    for (OriginPool pool : pools) {
      PoolConfig.HealthCheck hc = pool.config().healthCheck();
      for (OriginPool.Member m : pool.members()) {
        timers.add(vertx.setPeriodic(1, hc.intervalMs(), id -> probe(pool, hc, m)));
      }
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    for (long id : timers) {
      vertx.cancelTimer(id);
    }
    return client.close();
  }

  private void probe(OriginPool pool, PoolConfig.HealthCheck hc, OriginPool.Member m) {
    if (!probing.add(m)) {
      return; // the last probe has not finished yet (its timeout is longer than the interval)
    }
    Probe p = new Probe(pool, hc, m);
    RequestOptions o = new RequestOptions()
        .setMethod(HttpMethod.GET)
        .setServer(SocketAddress.inetSocketAddress(m.port, m.host))
        .setHost(m.host)
        .setPort(m.port)
        .setURI(hc.path())
        .setSsl(pool.origin().tls())
        .setConnectTimeout(hc.timeoutMs())
        .setIdleTimeout(hc.timeoutMs())
        .putHeader("User-Agent", "edgecache-health-check");
    if (pool.sslOptions() != null) {
      o.setSslOptions(pool.sslOptions());
    }
    if (hc.host() != null) {
      o.putHeader("Host", hc.host());
    }
    p.timer = vertx.setTimer(hc.timeoutMs(), id -> p.done(false, "no response within " + hc.timeoutMs() + " ms"));
    client.request(o).onComplete(ar -> {
      if (ar.failed()) {
        p.done(false, ar.cause().toString());
        return;
      }
      p.request = ar.result();
      if (p.finished) {
        p.request.reset();
        return;
      }
      p.request.send().onComplete(rr -> {
        if (rr.failed()) {
          p.done(false, rr.cause().toString());
          return;
        }
        int status = rr.result().statusCode();
        rr.result().handler(b -> { }); // a probe reads and drops the body
        rr.result().exceptionHandler(t -> { });
        p.done(status >= 200 && status < 400, "status " + status);
      });
    });
  }

  /** One probe of one server; event-loop confined. */
  private final class Probe {
    private final OriginPool pool;
    private final PoolConfig.HealthCheck hc;
    private final OriginPool.Member member;
    private long timer = -1;
    private HttpClientRequest request;
    private boolean finished;

    Probe(OriginPool pool, PoolConfig.HealthCheck hc, OriginPool.Member member) {
      this.pool = pool;
      this.hc = hc;
      this.member = member;
    }

    void done(boolean ok, String what) {
      if (finished) {
        return;
      }
      finished = true;
      vertx.cancelTimer(timer);
      probing.remove(member);
      if (!ok && request != null) {
        request.reset();
      }
      if (stopped) {
        return;
      }
      if (member.health.probed(ok, hc.healthy(), hc.unhealthy())) {
        if (ok) {
          log.info("origin {} server {} is up: {} health checks in a row passed", pool.name(), member.id, hc.healthy());
        } else {
          log.warn("origin {} server {} is down: {} health checks in a row failed (last: {})", pool.name(), member.id,
              hc.unhealthy(), what);
        }
      }
    }
  }
}
