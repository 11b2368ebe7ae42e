package io.edgecache.proxy.http;

import io.edgecache.proxy.policy.Conditionals;
import io.edgecache.proxy.policy.Headers;
import io.vertx.core.http.HttpServerResponse;
import java.util.Locale;

/**
 * The header section a client receives, built from the origin's or the stored response's fields.
 *
 * <p>Everything is copied except framing (set by the caller), a stored response's own Age and
 * Content-Length (recomputed on delivery), and {@code Surrogate-Control} (consumed by this cache,
 * RFC 9213 / Edge Architecture 1.0); {@code Surrogate-Key} / {@code Cache-Tag} only with
 * {@code purge.exposeTags}. Our {@code Via} member is appended to the upstream's (RFC 9110 7.6.3)
 * and our {@code Cache-Status} member after the upstream's (RFC 9211 2).
 *
 * <p>Pure functions apart from {@link #apply}; thread-safe.
 */
final class ClientHeaders {
  private ClientHeaders() {}

  /**
   * @param h the response's fields (hop-by-hop fields already removed)
   * @param fromStore whether the response comes from the cache (Age and Content-Length are then
   *     the caller's)
   * @param exposeTags whether purge tag fields reach the client
   * @param http10 whether the client spoke HTTP/1.0 (for Via)
   */
  static Headers of(Headers h, CacheStatus cs, boolean fromStore, boolean exposeTags, boolean http10) {
    Headers.Builder out = Headers.builder();
    String upstreamStatus = null;
    String via = null;
    for (int i = 0; i < h.size(); i++) {
      String name = h.name(i);
      switch (name.toLowerCase(Locale.ROOT)) {
        case "surrogate-control" -> { }
        case "surrogate-key", "cache-tag" -> {
          if (exposeTags) {
            out.add(name, h.value(i));
          }
        }
        case "cache-status" -> upstreamStatus = upstreamStatus == null ? h.value(i) : upstreamStatus + ", " + h.value(i);
        case "via" -> via = via == null ? h.value(i) : via + ", " + h.value(i);
        case "content-length", "age" -> {
          if (!fromStore) {
            out.add(name, h.value(i));
          }
        }
        default -> out.add(name, h.value(i));
      }
    }
    return out.add(Messages.VIA.toString(), via(via, http10))
        .add(Messages.CACHE_STATUS.toString(), cs.after(upstreamStatus))
        .build();
  }

  /** The fields of a 304 answered from the cache: {@link Conditionals#NOT_MODIFIED_FIELDS}, Via, Cache-Status. */
  static Headers notModified(Headers stored, CacheStatus cs, boolean http10) {
    Headers.Builder out = Headers.builder();
    for (String name : Conditionals.NOT_MODIFIED_FIELDS) {
      for (String value : stored.all(name)) {
        out.add(name, value);
      }
    }
    return out.add(Messages.VIA.toString(), via(stored.combined("via"), http10))
        .add(Messages.CACHE_STATUS.toString(), cs.after(stored.combined("cache-status")))
        .build();
  }

  /** Adds every field of {@code h} to the response. Call on the response's event loop. */
  static void apply(Headers h, HttpServerResponse resp) {
    Messages.copyInto(h, resp.headers());
  }

  private static String via(String upstream, boolean http10) {
    String ours = (http10 ? "1.0 " : "1.1 ") + CacheStatus.NAME;
    return upstream == null ? ours : upstream + ", " + ours;
  }
}
