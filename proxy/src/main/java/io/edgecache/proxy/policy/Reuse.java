package io.edgecache.proxy.policy;

import java.util.OptionalLong;

/**
 * Can a stored response satisfy this request now, and if not, what must happen first?
 * (RFC 9111 section 4, 4.2.4 and RFC 5861.)
 *
 * <p>The answer is one of: {@link Kind#FRESH} (serve), {@link Kind#STALE_OK} (serve stale: the
 * client allowed it with max-stale), {@link Kind#STALE_WHILE_REVALIDATE} (serve stale and refresh
 * in the background), or {@link Kind#REVALIDATE} (ask the origin first; a 5xx or a failure may still
 * be answered with the stale response when {@link #staleIfErrorAllowed} says so).
 */
public final class Reuse {
  public enum Kind { FRESH, STALE_OK, STALE_WHILE_REVALIDATE, REVALIDATE }

  /** Why a stored response must be revalidated before it is used. */
  public enum Reason {
    /** The response said {@code no-cache} (RFC 9111 5.2.2.4). */
    RESPONSE_NO_CACHE(false),
    /** The request said {@code no-cache} (RFC 9111 5.2.1.4). */
    REQUEST_NO_CACHE(true),
    /** The stored response is older than the request's {@code max-age} (RFC 9111 5.2.1.1). */
    REQUEST_MAX_AGE(true),
    /** The stored response will not stay fresh for the request's {@code min-fresh} (5.2.1.3). */
    REQUEST_MIN_FRESH(true),
    /** The stored response is stale and nothing allows serving it stale. */
    STALE(false);

    private final boolean fromRequest;

    Reason(boolean fromRequest) {
      this.fromRequest = fromRequest;
    }

    /** Whether the client's own directives asked for the revalidation. */
    public boolean fromRequest() {
      return fromRequest;
    }
  }

  /**
   * @param kind what to do
   * @param lifetime freshness lifetime, seconds
   * @param age current age, seconds
   * @param reason why revalidation is needed, or null when it is not
   */
  public record Decision(Kind kind, long lifetime, long age, Reason reason) {
    public long ttl() {
      return lifetime - age;
    }

    public boolean fresh() {
      return lifetime > age;
    }
  }

  private Reuse() {}

  public static Decision decide(FreshnessPolicy fp, CacheControl req, ResponseView stored, long nowMs) {
    return decide(fp, req, stored, nowMs, false);
  }

  /**
   * As {@link #decide(FreshnessPolicy, CacheControl, ResponseView, long)}; an {@code invalidated}
   * response (soft purge, RFC 9111 4.4 "mark stale") is treated as having just become stale.
   */
  public static Decision decide(FreshnessPolicy fp, CacheControl req, ResponseView stored, long nowMs, boolean invalidated) {
    long lifetime = fp.lifetimeSeconds(stored);
    long age = fp.currentAgeSeconds(stored, nowMs);
    if (invalidated) {
      age = Math.max(age, lifetime);
    }
    CacheControl cc = stored.effective();
    boolean forced = fp.ttl().forced(stored.status()); // the route overrides the origin's no-cache
    if (!forced && (cc.unqualified("no-cache")
        || (stored.targeted() == null && stored.cacheControl().unqualified("no-cache")))) {
      return new Decision(Kind.REVALIDATE, lifetime, age, Reason.RESPONSE_NO_CACHE);
    }
    if (req.has("no-cache")) {
      return new Decision(Kind.REVALIDATE, lifetime, age, Reason.REQUEST_NO_CACHE);
    }
    boolean fresh = lifetime > age;
    OptionalLong maxAge = req.seconds("max-age");
    if (maxAge.isPresent() && age > maxAge.getAsLong()) {
      return new Decision(Kind.REVALIDATE, lifetime, age, Reason.REQUEST_MAX_AGE);
    }
    OptionalLong minFresh = req.seconds("min-fresh");
    if (minFresh.isPresent() && lifetime - age < minFresh.getAsLong()) {
      return new Decision(Kind.REVALIDATE, lifetime, age, Reason.REQUEST_MIN_FRESH);
    }
    if (fresh) {
      return new Decision(Kind.FRESH, lifetime, age, null);
    }
    if (!staleAllowed(stored)) {
      return new Decision(Kind.REVALIDATE, lifetime, age, Reason.STALE);
    }
    long staleness = age - lifetime;
    OptionalLong maxStale = req.secondsOr("max-stale", Long.MAX_VALUE);
    if (maxStale.isPresent() && staleness <= maxStale.getAsLong()) {
      return new Decision(Kind.STALE_OK, lifetime, age, null);
    }
    OptionalLong swr = cc.seconds("stale-while-revalidate");
    if (swr.isPresent() && staleness <= swr.getAsLong()) {
      return new Decision(Kind.STALE_WHILE_REVALIDATE, lifetime, age, null);
    }
    return new Decision(Kind.REVALIDATE, lifetime, age, Reason.STALE);
  }

  /**
   * must-revalidate, proxy-revalidate and s-maxage forbid a shared cache to serve the response
   * stale in any way (RFC 9111 5.2.2.2, 5.2.2.8, 5.2.2.10), no-cache does too.
   */
  public static boolean staleAllowed(ResponseView stored) {
    CacheControl cc = stored.effective();
    return !(cc.has("must-revalidate") || cc.has("proxy-revalidate") || cc.has("s-maxage") || cc.has("no-cache"));
  }

  /**
   * RFC 9111 4.2.4: a cache that cannot reach the origin ("disconnected") may serve a stale
   * response unless the response forbids it; this cache does so for at most {@code maxStaleness}
   * seconds past expiry, or longer when stale-if-error allows.
   */
  public static boolean staleWhenDisconnectedAllowed(FreshnessPolicy fp, CacheControl req, ResponseView stored,
      long nowMs, long maxStaleness) {
    if (!staleAllowed(stored)) {
      return false;
    }
    long staleness = fp.currentAgeSeconds(stored, nowMs) - fp.lifetimeSeconds(stored);
    return staleness <= maxStaleness || staleIfErrorAllowed(fp, req, stored, nowMs);
  }

  /** RFC 5861 section 4: the statuses of a failed revalidation that stale-if-error may hide. */
  public static boolean staleIfErrorStatus(int status) {
    return status == 500 || status == 502 || status == 503 || status == 504;
  }

  /**
   * RFC 5861 section 4: may the stale response answer a request whose revalidation failed or
   * returned 500, 502, 503 or 504? Either the response or the request may grant it.
   */
  public static boolean staleIfErrorAllowed(FreshnessPolicy fp, CacheControl req, ResponseView stored, long nowMs) {
    if (!staleAllowed(stored)) {
      return false;
    }
    long staleness = fp.currentAgeSeconds(stored, nowMs) - fp.lifetimeSeconds(stored);
    OptionalLong resp = stored.effective().seconds("stale-if-error");
    OptionalLong reqSie = req.seconds("stale-if-error");
    return (resp.isPresent() && staleness <= resp.getAsLong()) || (reqSie.isPresent() && staleness <= reqSie.getAsLong());
  }
}
