package io.edgecache.proxy.config;

import java.util.List;

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
    Upstream upstream,
    Limits limits,
    Cache cache) {

  /** The traffic listener. {@code eventLoops} verticle instances share the port. */
  public record Listen(String host, int port, int eventLoops) {}

  /** The admin listener (health, readiness, later metrics and purge). */
  public record Admin(String host, int port) {}

  /**
   * One origin and the Host names routed to it ({@code "*"} matches any host).
   *
   * @param preserveHost send the client's Host to the origin (true) or the origin URL's authority
   */
  public record Origin(String name, String scheme, String host, int port, List<String> hosts, boolean preserveHost) {
    public boolean tls() {
      return scheme.equals("https");
    }
  }

  /** The memory tier: total bytes and the largest object it keeps. */
  public record Memory(long maxBytes, long maxObjectBytes) {}

  /** Origin connection pool and timeouts (milliseconds). */
  public record Upstream(long connectTimeoutMs, long responseTimeoutMs, long idleTimeoutMs, int maxConnectionsPerOrigin) {}

  /** Client request limits (slowloris and header-bomb defences). */
  public record Limits(int maxRequestLineBytes, int maxHeaderBytes, int maxHeaderCount, long headerTimeoutMs, long idleTimeoutMs) {}

  /**
   * Caching policy knobs.
   *
   * @param staleOnOriginFailureSeconds how long past its expiry a stored response may still be
   *     served when the origin cannot be reached (RFC 9111 4.2.4 "disconnected"); 0 turns it off
   */
  public record Cache(double heuristicFraction, long heuristicMaxAgeSeconds, boolean storeSetCookie,
      long staleOnOriginFailureSeconds) {}
}
