package io.edgecache.proxy.http;

/**
 * Builds this cache's member of the {@code Cache-Status} field (RFC 9211), e.g.
 * {@code edgecache; hit; ttl=42} or {@code edgecache; fwd=uri-miss; fwd-status=200; stored; ttl=3600}.
 * A member from an upstream cache is kept and ours is appended after it (section 2: the cache
 * nearest the client comes last).
 */
final class CacheStatus {
  static final String NAME = "edgecache";

  private final StringBuilder sb = new StringBuilder(64).append(NAME);

  static CacheStatus hit() {
    return new CacheStatus().param("hit");
  }

  static CacheStatus fwd(String reason) {
    return new CacheStatus().param("fwd", reason);
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
