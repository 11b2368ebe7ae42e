package io.edgecache.proxy.http;

import io.edgecache.proxy.cache.CacheKey;
import io.edgecache.proxy.config.ConfigLoader;
import io.edgecache.proxy.config.ProxyConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Chooses the origin for a request by its Host (port ignored). A host that matches no origin gets
 * null, and the caller answers 4xx without dialling anything: edgecache is never an open proxy.
 * Immutable, so safe to share across event loops.
 */
public final class OriginRouter {
  private final Map<String, ProxyConfig.Origin> byHost = new HashMap<>();
  private final ProxyConfig.Origin wildcard;

  public OriginRouter(List<ProxyConfig.Origin> origins) {
    ProxyConfig.Origin any = null;
    for (ProxyConfig.Origin o : origins) {
      for (String h : o.hosts()) {
        if (h.equals("*")) {
          any = o;
        } else {
          byHost.put(h, o);
        }
      }
    }
    this.wildcard = any;
  }

  /**
   * The key a request for the URL of {@code key} is stored under: the key itself, or with the
   * query its origin's route keeps ({@code cacheKey.query}, {@code keepParams}, {@code dropParams},
   * {@code sortParams}), as the request path applies it.
   */
  public String routedKey(String key) {
    String authority = CacheKey.authorityOf(key);
    String target = key.substring(CacheKey.PREFIX.length() + authority.length());
    ProxyConfig.Origin o = route(authority);
    if (o == null || o.routes().isEmpty() || target.isEmpty()) {
      return key;
    }
    ProxyConfig.Route r = o.route(RouteRequest.matchPath(target), "GET");
    return r == null ? key : CacheKey.PREFIX + authority + r.query().apply(target);
  }

  public ProxyConfig.Origin route(String host) {
    if (host == null) {
      return null;
    }
    ProxyConfig.Origin o = byHost.get(ConfigLoader.normaliseHost(host));
    return o != null ? o : wildcard;
  }
}
