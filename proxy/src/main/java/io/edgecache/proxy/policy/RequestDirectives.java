package io.edgecache.proxy.policy;

/**
 * The request-side Cache-Control (RFC 9111 section 5.2.1), with {@code Pragma: no-cache} read as
 * {@code no-cache} when the request has no Cache-Control (section 5.4).
 */
public final class RequestDirectives {
  private RequestDirectives() {}

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
