package io.edgecache.proxy.http;

import io.edgecache.proxy.cluster.Rendezvous;
import io.edgecache.proxy.config.PoolConfig;
import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.metrics.ProxyMetrics;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The servers of one origin ({@code origins[].servers}, or its one {@code url}) and the choice of
 * one of them for each origin request.
 *
 * <h2>Choosing</h2>
 * Only servers that are {@linkplain ServerHealth#available available} (up by the health checks
 * and not ejected) are candidates, and one server may be excluded (the one a failed attempt used).
 * <ul>
 *   <li>{@code round-robin}: smooth weighted round robin, as nginx does it. Every pick adds each
 *   candidate's weight to its running score, takes the highest and subtracts the candidates' total
 *   from it; weights 3:1 give A A B A, A A B A, ... Exactly in proportion, and interleaved rather
 *   than in bursts.</li>
 *   <li>{@code least-connections}: the candidate with the fewest requests in flight per unit of
 *   weight (in flight: from the pick until the response body ended or failed); ties go round a
 *   rotating start so that idle servers share the load.</li>
 *   <li>{@code hash}: weighted rendezvous hashing of the cache key ({@link Rendezvous#score}
 *   turned into {@code weight / -ln(u)}): a URL keeps going to one server, so each server's cache
 *   holds its share; when a server leaves, only its keys move.</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * One pool is shared by every event loop: health and counters are thread-safe, the round-robin
 * scores are guarded by the pool's lock (held for a loop over the servers). {@link #pick} never
 * blocks on I/O.
 */
final class OriginPool {
  private static final Logger log = LoggerFactory.getLogger(OriginPool.class);

  /**
   * One server: address, health, requests in flight and counters. A reload that keeps the server
   * (same origin name, same host:port) keeps this object, and so its health and counts.
   */
  static final class Member {
    final String host;
    final int port;
    final String id;
    final ServerHealth health = new ServerHealth();
    final AtomicInteger inFlight = new AtomicInteger();
    final LongAdder requests = new LongAdder();
    final LongAdder errors = new LongAdder();
    /** Its meters, or null when the pool has no metrics (tests). */
    ProxyMetrics.ServerMeters meters;

    Member(PoolConfig.Server server) {
      this.host = server.host();
      this.port = server.port();
      this.id = server.id();
    }

    @Override
    public String toString() {
      return id;
    }
  }

  private final String name;
  private final ProxyConfig.Origin origin;
  private final PoolConfig config;
  private final Member[] members;
  private final int[] weights;
  private final Clock clock;
  private final ClientSSLOptions sslOptions;
  private final int ejectAfter;
  /** Smooth round-robin scores; guarded by {@code this}. */
  private final int[] current;
  private final AtomicInteger cursor = new AtomicInteger();
  /** The lock of ejection decisions (see {@link #failed}). */
  private final Object ejections = new Object();

  /**
   * @param carried members of the previous configuration by server id, reused when still listed
   * @param metrics where new members register their meters, or null
   */
  OriginPool(ProxyConfig.Origin origin, Clock clock, ProxyMetrics metrics, Map<String, Member> carried) {
    this.name = origin.name();
    this.origin = origin;
    this.config = origin.pool();
    this.clock = clock;
    List<PoolConfig.Server> servers = config.servers();
    members = new Member[servers.size()];
    weights = new int[servers.size()];
    current = new int[servers.size()];
    for (int i = 0; i < members.length; i++) {
      PoolConfig.Server s = servers.get(i);
      Member m = carried.get(s.id());
      if (m == null) {
        m = new Member(s);
        if (metrics != null) {
          m.meters = metrics.originServer(name, s.id(), m, x -> x.requests.sum(), x -> x.errors.sum(),
              x -> x.health.available(clock.millis()) ? 1 : 0);
        }
      }
      members[i] = m;
      weights[i] = s.weight();
    }
    ejectAfter = members.length == 1 ? 0 : config.ejectAfter();
    sslOptions = origin.tls() ? sslOptions(config.tls()) : null;
  }

  /** A pool for {@code origin} alone, with no metrics and no carried state (tests, ad-hoc fetches). */
  static OriginPool standalone(ProxyConfig.Origin origin, Clock clock) {
    return new OriginPool(origin, clock, null, Map.of());
  }

  /**
   * The TLS options for the pool's servers: verification on (trust store: the JVM's, or
   * {@code caFile}), the host name checked as HTTPS clients do (RFC 2818 / RFC 6125), an optional
   * client certificate. Vert.x sends the server's host name as SNI.
   */
  static ClientSSLOptions sslOptions(PoolConfig.Tls tls) {
    ClientSSLOptions o = new ClientSSLOptions().setHostnameVerificationAlgorithm(tls.verify() ? "HTTPS" : "");
    if (!tls.verify()) {
      o.setTrustAll(true);
    } else if (tls.caFile() != null) {
      o.setTrustOptions(new PemTrustOptions().addCertPath(tls.caFile()));
    }
    if (tls.certFile() != null) {
      o.setKeyCertOptions(new PemKeyCertOptions().setCertPath(tls.certFile()).setKeyPath(tls.keyFile()));
    }
    return o;
  }

  String name() {
    return name;
  }

  ProxyConfig.Origin origin() {
    return origin;
  }

  /** The pool's configuration (health checks, balance, ejection). */
  PoolConfig config() {
    return config;
  }

  /** The TLS options of every connection to the pool's servers; null for http:// origins. */
  ClientSSLOptions sslOptions() {
    return sslOptions;
  }

  List<Member> members() {
    return List.of(members);
  }

  /**
   * The server for the next request, or null when no server other than {@code exclude} is available.
   *
   * @param key the cache key (used by {@code hash})
   * @param exclude a server not to choose (the one a failed attempt used), or null
   */
  Member pick(String key, Member exclude) {
    long now = clock.millis();
    if (members.length == 1) {
      Member only = members[0];
      return only != exclude && only.health.available(now) ? only : null;
    }
    return switch (config.balance()) {
      case ROUND_ROBIN -> roundRobin(now, exclude);
      case LEAST_CONNECTIONS -> leastConnections(now, exclude);
      case HASH -> hash(key == null ? "" : key, now, exclude);
    };
  }

  private synchronized Member roundRobin(long now, Member exclude) {
    int total = 0;
    int best = -1;
    for (int i = 0; i < members.length; i++) {
      if (members[i] == exclude || !members[i].health.available(now)) {
        continue;
      }
      current[i] += weights[i];
      total += weights[i];
      if (best < 0 || current[i] > current[best]) {
        best = i;
      }
    }
    if (best < 0) {
      return null;
    }
    current[best] -= total;
    return members[best];
  }

  private Member leastConnections(long now, Member exclude) {
    int start = Math.floorMod(cursor.getAndIncrement(), members.length);
    Member best = null;
    long bestLoad = 0;
    int bestWeight = 1;
    for (int k = 0; k < members.length; k++) {
      int i = (start + k) % members.length;
      Member m = members[i];
      if (m == exclude || !m.health.available(now)) {
        continue;
      }
      long load = m.inFlight.get();
      // load / weight < bestLoad / bestWeight, without division
      if (best == null || load * bestWeight < bestLoad * weights[i]) {
        best = m;
        bestLoad = load;
        bestWeight = weights[i];
      }
    }
    return best;
  }

  private Member hash(String key, long now, Member exclude) {
    Member best = null;
    double bestScore = 0;
    for (int i = 0; i < members.length; i++) {
      Member m = members[i];
      if (m == exclude || !m.health.available(now)) {
        continue;
      }
      // a uniform u in (0, 1) from the top 53 bits; weight / -ln(u) is highest for a share of
      // keys proportional to the weight (weighted rendezvous hashing)
      double u = ((Rendezvous.score(key, m.id) >>> 11) + 0.5) * 0x1.0p-53;
      double score = weights[i] / -Math.log(u);
      if (best == null || score > bestScore) {
        best = m;
        bestScore = score;
      }
    }
    return best;
  }

  /** A request is about to be sent to {@code m}. */
  void started(Member m) {
    m.inFlight.incrementAndGet();
    m.requests.increment();
  }

  /** {@code m} answered with a response head after {@code nanos}; a 5xx counts as a failure. */
  void answered(Member m, int status, long nanos) {
    if (m.meters != null) {
      m.meters.latency().record(nanos, TimeUnit.NANOSECONDS);
    }
    if (status >= 500) {
      failed(m, "status " + status);
    } else {
      m.health.succeeded();
    }
  }

  /**
   * A request to {@code m} failed ({@code why}: connect error, timeout, reset, 5xx). It may eject
   * the server, but never more than {@link #maxEjected()} of the pool's servers at once.
   */
  void failed(Member m, String why) {
    m.errors.increment();
    if (ejectAfter == 0) {
      return;
    }
    long ejectedFor;
    synchronized (ejections) { // count and eject as one step, whichever event loop fails first
      long now = clock.millis();
      int out = 0;
      for (Member other : members) {
        out += other.health.state(now) == ServerHealth.State.EJECTED ? 1 : 0;
      }
      ejectedFor = m.health.failed(now, ejectAfter, config.ejectForMs(), config.maxEjectMs(), out < maxEjected());
    }
    if (ejectedFor > 0) {
      log.warn("origin {} server {} ejected for {} ms after failed requests (last: {})", name, m.id, ejectedFor, why);
    }
  }

  /**
   * How many servers ejection may take out at once: half the pool, at least one. A fault that
   * makes every server fail alike (one URL that always answers 500, an overloaded backend) then
   * costs half the servers, not the whole origin; the rest keep serving (as Envoy's
   * {@code max_ejection_percent} bounds outlier ejection).
   */
  int maxEjected() {
    return Math.max(1, members.length / 2);
  }

  /** The request to {@code m} is over (its response body ended, or it failed): no longer in flight. */
  void finished(Member m) {
    m.inFlight.decrementAndGet();
  }

  /** The pool as {@code GET /origins} shows it. */
  JsonObject describe() {
    long now = clock.millis();
    JsonArray servers = new JsonArray();
    for (int i = 0; i < members.length; i++) {
      Member m = members[i];
      ServerHealth.State state = m.health.state(now);
      JsonObject s = new JsonObject()
          .put("server", m.id)
          .put("url", origin.scheme() + "://" + m.id)
          .put("weight", weights[i])
          .put("state", state.name().toLowerCase(java.util.Locale.ROOT))
          .put("inFlight", m.inFlight.get())
          .put("requests", m.requests.sum())
          .put("errors", m.errors.sum());
      if (state == ServerHealth.State.EJECTED) {
        s.put("ejectedUntil", Instant.ofEpochMilli(m.health.ejectedUntilMs()).toString());
      }
      servers.add(s);
    }
    JsonObject o = new JsonObject().put("name", name).put("balance", config.balance().configName())
        .put("healthCheck", config.healthCheck() != null)
        .put("ejectAfter", ejectAfter)
        .put("servers", servers);
    return o;
  }
}
