package io.edgecache.proxy.policy;

/**
 * RFC 9111 section 3.5: a shared cache must not use a response to a request that carried
 * {@code Authorization} to answer any request (that one included) unless the response says it
 * may be shared: {@code public}, {@code s-maxage} or {@code must-revalidate}. The same rule
 * governs storing (see {@link Storability}) and reusing a stored response for an authorized
 * request.
 *
 * <p>Pure functions of the stored response's effective Cache-Control (RFC 9213 targeted fields
 * included); thread-safe.
 */
public final class Authorization {
  private Authorization() {}

  /** Whether the response explicitly allows a shared cache to serve it to authorized requests. */
  public static boolean sharedDespiteAuthorization(ResponseView r) {
    CacheControl cc = r.effective();
    return cc.has("public") || cc.has("s-maxage") || cc.has("must-revalidate");
  }

  /**
   * Whether {@code stored} may answer a request whose headers are {@code request}: always when
   * the request has no Authorization, else only when the response allows sharing.
   */
  public static boolean storedMayAnswer(Headers request, ResponseView stored) {
    return !request.contains("authorization") || sharedDespiteAuthorization(stored);
  }
}
