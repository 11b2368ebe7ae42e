package io.edgecache.proxy.config;

import io.edgecache.proxy.policy.FieldNames;
import java.util.List;
import java.util.Set;

/**
 * The whole validated configuration. Built only by {@link ConfigLoader}; every field has a safe
 * default documented in README.md (configuration reference).
 */
public record ProxyConfig(
    String source,
    Listen listen,
    Admin admin,
    List<Origin> origins,
    Memory memory,
    Disk disk,
    Upstream upstream,
    Limits limits,
    Cache cache,
    Purge purge,
    AccessLog accessLog,
    Shutdown shutdown,
    Cluster cluster,
    Startup startup) {

  /**
   * The traffic listeners. {@code eventLoops} verticle instances share each port.
   *
   * @param tls the HTTPS listener on the same host, or null
   * @param plain whether plain HTTP is served on {@code port} ({@code listen.plain}; false only with TLS)
   * @param transport the socket layer under every listener and origin connection ({@code listen.transport})
   */
  public record Listen(String host, int port, int eventLoops, Tls tls, boolean plain, Transport transport) {
    /** Plain HTTP only. */
    public Listen(String host, int port, int eventLoops) {
      this(host, port, eventLoops, null, true, Transport.AUTO);
    }

    /** The same listeners with plain HTTP on {@code next}. */
    public Listen withPort(int next) {
      return new Listen(host, next, eventLoops, tls, plain, transport);
    }

    /** The same listeners with HTTPS on {@code next}. */
    public Listen withTlsPort(int next) {
      return new Listen(host, port, eventLoops, tls == null ? null : tls.withPort(next), plain, transport);
    }
  }

  /**
   * {@code listen.transport}: how sockets are driven. {@code AUTO} takes io_uring where the kernel
   * and the process allow it (Linux 5.14+, not blocked by a seccomp profile), else epoll, else the
   * JDK's NIO; the others are that one by name (start-up fails where it is not available).
   */
  public enum Transport {
    AUTO, IO_URING, EPOLL, NIO;

    /** As written in the config file, the log and the metrics: {@code auto}, {@code io_uring}, ... */
    public String value() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * The HTTPS listener ({@code listen.tls}): certificate chain and key from PEM files, re-read on
   * reload and when the files change.
   *
   * @param protocols TLS versions offered ({@code TLSv1.2}, {@code TLSv1.3})
   * @param http2 offer {@code h2} by ALPN besides {@code http/1.1}
   * @param maxConcurrentStreams HTTP/2 streams a client may have open at once on one connection
   * @param watchIntervalMs how often the files are checked for a new certificate; 0 = only on reload
   * @param engine the TLS implementation
   */
  public record Tls(int port, String certFile, String keyFile, List<String> protocols, boolean http2,
      int maxConcurrentStreams, long watchIntervalMs, Engine engine) {
    /**
     * {@code listen.tls.engine}: OpenSSL (BoringSSL through netty-tcnative) where its native
     * library loads, else the JDK's TLS ({@code AUTO}); either one by name.
     */
    public enum Engine { AUTO, JDK, OPENSSL }

    public Tls {
      protocols = List.copyOf(protocols);
    }

    Tls withPort(int next) {
      return new Tls(next, certFile, keyFile, protocols, http2, maxConcurrentStreams, watchIntervalMs, engine);
    }
  }

  /**
   * The admin listener (health, readiness, stats, purge API).
   *
   * @param token when set, every admin endpoint but /healthz and /readyz needs
   *     {@code Authorization: Bearer <token>}
   */
  public record Admin(String host, int port, String token) {}

  /**
   * Who may purge with the PURGE method on the traffic port, and whether tags leave the cache.
   *
   * @param allow client networks allowed without a token
   * @param token a bearer token accepted from any address, or null
   * @param exposeTags keep Surrogate-Key / Cache-Tag in responses to clients
   */
  public record Purge(List<io.edgecache.proxy.purge.Cidr> allow, String token, boolean exposeTags) {}

  /** One line per request on stdout: {@code combined} (plus cache status and origin time) or {@code json}. */
  public record AccessLog(boolean enabled, String format) {}

  /**
   * Many nodes as one cache (Vert.x clustering on Hazelcast); {@link #DISABLED} unless
   * {@code cluster.enabled}.
   *
   * @param bindHost the address this node's Hazelcast member listens on and peers reach it at
   * @param members static seed list ({@code host:port}); empty with Kubernetes discovery
   * @param kubernetesDns the headless Service's DNS name ({@code svc.ns.svc.cluster.local}), or null
   * @param advertiseUrl how peers reach this node's traffic port (peer fills)
   * @param token the shared secret that signs member proofs and purges
   * @param eventBusPort the clustered event bus port on {@code bindHost}; 0 picks a free one
   */
  public record Cluster(boolean enabled, String name, String bindHost, int bindPort, List<String> members,
      String kubernetesDns, Mode mode, String advertiseUrl, String token, int eventBusPort, long peerTimeoutMs,
      long purgeTimeoutMs, long memberTimeoutMs) {
    /** Replicated: every node caches on its own. Sharded: each key has one owner that fills it. */
    public enum Mode { REPLICATED, SHARDED }

    public static final Cluster DISABLED = new Cluster(false, "edgecache", "127.0.0.1", 5801, List.of(), null,
        Mode.REPLICATED, null, null, 0, 2000, 1500, 10_000);

    public Cluster {
      members = List.copyOf(members);
    }
  }

  /** Graceful shutdown: how long in-flight requests may take to finish after SIGTERM. */
  public record Shutdown(long drainTimeoutMs) {}

  /**
   * Start-up: how long the request path is exercised against a built-in origin on loopback before
   * the listeners open, so the JIT has compiled it when the first client arrives; 0 = off.
   */
  public record Startup(long warmupMs) {}

  /** The largest body the cache keeps in any tier (what a fill may collect). */
  public long maxCachedObjectBytes() {
    return disk.enabled() ? Math.max(memory.maxObjectBytes(), disk.maxObjectBytes()) : memory.maxObjectBytes();
  }

  /** The same configuration listening on another port (used to pin port 0 to one real port). */
  public ProxyConfig withListenPort(int port) {
    return withListen(listen.withPort(port));
  }

  /** The same configuration with other listeners (used to pin port 0 to one real port). */
  public ProxyConfig withListen(Listen next) {
    return new ProxyConfig(source, next, admin, origins, memory,
        disk, upstream, limits, cache, purge, accessLog, shutdown, cluster, startup);
  }

  /** The same configuration with another start-up section. */
  public ProxyConfig withStartup(Startup next) {
    return new ProxyConfig(source, listen, admin, origins, memory, disk, upstream, limits, cache, purge, accessLog,
        shutdown, cluster, next);
  }

  /**
   * One origin and the Host names routed to it ({@code "*"} matches any host).
   *
   * @param host the first server's host (the only one unless {@code servers} lists several)
   * @param port the first server's port
   * @param preserveHost send the client's Host to the origin (true) or the origin URL's authority
   * @param pool the servers behind the origin and how they are balanced and checked
   * @param routes per-path rules ({@code origins[].routes}), longest path first
   * @param redirectHttps answer plain-HTTP requests with a redirect to the HTTPS listener
   */
  public record Origin(String name, String scheme, String host, int port, List<String> hosts, boolean preserveHost,
      PoolConfig pool, List<Route> routes, boolean redirectHttps) {
    public Origin {
      routes = List.copyOf(routes);
    }

    /** An origin of one server, {@code host:port}, with the pool defaults, no routes and no redirect. */
    public Origin(String name, String scheme, String host, int port, List<String> hosts, boolean preserveHost) {
      this(name, scheme, host, port, hosts, preserveHost, PoolConfig.single(host, port), List.of(), false);
    }

    /** An origin without routes or redirect. */
    public Origin(String name, String scheme, String host, int port, List<String> hosts, boolean preserveHost,
        PoolConfig pool) {
      this(name, scheme, host, port, hosts, preserveHost, pool, List.of(), false);
    }

    public boolean tls() {
      return scheme.equals("https");
    }

    /**
     * The route for a request to {@code path} (normalised, without the query) with
     * {@code method}: the longest matching prefix whose methods allow it, or null.
     */
    public Route route(String path, String method) {
      for (Route r : routes) { // longest path first (RouteLoader)
        if (path.startsWith(r.path()) && r.allows(method)) {
          return r;
        }
      }
      return null;
    }
  }

  /**
   * Rules for the requests whose path starts with {@code path} (the longest matching prefix wins)
   * and, when {@code methods} is not empty, whose method is listed.
   *
   * @param bypass never cached: every request goes to the origin, nothing is stored
   * @param query which query parameters the cache key and the origin request keep
   * @param keyHeaders lower-case request header names whose values select a variant, as if the
   *     origin had listed them in Vary
   * @param keyCookies cookie names whose values select a variant
   * @param ttl freshness rules on top of the origin's
   */
  public record Route(String path, Set<String> methods, boolean bypass, io.edgecache.proxy.cache.QueryRule query,
      List<String> keyHeaders, List<String> keyCookies, io.edgecache.proxy.policy.TtlRules ttl) {
    public Route {
      methods = Set.copyOf(methods);
      keyHeaders = List.copyOf(keyHeaders);
      keyCookies = List.copyOf(keyCookies);
    }

    /** Whether a request with {@code method} (upper case) falls under this route. */
    public boolean allows(String method) {
      return methods.isEmpty() || methods.contains(method);
    }
  }

  /**
   * The memory tier: total bytes and the largest object it keeps, plus the heap that bodies being
   * fetched may occupy together while they are collected for the cache.
   *
   * @param pressureThreshold fraction of the max heap in use after a collection above which the
   *     memory tier sheds entries and new fills stop (see {@code HeapGuard})
   */
  public record Memory(long maxBytes, long maxObjectBytes, long fillBufferBytes, double pressureThreshold) {}

  /**
   * The disk tier (LevelDB); {@code path} null means memory only.
   *
   * @param maxObjectBytes the largest body stored on disk; bodies above memory.maxObjectBytes live
   *     on disk only and are streamed from it in chunks
   * @param retryAfterMs   after a failed disk write (I/O error, too little free space), how long
   *     nothing is stored before writes are tried again
   * @param minFreeBytes   writes are refused while the file system has less than this free
   * @param indexMaxBytes  bound on the heap of the tier's in-memory index (key, generation, tags)
   */
  public record Disk(String path, long maxBytes, long maxObjectBytes, int chunkBytes, long retryAfterMs,
      long minFreeBytes, long indexMaxBytes) {
    public boolean enabled() {
      return path != null;
    }
  }

  /**
   * Origin connection pool and timeouts (milliseconds), and what is kept from forwarded requests.
   * {@code bodyIdleTimeoutMs} bounds the silence between two reads of a response body (the
   * origin's, not a slow client's).
   *
   * @param stripRequestHeaders names (a case-insensitive set) of client request fields never forwarded to the
   *     origin: fields that frameworks read to reroute a request but that are not part of the
   *     cache key (web-cache poisoning); {@link #DEFAULT_STRIP_REQUEST_HEADERS} unless configured
   */
  public record Upstream(long connectTimeoutMs, long responseTimeoutMs, long idleTimeoutMs, int maxConnectionsPerOrigin,
      Set<String> stripRequestHeaders, long bodyIdleTimeoutMs) {
    /** The default of {@code upstream.stripRequestHeaders}. */
    public static final Set<String> DEFAULT_STRIP_REQUEST_HEADERS = FieldNames.of(
        "x-original-url", "x-rewrite-url", "x-http-method-override", "x-http-method", "x-method-override",
        "x-forwarded-scheme", "x-forwarded-port", "x-forwarded-server", "x-host", "x-forwarded-prefix", "forwarded");

    public Upstream {
      stripRequestHeaders = FieldNames.copyOf(stripRequestHeaders);
    }
  }

  /**
   * Client request limits (slowloris and header-bomb defences) and bounds that hold under abuse.
   *
   * @param maxConnections client connections open at once on the traffic port; more are answered 503
   * @param maxVariants Vary variants stored per URL; storing one more drops the oldest
   */
  public record Limits(int maxRequestLineBytes, int maxHeaderBytes, int maxHeaderCount, long headerTimeoutMs, long idleTimeoutMs,
      int maxConnections, int maxVariants) {}

  /**
   * Caching policy knobs.
   *
   * @param staleOnOriginFailureSeconds how long past its expiry a stored response may still be
   *     served when the origin cannot be reached (RFC 9111 4.2.4 "disconnected"); 0 turns it off
   * @param honorClientDirectives whether request Cache-Control and Pragma steer reuse and storing
   *     ({@code cache.clientDirectives: "honor"}); when not, only {@code only-if-cached} is read
   */
  public record Cache(double heuristicFraction, long heuristicMaxAgeSeconds, boolean storeSetCookie,
      long staleOnOriginFailureSeconds, boolean honorClientDirectives) {}
}
