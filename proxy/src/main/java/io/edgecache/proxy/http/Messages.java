package io.edgecache.proxy.http;

import io.edgecache.proxy.policy.Headers;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import java.util.Map;

/**
 * Conversions between Vert.x header maps and the policy's immutable {@link Headers}, and small
 * helpers on Vert.x messages.
 */
final class Messages {
  static final CharSequence VIA = HttpHeaders.createOptimized("Via");
  static final CharSequence CACHE_STATUS = HttpHeaders.createOptimized("Cache-Status");
  static final CharSequence AGE = HttpHeaders.createOptimized("Age");

  private Messages() {}

  /**
   * A builder per thread for {@link #toHeaders}, which runs for every request and every origin
   * response: only the fields' own arrays are allocated, at their size.
   */
  private static final ThreadLocal<Headers.Builder> SCRATCH = ThreadLocal.withInitial(() -> Headers.builder(32));

  static Headers toHeaders(MultiMap m) {
    Headers.Builder b = SCRATCH.get().clear();
    for (Map.Entry<String, String> e : m) {
      b.add(e.getKey(), e.getValue());
    }
    Headers h = b.build();
    b.clear(); // keeps no field alive
    return h;
  }

  static void copyInto(Headers h, MultiMap target) {
    for (int i = 0; i < h.size(); i++) {
      target.add(h.name(i), h.value(i));
    }
  }

  /** The declared {@code Content-Length}, or -1 when absent or not a number. */
  static long contentLength(Headers h) {
    String v = h.get("content-length");
    if (v == null) {
      return -1;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Lets the request's body flow again (to the origin, or to be discarded), unless it was read to
   * its end already: an HTTP/2 request refuses {@code resume()} then ("Request has already been
   * read"), where HTTP/1 ignores it. Call on the request's event loop.
   */
  static void resume(HttpServerRequest req) {
    if (!req.isEnded()) {
      req.resume();
    }
  }
}
