package io.edgecache.proxy.policy;

import io.edgecache.proxy.cache.CacheKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * May a shared cache store this response to this request? (RFC 9111 section 3; 3.3 for 206.)
 *
 * <p>Returns null when it may, or the {@link Refusal} when it may not; its text appears in
 * Cache-Status {@code detail}. One deliberate deviation, on by default: a response carrying
 * {@code Set-Cookie} is not stored, even when it says {@code public} or {@code s-maxage}, because
 * a shared cache that replays one user's cookie to another leaks sessions (Varnish's built-in VCL
 * and nginx's {@code proxy_cache} refuse such responses too). RFC 9111 7.3 leaves it to the
 * origin to mark such responses private; an origin that sends a session cookie beside
 * {@code public} is a misconfiguration seen often enough that a shared cache should not trust it.
 * A response whose {@code private="Set-Cookie"} or {@code no-cache="Set-Cookie"} names the field
 * is stored without it ({@link #storedForm}), so nothing is replayed and it stays storable.
 * {@code storeSetCookie} turns the RFC behaviour back on. The same decision gates request
 * coalescing: a response that is not stored is not shared with waiting requests either.
 */
public final class Storability {
  /** Status codes whose caching semantics this cache understands (RFC 9110 section 15). */
  static final Set<Integer> UNDERSTOOD =
      Set.of(200, 201, 202, 203, 204, 205, 300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402,
          403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 426,
          500, 501, 502, 503, 504, 505);

  private Storability() {}

  /**
   * @param method the request method
   * @param requestControl request Cache-Control
   * @param requestHasAuthorization whether the request carried Authorization
   * @param r the response
   * @param storeSetCookie whether responses that would be stored with Set-Cookie may be stored
   */
  public static Refusal refusal(String method, CacheControl requestControl, boolean requestHasAuthorization,
      ResponseView r, boolean storeSetCookie) {
    return refusal(method, requestControl, requestHasAuthorization, r, storeSetCookie, TtlRules.NONE);
  }

  /**
   * As {@link #refusal(String, CacheControl, boolean, ResponseView, boolean)}, under a route's
   * rules: a route that forces its lifetime for the status ({@link TtlRules#forced}) overrides the
   * response's {@code no-store}, {@code private} and lack of freshness, never its
   * {@code Set-Cookie} or the request's {@code Authorization}.
   */
  public static Refusal refusal(String method, CacheControl requestControl, boolean requestHasAuthorization,
      ResponseView r, boolean storeSetCookie, TtlRules rules) {
    if (!method.equals("GET")) {
      return Refusal.METHOD;
    }
    int status = r.status();
    if (status < 200 || status == 304 || status > 599) {
      return Refusal.STATUS;
    }
    if (status == 206 && (ByteRange.contentRange(r.headers()) == null || !r.headers().listMembers("vary").isEmpty())) {
      return Refusal.STATUS; // a partial response is kept only with a single, complete-length Content-Range
    }
    CacheControl cc = r.effective();
    if (requestControl.has("no-store")) {
      return Refusal.REQUEST_NO_STORE;
    }
    boolean forced = rules.forced(status);
    boolean mustUnderstand = cc.has("must-understand");
    if (mustUnderstand && !UNDERSTOOD.contains(status)) {
      return Refusal.MUST_UNDERSTAND;
    }
    if (cc.has("no-store") && !mustUnderstand && !forced) {
      return Refusal.NO_STORE;
    }
    if (r.cacheControl().unqualified("private") && r.targeted() == null && !forced) {
      return Refusal.PRIVATE;
    }
    if (requestHasAuthorization && !Authorization.sharedDespiteAuthorization(r)) {
      return Refusal.AUTHORIZATION;
    }
    if (!storeSetCookie && r.headers().contains("set-cookie") && !withheldFromReuse(r.cacheControl(), "set-cookie")) {
      return Refusal.SET_COOKIE;
    }
    if (r.headers().listMembers("vary").contains("*")) {
      return Refusal.VARY_STAR;
    }
    boolean allowed = forced || FreshnessPolicy.hasExplicitFreshness(r) || cc.has("public")
        || FreshnessPolicy.HEURISTIC_STATUSES.contains(status) || rules.ruleSeconds(status) >= 0;
    if (!allowed) {
      return Refusal.NO_FRESHNESS;
    }
    return null;
  }

  /**
   * The refusals that come after RFC 9111 section 3 allowed storing: a response with no
   * freshness lifetime, no validator and no {@code stale-if-error} could never be reused, so it is
   * not worth the memory; one whose declared length exceeds {@code maxObjectBytes} would be given
   * up part way. Returns null when the response is worth keeping.
   *
   * @param lifetimeSeconds the response's freshness lifetime (explicit or heuristic)
   * @param contentLength the declared Content-Length, or a negative number when unknown
   */
  public static Refusal worthKeeping(ResponseView r, long lifetimeSeconds, long contentLength, long maxObjectBytes) {
    boolean validator = r.headers().contains("etag") || r.headers().contains("last-modified");
    if (lifetimeSeconds <= 0 && !validator && !r.effective().has("stale-if-error")) {
      return Refusal.NO_FRESHNESS;
    }
    if (contentLength > maxObjectBytes) {
      return Refusal.TOO_LARGE;
    }
    return null;
  }

  /**
   * RFC 9110 9.3.3: a 200 response to POST may answer a later GET for its target when it has
   * explicit freshness and a Content-Location naming that same target. {@code primaryKey} is the
   * POST's key; the reference is resolved against it and compared as a key, so equivalent
   * spellings of the URL agree.
   */
  public static boolean postResponseReusable(String method, ResponseView r, String primaryKey) {
    if (!method.equals("POST") || r.status() != 200 || !FreshnessPolicy.hasExplicitFreshness(r)) {
      return false;
    }
    String loc = r.headers().get("content-location");
    return loc != null && CacheKey.sameOriginReference(primaryKey, loc).filter(primaryKey::equals).isPresent();
  }

  /** Whether qualified {@code private} or {@code no-cache} names {@code field}: it is never sent from the cache. */
  private static boolean withheldFromReuse(CacheControl cc, String field) {
    return cc.fieldNames("private").contains(field) || cc.fieldNames("no-cache").contains(field);
  }

  /**
   * The response as it may be stored: without the fields named by qualified
   * {@code private="..."} and {@code no-cache="..."} (RFC 9111 5.2.2.4, 5.2.2.7), which a shared
   * cache may keep the response without, but must not send from the cache.
   */
  public static ResponseView storedForm(ResponseView r) {
    CacheControl cc = r.cacheControl();
    List<String> named = new ArrayList<>(cc.fieldNames("private"));
    named.addAll(cc.fieldNames("no-cache"));
    if (named.isEmpty()) {
      return r;
    }
    Set<String> names = FieldNames.copyOf(named);
    return r.withHeaders(r.headers().without(names::contains), r.requestTimeMs(), r.responseTimeMs());
  }
}
