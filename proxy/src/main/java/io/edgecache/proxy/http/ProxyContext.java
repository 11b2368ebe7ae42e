package io.edgecache.proxy.http;

import io.edgecache.proxy.cache.HttpCache;
import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.metrics.ProxyMetrics;
import io.edgecache.proxy.policy.FreshnessPolicy;
import io.edgecache.proxy.purge.PurgeAuthorizer;
import io.edgecache.proxy.purge.PurgeService;
import java.time.Clock;

/**
 * What every event loop shares: the configuration, the origin router, the cache and the clock.
 * All members are immutable or thread-safe.
 *
 * @param pools the servers of every origin, their health and balancing
 */
public record ProxyContext(ProxyConfig config, OriginRouter router, HttpCache cache, FreshnessPolicy freshness,
    Clock clock, Coalescer coalescer, PurgeAuthorizer purgeAuthorizer, ProxyMetrics metrics,
    FillBudget fillBudget, Revalidations revalidations, PurgeService purges, Peers peers, OriginPools pools) {

  public static ProxyContext of(ProxyConfig config, HttpCache cache, Clock clock, ProxyMetrics metrics) {
    return of(config, cache, clock, metrics, Peers.NONE);
  }

  /** The shared state of a node whose keys may be owned by other members ({@code peers}). */
  public static ProxyContext of(ProxyConfig config, HttpCache cache, Clock clock, ProxyMetrics metrics, Peers peers) {
    return new ProxyContext(config, new OriginRouter(config.origins()), cache,
        new FreshnessPolicy(config.cache().heuristicFraction(), config.cache().heuristicMaxAgeSeconds()), clock,
        new Coalescer(), new PurgeAuthorizer(config.purge().allow(), config.purge().token()), metrics,
        new FillBudget(config.memory().fillBufferBytes()), new Revalidations(),
        new PurgeService(PurgeService.Target.of(cache), metrics), peers, OriginPools.of(config.origins(), metrics, clock));
  }

  /**
   * The same shared state under a reloaded configuration: routing, origin pools, freshness knobs
   * and purge ACLs change; the cache, coalescer, fill budget, clock, metrics and purge service carry
   * over, and so does the state of every origin server still configured ({@link OriginPools#reconfigured}).
   */
  public ProxyContext reconfigured(ProxyConfig next) {
    return new ProxyContext(next, new OriginRouter(next.origins()), cache,
        new FreshnessPolicy(next.cache().heuristicFraction(), next.cache().heuristicMaxAgeSeconds()), clock,
        coalescer, new PurgeAuthorizer(next.purge().allow(), next.purge().token()), metrics, fillBudget, revalidations,
        purges, peers, pools.reconfigured(next.origins()));
  }

  long nowMs() {
    return clock.millis();
  }
}
