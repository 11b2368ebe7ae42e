package io.edgecache.proxy.policy;

import java.util.List;

/**
 * The request-side Cache-Control (RFC 9111 section 5.2.1), with {@code Pragma: no-cache} read as
 * {@code no-cache} when the request has no Cache-Control (section 5.4).
 *
 * <p>Section 5.2.1: "This section defines cache request directives. They are advisory; caches MAY
 * implement them, but are not required to." An edge cache in front of browsers ignores them by
 * default ({@code cache.clientDirectives: "ignore"}, {@link #honored}): every reload sends
 * {@code max-age=0} and every hard reload {@code no-cache}, which would otherwise let any client
 * send any request on to the origin.
 */
public final class RequestDirectives {
  private static final CacheControl ONLY_IF_CACHED = CacheControl.parse("only-if-cached");

  private RequestDirectives() {}

  /**
   * The directives this cache acts on: all of them when {@code honor}, else only
   * {@code only-if-cached} (5.2.1.7), which asks for less origin traffic, never more.
   */
  public static CacheControl honored(Headers h, boolean honor) {
    if (honor) {
      return of(h);
    }
    List<String> lines = h.all("cache-control");
    return !lines.isEmpty() && CacheControl.parse(lines).has("only-if-cached") ? ONLY_IF_CACHED : CacheControl.NONE;
  }

  public static CacheControl of(Headers h) {
    CacheControl cc = CacheControl.parse(h.all("cache-control"));
    if (cc.isEmpty()) {
      for (String member : h.listMembers("pragma")) {
        if (member.equalsIgnoreCase("no-cache")) {
          return CacheControl.parse("no-cache");
        }
      }
    }
    return cc;
  }
}
