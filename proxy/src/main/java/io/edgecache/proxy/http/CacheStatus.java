package io.edgecache.proxy.http;

/**
 * Builds this cache's member of the {@code Cache-Status} field (RFC 9211), e.g.
 * {@code edgecache; hit; ttl=42} or {@code edgecache; fwd=uri-miss; fwd-status=200; stored; ttl=3600}.
 * A member from an upstream cache is kept and ours is appended after it (section 2: the cache
 * nearest the client comes last).
 */
final class CacheStatus {
  static final String NAME = "edgecache";

  /**
   * Why a request went forward to the origin: the {@code fwd} parameter (RFC 9211 2.2). The
   * state machine branches on these, so they are values, not strings.
   */
  enum Fwd {
    /** Nothing stored under the URL. */
    URI_MISS("uri-miss"),
    /** Something stored under the URL, but no variant matching this request's Vary fields. */
    VARY_MISS("vary-miss"),
    /** A stored response exists but is stale. */
    STALE("stale"),
    /** The request's own directives (no-cache, max-age, min-fresh, Authorization) forbade reuse. */
    REQUEST("request"),
    /** The method is not served from the cache. */
    METHOD("method"),
    /** Not handled by the cache at all (misrouted, purge, internal error). */
    BYPASS("bypass"),
    /** A lookup or stored body failed: treated as a miss. */
    MISS("miss");

    private final String token;

    Fwd(String token) {
      this.token = token;
    }

    /** The token as it appears in the field. */
    String token() {
      return token;
    }
  }

  private final StringBuilder sb = new StringBuilder(64).append(NAME);

  static CacheStatus hit() {
    return new CacheStatus().param("hit");
  }

  static CacheStatus fwd(Fwd reason) {
    return new CacheStatus().param("fwd", reason.token());
  }

  CacheStatus param(String name) {
    sb.append("; ").append(name);
    return this;
  }

  CacheStatus param(String name, String value) {
    sb.append("; ").append(name).append('=').append(value);
    return this;
  }

  CacheStatus param(String name, long value) {
    sb.append("; ").append(name).append('=').append(value);
    return this;
  }

  /** A detail string as an sf-string (quoted). */
  CacheStatus detail(String text) {
    sb.append("; detail=\"").append(text.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
    return this;
  }

  /** Our member appended to an upstream Cache-Status value, if there is one. */
  String after(String upstream) {
    return upstream == null || upstream.isBlank() ? sb.toString() : upstream + ", " + sb;
  }

  @Override
  public String toString() {
    return sb.toString();
  }
}
