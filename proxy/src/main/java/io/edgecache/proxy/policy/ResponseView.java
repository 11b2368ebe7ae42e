package io.edgecache.proxy.policy;


/**
 * A response as the cache sees it: status, header fields and the two instants RFC 9111 section
 * 4.2.3 needs (when the request that produced it was sent, and when the response arrived).
 * Parsed directives are computed once and kept.
 */
public final class ResponseView {
  private final int status;
  private final Headers headers;
  private final long requestTimeMs;
  private final long responseTimeMs;
  private final CacheControl cacheControl;
  private final CacheControl targeted;

  public ResponseView(int status, Headers headers, long requestTimeMs, long responseTimeMs) {
    this.status = status;
    this.headers = headers;
    this.requestTimeMs = requestTimeMs;
    this.responseTimeMs = responseTimeMs;
    this.cacheControl = CacheControl.parse(headers.all("cache-control"));
    this.targeted = TargetedControl.select(headers);
  }

  public int status() {
    return status;
  }

  public Headers headers() {
    return headers;
  }

  public long requestTimeMs() {
    return requestTimeMs;
  }

  public long responseTimeMs() {
    return responseTimeMs;
  }

  /** The Cache-Control directives. */
  public CacheControl cacheControl() {
    return cacheControl;
  }

  /** CDN-Cache-Control / Surrogate-Control directives for this cache, or null. */
  public CacheControl targeted() {
    return targeted;
  }

  /** The directives that govern this cache: the targeted ones when present, else Cache-Control. */
  public CacheControl effective() {
    return targeted != null ? targeted : cacheControl;
  }

  public ResponseView withHeaders(Headers h, long requestTimeMs, long responseTimeMs) {
    return new ResponseView(status, h, requestTimeMs, responseTimeMs);
  }
}
