package io.edgecache.proxy.policy;

/**
 * Whether a response just received from the origin is stored, and for how long it will be
 * fresh: RFC 9111 section 3 ({@link Storability#refusal}), the POST rule of RFC 9110 9.3.3
 * ({@link Storability#postResponseReusable}), then this cache's own limits
 * ({@link Storability#worthKeeping}).
 *
 * @param refusal why it is not stored, or null when it is
 * @param ttl seconds of freshness left at the moment the response arrived (meaningful when stored)
 * @param postReusable a POST response stored to answer later GETs for its target
 */
public record StoreDecision(Refusal refusal, long ttl, boolean postReusable) {

  /** Whether the response is stored. */
  public boolean stored() {
    return refusal == null;
  }

  /**
   * @param method the request method
   * @param passed whether the request was passed to the origin for its method (not GET or HEAD)
   * @param requestHasAuthorization whether the request carried Authorization
   * @param primaryKey the request's cache key
   * @param maxObjectBytes the largest body the cache keeps
   */
  public static StoreDecision of(FreshnessPolicy fp, String method, boolean passed, CacheControl requestControl,
      boolean requestHasAuthorization, ResponseView response, String primaryKey, long maxObjectBytes,
      boolean storeSetCookie) {
    boolean post = passed && Storability.postResponseReusable(method, response, primaryKey);
    Refusal refusal = passed && !post ? Refusal.METHOD
        : Storability.refusal(post ? "GET" : method, requestControl, requestHasAuthorization, response, storeSetCookie,
            fp.ttl());
    if (refusal != null) {
      return new StoreDecision(refusal, 0, post); // pass-through: no freshness to work out
    }
    long lifetime = fp.lifetimeSeconds(response);
    refusal = Storability.worthKeeping(response, lifetime, contentLength(response.headers()), maxObjectBytes);
    return new StoreDecision(refusal, lifetime - fp.currentAgeSeconds(response, response.responseTimeMs()), post);
  }

  private static long contentLength(Headers h) {
    String v = h.get("content-length");
    try {
      return v == null ? -1 : Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
