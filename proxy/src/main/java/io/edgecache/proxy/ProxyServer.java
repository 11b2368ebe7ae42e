package io.edgecache.proxy;

import io.edgecache.proxy.admin.AdminVerticle;
import io.edgecache.proxy.admin.StatusReport;
import io.edgecache.proxy.cache.HeapLayout;
import io.edgecache.proxy.cache.HttpCache;
import io.edgecache.proxy.cluster.ClusterNode;
import io.edgecache.proxy.cluster.HazelcastSetup;
import io.edgecache.proxy.config.ConfigException;
import io.edgecache.proxy.config.ConfigLoader;
import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.config.ReloadPlan;
import io.edgecache.proxy.http.GuardedTransport;
import io.edgecache.proxy.http.HeapGuard;
import io.edgecache.proxy.http.Peers;
import io.edgecache.proxy.http.ProxyContext;
import io.edgecache.proxy.http.ProxyVerticle;
import io.edgecache.proxy.metrics.ProxyMetrics;
import io.edgecache.proxy.tls.CertificateReloader;
import io.edgecache.proxy.tls.TlsMaterial;
import io.edgecache.storage.DiskOptions;
import io.edgecache.storage.DiskStats;
import io.edgecache.storage.DiskStore;
import io.edgecache.storage.MemoryStore;
import io.edgecache.storage.Store;
import io.edgecache.storage.StoreException;
import io.edgecache.storage.TieredStore;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.net.BindException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running edgecache: Vert.x (with Micrometer metrics), the memory tier, one proxy verticle per
 * event loop on the traffic port, and the admin verticle. {@link #start} completes when every
 * listener is bound; {@link #stop} drains in-flight requests; {@link #reload} swaps routing,
 * policy knobs and ACLs without dropping connections.
 */
public final class ProxyServer {
  private static final Logger log = LoggerFactory.getLogger("edgecache");

  private final ProxyConfig config;
  private final Clock clock;
  private final AtomicBoolean ready = new AtomicBoolean();
  private final AtomicReference<ProxyContext> context = new AtomicReference<>();
  private final List<String> proxyDeployments = new CopyOnWriteArrayList<>();
  /** The event loop threads of each listener ("listen", "listen.tls"), one per instance. */
  private final java.util.Map<String, List<Thread>> loopThreads = new java.util.concurrent.ConcurrentHashMap<>();
  private final List<ProxyVerticle> tlsVerticles = new CopyOnWriteArrayList<>();
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private Vertx vertx;
  private MemoryStore memory;
  private DiskStore disk;
  private TieredStore tiered;
  private HttpCache cache;
  private HeapGuard guard;
  private HazelcastClusterManager clusterManager;
  private ClusterNode cluster;
  private final Peers.Switch peers = new Peers.Switch();
  private int pinnedListenPort;
  private ProxyMetrics metrics;
  private java.time.Instant startedAt;
  private int port;
  private int tlsPort;
  private int adminPort;
  /** The HTTPS listener's certificate, or null without {@code listen.tls}. */
  private CertificateReloader certificates;
  /** What {@code listen.transport} resolved to on this machine (never {@code AUTO} once started). */
  private ProxyConfig.Transport transport = ProxyConfig.Transport.AUTO;

  public ProxyServer(ProxyConfig config) {
    this(config, Clock.systemUTC());
  }

  public ProxyServer(ProxyConfig config, Clock clock) {
    this.config = config;
    this.clock = clock;
  }

  public Future<ProxyServer> start() {
    startedAt = clock.instant();
    if (config.listen().tls() != null) {
      try {
        io.edgecache.proxy.tls.TlsListener.checkEngine(config.listen().tls(), config.source());
        TlsMaterial first = TlsMaterial.load(config.listen().tls(), config.source());
        certificates = new CertificateReloader(config.listen().tls(), config.source(), first, this::serveCertificate);
      } catch (ConfigException e) {
        return Future.failedFuture(e);
      }
    }
    io.vertx.core.transport.Transport transport;
    try {
      transport = NetTransport.choose(config.listen().transport(), config.source());
    } catch (ConfigException e) {
      return Future.failedFuture(e);
    }
    this.transport = NetTransport.setting(transport);
    transport = GuardedTransport.of(transport); // every socket, the event bus's too
    int loops = config.listen().eventLoops();
    VertxOptions options = new VertxOptions()
        .setEventLoopPoolSize(Math.max(loops, 1))
        // Vert.x's own HTTP server and client meters are off: they look up (register) several
        // meters per request, about a tenth of the CPU of a cache hit or a pass-through request
        // in a profile. edgecache_requests_total, edgecache_request_duration_seconds,
        // edgecache_client_connections and edgecache_origin_request_seconds cover the same ground.
        .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)
            .addDisabledMetricsCategory(MetricsDomain.HTTP_SERVER).addDisabledMetricsCategory(MetricsDomain.HTTP_CLIENT));
    ProxyConfig.Cluster cc = config.cluster();
    if (!cc.enabled()) {
      vertx = Vertx.builder().with(options).withTransport(transport).withMetrics(new MicrometerMetricsFactory(registry)).build();
      return startOn();
    }
    int listenPort = config.listen().port() == 0 ? freePort(config.listen().host()) : config.listen().port();
    String advertise = cc.advertiseUrl() != null ? cc.advertiseUrl()
        : "http://" + (cc.bindHost().contains(":") ? "[" + cc.bindHost() + "]" : cc.bindHost()) + ":" + listenPort;
    pinnedListenPort = listenPort;
    clusterManager = HazelcastSetup.clusterManager(cc, advertise);
    HazelcastSetup.eventBus(options.getEventBusOptions(), cc);
    return Vertx.builder().with(options).withTransport(transport).withMetrics(new MicrometerMetricsFactory(registry))
        .withClusterManager(clusterManager).buildClustered()
        .recover(t -> Future.failedFuture(new ConfigException(config.source() + ": cluster.bind: cannot join at "
            + cc.bindHost() + ":" + cc.bindPort() + " (" + rootMessage(t) + ")")))
        .compose(v -> {
          vertx = v;
          return startOn();
        });
  }

  private static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c.getMessage() != null ? c.getMessage() : c.toString();
  }

  private Future<ProxyServer> startOn() {
    int loops = config.listen().eventLoops();
    metrics = new ProxyMetrics(registry);
    metrics.buildInfo(Main.version(), transport.value());
    memory = new MemoryStore(config.memory().maxBytes(), config.memory().maxObjectBytes(), Runnable::run,
        HeapLayout.current()::extraBytes);
    metrics.tier("memory", memory::stats);
    Store store = memory;
    if (config.disk().enabled()) {
      try {
        disk = DiskStore.open(new DiskOptions(Path.of(config.disk().path()), config.disk().maxBytes(),
            config.disk().chunkBytes(), 2, config.disk().maxObjectBytes(),
            java.time.Duration.ofMillis(config.disk().retryAfterMs()), config.disk().minFreeBytes(), config.disk().indexMaxBytes()));
      } catch (StoreException e) {
        vertx.close();
        return Future.failedFuture(new ConfigException(config.source() + ": disk.path: " + e.getMessage()));
      }
      DiskStore d = disk;
      metrics.tier("disk", d::stats);
      metrics.tierCounter("edgecache.disk.checksum.failures", "Disk chunks that failed their CRC32C check (entry evicted, served from origin)",
          "disk", () -> d.diskStats().checksumFailures());
      metrics.tierCounter("edgecache.disk.store.errors", "Disk writes that failed (I/O error, disk full); storing pauses and retries",
          "disk", () -> d.diskStats().storeErrors());
      metrics.tierCounter("edgecache.disk.read.errors", "Disk reads that failed with an I/O error", "disk",
          () -> d.diskStats().readErrors());
      metrics.tierCounter("edgecache.disk.overloaded", "Disk operations refused because the worker queue was full", "disk",
          () -> d.diskStats().overloaded());
      metrics.tierCounter("edgecache.disk.read.bytes", "Body bytes read from the disk tier and verified (chunk payloads)",
          "disk", () -> d.diskStats().bodyBytesRead());
      metrics.tierGauge("edgecache.disk.held.for.readers", "Bytes of removed entries kept on disk until their readers"
          + " finish (beyond disk.maxBytes; at most a tenth of it)", "disk", d::bytesHeldForReaders);
      metrics.diskRecovery("repaired", () -> d.diskStats().repaired());
      metrics.diskRecovery("moved_aside", () -> d.diskStats().movedAside());
      tiered = new TieredStore(memory, d);
      store = tiered;
    }
    cache = new HttpCache(store, config.limits().maxVariants());
    // Vert.x shares one listening socket among instances bound to the same host:port, but each
    // instance asking for port 0 would get its own random port: pick one port for all of them.
    int listenPort = pinnedListenPort > 0 ? pinnedListenPort
        : config.listen().port() == 0 ? freePort(config.listen().host()) : config.listen().port();
    ProxyConfig.Tls tls = config.listen().tls();
    int tlsListenPort = tls == null ? 0 : tls.port() == 0 ? freePort(config.listen().host()) : tls.port();
    context.set(ProxyContext.of(config.withListen(config.listen().withPort(listenPort).withTlsPort(tlsListenPort)), cache,
        clock, metrics, peers));
    guard = HeapGuard.watch(context.get(), memory, config.memory().pressureThreshold());
    HeapGuard g = guard;
    metrics.tierCounter("edgecache.heap.sheds", "Collections after which the heap was above memory.pressureThreshold"
        + " (each shed part of the memory tier)", "memory", g::sheds);
    MemoryStore m = memory;
    metrics.tierGauge("edgecache.cache.detached", "Bodies slow readers still hold that the tier no longer stores"
        + " (counted against its bound)", "memory", m::detachedBytes);
    java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();
    metrics.clientConnections(connections);
    metrics.clientWritesOutOfMemory(ProxyVerticle.closedOutOfMemory());
    metrics.readsOutOfMemory(io.edgecache.proxy.http.ReadMemoryGuard.ended());
    metrics.directMemory(ProxyVerticle::directMemoryUsed, io.netty.util.internal.PlatformDependent.maxDirectMemory(),
        ProxyVerticle::directCopyBytes);
    if (certificates != null) {
      metrics.tlsCertificate(certificates, c -> c.current().notAfterEpochSeconds(), CertificateReloader::reloads,
          CertificateReloader::refusals);
    }
    Future<Void> joined = Future.succeededFuture();
    if (clusterManager != null) {
      // joined and caught up with the purge log before the traffic port is bound
      DiskStore d = disk;
      Path position = d == null ? null : Path.of(config.disk().path()).resolve("cluster-purge-position");
      joined = ClusterNode.join(vertx, clusterManager, config.cluster(), context.get().purges(), position,
          () -> d != null && d.diskStats().entries() > 0, metrics).map(node -> {
            cluster = node;
            peers.set(node);
            context.get().purges().fanOut(node);
            return null;
          });
    }
    Future<Void> listening = joined.compose(j -> context.get().pools().startHealthChecks(vertx));
    if (config.listen().plain()) {
      listening = listening.compose(j -> listen(loops, connections, null, "listen", config.listen().port()))
          .map(p -> {
            port = p;
            return null;
          });
    }
    if (tls != null) {
      listening = listening.compose(j -> listen(loops, connections, certificates::current, "listen.tls", tls.port()))
          .map(p -> {
            tlsPort = p;
            return null;
          });
    }
    return listening
        .compose(id -> {
          StatusReport report = new StatusReport(registry, clock, new StatusReport.Sources(Main.version(), startedAt,
              config.source(), loops, transport.value(), () -> context.get().pools().describe(), this::clusterView,
              context.get().purges()));
          AdminVerticle admin = new AdminVerticle(config, ready::get, this::stats, context.get().purges(), registry,
              this::reload, this::clusterView, () -> context.get().pools().describe(),
              key -> context.get().router().routedKey(key), new AdminVerticle.StatusPage(report, this::reloadPreview));
          return vertx.deployVerticle(admin)
              .recover(t -> Future.failedFuture(bindError(t, "admin", config.admin().host(), config.admin().port())))
              .map(x -> admin.actualPort());
        })
        .map(ap -> {
          adminPort = ap;
          if (certificates != null) {
            certificates.watch(vertx);
          }
          ready.set(true);
          return this;
        })
        .onFailure(t -> {
          if (cluster != null) {
            cluster.close();
          }
          vertx.close();
          if (tiered != null) {
            tiered.close(); // release the database lock so a corrected start can open it
          }
        });
  }

  /**
   * Deploys {@code loops} proxy verticles on one port: plain HTTP, or HTTPS when
   * {@code certificate} is given. Completes with the port bound.
   */
  private Future<Integer> listen(int loops, java.util.concurrent.atomic.AtomicInteger connections,
      java.util.function.Supplier<TlsMaterial> certificate, String section, int configuredPort) {
    List<ProxyVerticle> verticles = new CopyOnWriteArrayList<>();
    // the origin clients first, here: one made while the instances are given their event loops
    // would take a loop's turn (ProxyVerticle's constructor says how)
    java.util.Deque<io.vertx.core.http.HttpClient> clients = new java.util.concurrent.ConcurrentLinkedDeque<>();
    for (int i = 0; i < loops; i++) {
      clients.add(ProxyVerticle.originClient(vertx, context.get().config()));
    }
    return vertx.deployVerticle(() -> {
          ProxyVerticle v = new ProxyVerticle(context::get, connections, certificate, clients.poll());
          verticles.add(v);
          return v;
        }, new DeploymentOptions().setInstances(loops))
        .recover(t -> Future.failedFuture(bindError(t, section, config.listen().host(), configuredPort)))
        .compose(id -> {
          proxyDeployments.add(id);
          if (certificate != null) {
            tlsVerticles.addAll(verticles);
          }
          long distinct = verticles.stream().map(ProxyVerticle::eventLoopThread).distinct().count();
          if (distinct < verticles.size()) {
            log.warn("{}: {} instances share {} event loops; some loops serve no connection", section,
                verticles.size(), distinct);
          }
          loopThreads.put(section, verticles.stream().map(ProxyVerticle::eventLoopThread).toList());
          int bound = verticles.get(0).actualPort();
          for (ProxyVerticle v : verticles) {
            if (v.actualPort() != bound) {
              return Future.failedFuture(new IllegalStateException("event loops bound different ports"));
            }
          }
          return Future.succeededFuture(bound);
        });
  }

  /** The event loop threads serving {@code section} ("listen" or "listen.tls"), one per instance. */
  public List<Thread> eventLoopThreads(String section) {
    return loopThreads.getOrDefault(section, List.of());
  }

  /** Gives every HTTPS listener instance {@code next}; new handshakes use it, open connections keep theirs. */
  private Future<?> serveCertificate(TlsMaterial next) {
    List<Future<Boolean>> all = new ArrayList<>();
    for (ProxyVerticle v : tlsVerticles) {
      all.add(v.serve(next));
    }
    return Future.all(all);
  }

  /**
   * Re-reads the configuration file and applies what can change while running: origins and host
   * routing, cache policy knobs, purge ACLs and tokens. Settings that need a restart are named in
   * the result; an invalid file is refused (ConfigException) and the running config stays.
   */
  public synchronized ReloadResult reload() {
    ProxyContext current = context.get();
    ProxyConfig next = ConfigLoader.load(Path.of(current.config().source()));
    ProxyConfig now = current.config();
    List<String> restart = ReloadPlan.between(config, now, next).restartNeeded();
    // keep the running listen/admin/memory/limits/upstream; take everything else from the new file
    ProxyConfig applied = new ProxyConfig(now.source(), now.listen(), now.admin(), next.origins(), now.memory(),
        now.disk(), now.upstream(), now.limits(), next.cache(), next.purge(), next.accessLog(), now.shutdown(), now.cluster(), now.startup());
    ProxyContext reconfigured = current.reconfigured(applied);
    context.set(reconfigured);
    // the new pools carry over each kept server's state; their checks replace the old ones
    current.pools().stopHealthChecks().onComplete(x -> reconfigured.pools().startHealthChecks(vertx));
    log.info("configuration reloaded from {}: {} origins{}", now.source(), applied.origins().size(),
        restart.isEmpty() ? "" : "; restart needed for: " + String.join(", ", restart));
    // the running listener's files, read again: a renewed certificate needs no restart
    String tls = certificates == null ? null : certificates.check(true).message();
    return new ReloadResult(List.copyOf(restart), tls);
  }

  /**
   * What {@link #reload} would change, without changing anything: the file is read and validated
   * as a reload reads it. Throws {@link ConfigException} when the file would be refused.
   */
  public ReloadPlan reloadPreview() {
    ProxyConfig now = context.get().config();
    return ReloadPlan.between(config, now, ConfigLoader.load(Path.of(now.source())));
  }

  /** {@code GET /cluster}: the members as this node sees them, or {@code {"enabled": false}}. */
  private io.vertx.core.json.JsonObject clusterView() {
    ClusterNode c = cluster;
    return c == null ? new io.vertx.core.json.JsonObject().put("enabled", false) : c.describe();
  }

  /** Tier sizes and counters for {@code GET /stats}. */
  private io.vertx.core.json.JsonObject stats() {
    io.vertx.core.json.JsonObject out = new io.vertx.core.json.JsonObject();
    io.edgecache.storage.StoreStats m = memory.stats();
    out.put("memory", new io.vertx.core.json.JsonObject().put("entries", m.entries()).put("bytes", m.bytes())
        .put("maxBytes", m.maxBytes()).put("evictions", m.evictions()).put("rejected", m.rejected())
        .put("detachedBytes", memory.detachedBytes()).put("shedding", guard.shedding()).put("sheds", guard.sheds()));
    if (disk != null) {
      DiskStats d = disk.diskStats();
      out.put("disk", new io.vertx.core.json.JsonObject().put("entries", d.entries()).put("bytes", d.bytes())
          .put("maxBytes", d.maxBytes()).put("evictions", d.evictions()).put("rejected", d.rejected())
          .put("checksumFailures", d.checksumFailures()).put("storeErrors", d.storeErrors())
          .put("readErrors", d.readErrors()).put("orphansSwept", d.orphansSwept()).put("compactions", d.compactions())
          .put("overloaded", d.overloaded()).put("droppedByRemoval", d.droppedByRemoval()).put("storing", d.storing())
          .put("streamsOpen", d.streamsOpen()).put("streamsCommitted", d.streamsCommitted())
          .put("bodyBytesRead", d.bodyBytesRead())
          .put("recoveries", new io.vertx.core.json.JsonObject().put("repaired", d.repaired())
              .put("movedAside", d.movedAside())));
    }
    return out;
  }

  /**
   * What a reload could not apply without a restart (top-level config sections), and what became
   * of the HTTPS certificate (reloaded, unchanged, or kept because the new files are unusable;
   * null without {@code listen.tls}).
   */
  public record ReloadResult(List<String> restartNeeded, String tls) {
    public ReloadResult(List<String> restartNeeded) {
      this(restartNeeded, null);
    }
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
            + configuredPort + " (address already in use)");
      }
      c = c.getCause();
    }
    return t;
  }

  /** What {@code listen.transport} resolved to here ({@code AUTO} before {@link #start}). */
  public ProxyConfig.Transport transport() {
    return transport;
  }

  /** The plain-HTTP port bound (0 with {@code listen.plain: false}). */
  public int port() {
    return port;
  }

  /** The HTTPS port bound (0 without {@code listen.tls}). */
  public int tlsPort() {
    return tlsPort;
  }

  /** The HTTPS listener's certificate keeper, or null without {@code listen.tls}. */
  public CertificateReloader certificates() {
    return certificates;
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

  /** The disk tier, or null when the cache is memory only. */
  public DiskStore disk() {
    return disk;
  }

  public Vertx vertx() {
    return vertx;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public ProxyConfig config() {
    return context.get().config();
  }

  public boolean ready() {
    return ready.get();
  }

  /**
   * Graceful stop: readiness turns false, the traffic listener stops accepting, in-flight requests
   * get up to {@code shutdown.drainTimeout} to finish, then everything closes.
   */
  public Future<Void> stop() {
    ready.set(false);
    if (certificates != null) {
      certificates.close();
    }
    Vertx v = vertx;
    if (v == null) {
      return Future.succeededFuture();
    }
    Future<Void> drained = Future.succeededFuture();
    for (String id : proxyDeployments) {
      drained = drained.compose(x -> v.undeploy(id)); // ProxyVerticle.stop() drains its server
    }
    return drained.recover(t -> Future.succeededFuture())
        .compose(x -> {
          if (cluster != null) {
            cluster.close();
          }
          return v.close(); // a clustered Vert.x leaves the cluster here
        })
        .onComplete(ar -> {
          guard.close();
          if (tiered != null) {
            tiered.close(); // closes the disk tier cleanly: everything committed survives a restart
          } else {
            memory.close();
          }
        });
  }
}
