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
  // Parsed once, on first use: a stored response is evaluated on every hit (RFC 9111 section 4.2.3
  // needs Date and Age each time), and these fields never change for one view.
  private volatile long dateMs = UNSET;
  private volatile long ageValue = UNSET;
  private volatile long lastModifiedMs = UNSET;
  private volatile Object encoded;
  private static final long UNSET = Long.MIN_VALUE;
  private static final long ABSENT = Long.MIN_VALUE + 1;

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

  /** The Date field in epoch ms, or the time the response arrived when Date is absent or invalid. */
  long dateMs() {
    long v = dateMs;
    if (v == UNSET) {
      v = HttpDates.parseLenient(headers.get("date")).map(java.time.Instant::toEpochMilli).orElse(responseTimeMs);
      dateMs = v;
    }
    return v;
  }

  /** {@link FreshnessPolicy#ageValue} of these headers. */
  long ageValue() {
    long v = ageValue;
    if (v == UNSET) {
      v = FreshnessPolicy.ageValue(headers);
      ageValue = v;
    }
    return v;
  }

  /** Last-Modified (lenient) in epoch ms, or empty. */
  java.util.OptionalLong lastModifiedMs() {
    long v = lastModifiedMs;
    if (v == UNSET) {
      v = HttpDates.parseLenient(headers.get("last-modified")).map(java.time.Instant::toEpochMilli).orElse(ABSENT);
      lastModifiedMs = v;
    }
    return v == ABSENT ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(v);
  }

  /**
   * What the HTTP layer derived from these headers to write them again (its pre-encoded form for
   * cache hits), or null; kept with the view, which a stored response keeps for its lifetime.
   */
  public Object encoded() {
    return encoded;
  }

  /** Keeps {@code e} as {@link #encoded()}; any thread may set it, the value is the same. */
  public void encoded(Object e) {
    encoded = e;
  }

  public ResponseView withHeaders(Headers h, long requestTimeMs, long responseTimeMs) {
    return new ResponseView(status, h, requestTimeMs, responseTimeMs);
  }
}
