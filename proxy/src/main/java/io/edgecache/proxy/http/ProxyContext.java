package io.edgecache.proxy.http;

import io.edgecache.proxy.cache.HttpCache;
import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.policy.FreshnessPolicy;
import io.edgecache.proxy.purge.PurgeAuthorizer;
import java.time.Clock;

/**
 * What every event loop shares: the configuration, the origin router, the cache and the clock.
 * All members are immutable or thread-safe.
 */
public record ProxyContext(ProxyConfig config, OriginRouter router, HttpCache cache, FreshnessPolicy freshness,
    Clock clock, Coalescer coalescer, PurgeAuthorizer purgeAuthorizer) {

  public static ProxyContext of(ProxyConfig config, HttpCache cache, Clock clock) {
    return new ProxyContext(config, new OriginRouter(config.origins()), cache,
        new FreshnessPolicy(config.cache().heuristicFraction(), config.cache().heuristicMaxAgeSeconds()), clock,
        new Coalescer(), new PurgeAuthorizer(config.purge().allow(), config.purge().token()));
  }

  long nowMs() {
    return clock.millis();
  }
}
