package io.edgecache.proxy;

import io.edgecache.proxy.admin.AdminVerticle;
import io.edgecache.proxy.cache.HttpCache;
import io.edgecache.proxy.config.ConfigException;
import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.http.ProxyContext;
import io.edgecache.proxy.http.ProxyVerticle;
import io.edgecache.storage.MemoryStore;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.net.BindException;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A running edgecache: Vert.x, the memory tier, one proxy verticle per event loop on the traffic
 * port, and the admin verticle. {@link #start} completes when every listener is bound.
 */
public final class ProxyServer {
  private final ProxyConfig config;
  private final Clock clock;
  private final AtomicBoolean ready = new AtomicBoolean();
  private Vertx vertx;
  private MemoryStore memory;
  private HttpCache cache;
  private int port;
  private int adminPort;

  public ProxyServer(ProxyConfig config) {
    this(config, Clock.systemUTC());
  }

  public ProxyServer(ProxyConfig config, Clock clock) {
    this.config = config;
    this.clock = clock;
  }

  public Future<ProxyServer> start() {
    int loops = config.listen().eventLoops();
    vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(Math.max(loops, 1)));
    memory = new MemoryStore(config.memory().maxBytes(), config.memory().maxObjectBytes());
    cache = new HttpCache(memory);
    // Vert.x shares one listening socket among instances bound to the same host:port, but each
    // instance asking for port 0 would get its own random port: pick one port for all of them.
    int listenPort = config.listen().port() == 0 ? freePort(config.listen().host()) : config.listen().port();
    ProxyContext ctx = ProxyContext.of(config.withListenPort(listenPort), cache, clock);
    java.util.List<ProxyVerticle> verticles = new java.util.concurrent.CopyOnWriteArrayList<>();
    return vertx.deployVerticle(() -> {
          ProxyVerticle v = new ProxyVerticle(ctx);
          verticles.add(v);
          return v;
        }, new DeploymentOptions().setInstances(loops))
        .recover(t -> Future.failedFuture(bindError(t, "listen", config.listen().host(), config.listen().port())))
        .compose(id -> {
          port = verticles.get(0).actualPort();
          for (ProxyVerticle v : verticles) {
            if (v.actualPort() != port) {
              return Future.failedFuture(new IllegalStateException("event loops bound different ports"));
            }
          }
          return Future.succeededFuture();
        })
        .compose(v -> {
          AdminVerticle admin = new AdminVerticle(config, ready::get, memory::stats, cache);
          return vertx.deployVerticle(admin)
              .recover(t -> Future.failedFuture(bindError(t, "admin", config.admin().host(), config.admin().port())))
              .map(id -> admin.actualPort());
        })
        .map(ap -> {
          adminPort = ap;
          ready.set(true);
          return this;
        })
        .onFailure(t -> vertx.close());
  }

  private static int freePort(String host) {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName(host))) {
      return s.getLocalPort();
    } catch (java.io.IOException e) {
      return 0;
    }
  }

  private Throwable bindError(Throwable t, String section, String host, int configuredPort) {
    Throwable c = t;
    while (c != null) {
      if (c instanceof BindException || (c.getMessage() != null && c.getMessage().contains("Address already in use"))) {
        return new ConfigException(config.source() + ": " + section + ".port: cannot listen on " + host + ":"
            + configuredPort + " (" + "address already in use" + ")");
      }
      c = c.getCause();
    }
    return t;
  }

  public int port() {
    return port;
  }

  public int adminPort() {
    return adminPort;
  }

  public HttpCache cache() {
    return cache;
  }

  public MemoryStore memory() {
    return memory;
  }

  public Vertx vertx() {
    return vertx;
  }

  public Future<Void> stop() {
    ready.set(false);
    Vertx v = vertx;
    return v == null ? Future.succeededFuture() : v.close().onComplete(ar -> memory.close());
  }
}
