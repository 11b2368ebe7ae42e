package io.edgecache.proxy.config;

import java.util.List;
import java.util.Locale;

/**
 * The servers behind one origin and how traffic is spread over them: {@code origins[].servers}
 * (or the single {@code url}), {@code balance}, {@code healthCheck}, {@code ejectAfter},
 * {@code ejectFor} and {@code tls}. Built only by {@link PoolLoader}; defaults are documented in
 * README.md (configuration reference).
 *
 * @param healthCheck active probes, or null when {@code healthCheck} is absent (off)
 * @param ejectAfter consecutive failures from live traffic that take a server out of rotation; 0 = never
 * @param ejectForMs how long the first ejection lasts (it doubles on repeats, see {@link #maxEjectMs()})
 */
public record PoolConfig(List<Server> servers, Balance balance, HealthCheck healthCheck, int ejectAfter,
    long ejectForMs, Tls tls) {

  /** The default of {@code ejectAfter}. */
  public static final int DEFAULT_EJECT_AFTER = 5;
  /** The default of {@code ejectFor}. */
  public static final long DEFAULT_EJECT_FOR_MS = 10_000;
  /** Repeated ejections double up to this (or {@code ejectFor} when that is longer). */
  public static final long MAX_EJECT_MS = 300_000;

  public PoolConfig {
    servers = List.copyOf(servers);
    if (servers.isEmpty()) {
      throw new IllegalArgumentException("a pool needs at least one server");
    }
  }

  /** A pool of the one server {@code host:port} with every default (what {@code url} gives). */
  public static PoolConfig single(String host, int port) {
    return new PoolConfig(List.of(new Server(host, port, 1)), Balance.ROUND_ROBIN, null, DEFAULT_EJECT_AFTER,
        DEFAULT_EJECT_FOR_MS, Tls.DEFAULT);
  }

  /** The longest an ejection lasts after repeats: 5 minutes, or {@code ejectFor} when that is longer. */
  public long maxEjectMs() {
    return Math.max(ejectForMs, MAX_EJECT_MS);
  }

  /** How a server is chosen for each origin request. */
  public enum Balance {
    /** Smooth weighted round robin (as nginx): each server in turn, in proportion to its weight. */
    ROUND_ROBIN("round-robin"),
    /** The server with the fewest requests in flight per unit of weight. */
    LEAST_CONNECTIONS("least-connections"),
    /** Weighted rendezvous hashing of the cache key: one URL keeps going to one server. */
    HASH("hash");

    private final String configName;

    Balance(String configName) {
      this.configName = configName;
    }

    /** The name used in {@code proxy.json} and in {@code GET /origins}. */
    public String configName() {
      return configName;
    }

    /** The balance named {@code name} in the config, or null. */
    public static Balance of(String name) {
      for (Balance b : values()) {
        if (b.configName.equals(name.toLowerCase(Locale.ROOT))) {
          return b;
        }
      }
      return null;
    }
  }

  /** One server of the pool; {@code weight} from 1 to 1000 (default 1). */
  public record Server(String host, int port, int weight) {
    /** {@code host:port} (IPv6 in brackets): the server's name in metrics and {@code GET /origins}. */
    public String id() {
      return (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
    }
  }

  /**
   * Active health checks: a {@code GET path} to every server each {@code intervalMs}; a 2xx or 3xx
   * within {@code timeoutMs} is a success. A server is down after {@code unhealthy} consecutive
   * failures and up again after {@code healthy} consecutive successes.
   *
   * @param host the Host header of a probe, or null for the server's own {@code host:port}
   */
  public record HealthCheck(String path, String host, long intervalMs, long timeoutMs, int healthy, int unhealthy) {}

  /**
   * TLS towards {@code https://} servers. The SNI name and the name the certificate must carry are
   * the server's host from its URL.
   *
   * @param caFile PEM certificates trusted instead of the JVM's default trust store, or null
   * @param certFile PEM client certificate (chain) presented to the servers, or null
   * @param keyFile the PEM private key of {@code certFile}, or null
   * @param verify check the server's certificate chain and host name (default true)
   */
  public record Tls(String caFile, String certFile, String keyFile, boolean verify) {
    public static final Tls DEFAULT = new Tls(null, null, null, true);
  }
}
