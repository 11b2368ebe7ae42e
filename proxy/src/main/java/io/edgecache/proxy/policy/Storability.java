package io.edgecache.proxy.policy;

import java.util.Set;

/**
 * May a shared cache store this response to this request? (RFC 9111 section 3; 3.3 for 206.)
 *
 * <p>Returns null when it may, or a short reason when it may not; the reason appears in
 * Cache-Status {@code detail}. One deliberate deviation, on by default: a response carrying
 * {@code Set-Cookie} is not stored unless it says {@code public} or {@code s-maxage}, because a
 * shared cache that replays one user's cookie to another leaks sessions (Varnish and nginx refuse
 * such responses too). {@code storeSetCookie} turns the RFC behaviour back on.
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
   * @param storeSetCookie whether Set-Cookie responses may be stored without public/s-maxage
   */
  public static String refusal(String method, CacheControl requestControl, boolean requestHasAuthorization,
      ResponseView r, boolean storeSetCookie) {
    if (!method.equals("GET")) {
      return "method";
    }
    int status = r.status();
    if (status < 200 || status == 304 || status > 599) {
      return "status";
    }
    if (status == 206 && (ByteRange.contentRange(r.headers()) == null || !r.headers().listMembers("vary").isEmpty())) {
      return "status"; // a partial response is kept only with a single, complete-length Content-Range
    }
    CacheControl cc = r.effective();
    if (requestControl.has("no-store")) {
      return "request-no-store";
    }
    boolean mustUnderstand = cc.has("must-understand");
    if (mustUnderstand && !UNDERSTOOD.contains(status)) {
      return "must-understand";
    }
    if (cc.has("no-store") && !mustUnderstand) {
      return "no-store";
    }
    if (r.cacheControl().unqualified("private") && r.targeted() == null) {
      return "private";
    }
    boolean explicitlyShared = cc.has("public") || cc.has("s-maxage");
    if (requestHasAuthorization && !explicitlyShared && !cc.has("must-revalidate")) {
      return "authorization";
    }
    if (!storeSetCookie && r.headers().contains("set-cookie") && !explicitlyShared) {
      return "set-cookie";
    }
    if (r.headers().listMembers("vary").contains("*")) {
      return "vary-star";
    }
    boolean allowed = FreshnessPolicy.hasExplicitFreshness(r) || cc.has("public")
        || FreshnessPolicy.HEURISTIC_STATUSES.contains(status);
    if (!allowed) {
      return "no-freshness";
    }
    return null;
  }
}
