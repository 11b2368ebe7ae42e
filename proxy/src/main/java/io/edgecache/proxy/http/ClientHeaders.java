package io.edgecache.proxy.http;

import io.edgecache.proxy.policy.Conditionals;
import io.edgecache.proxy.policy.Headers;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerResponse;
import java.util.Locale;
import java.util.function.BiConsumer;

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
    emit(h, cs, fromStore, exposeTags, http10, out::add);
    return out.build();
  }

  /**
   * As {@link #of}, written straight into {@code resp} (no intermediate copy: this runs on every
   * response). Call on the response's event loop.
   */
  static void write(Headers h, CacheStatus cs, boolean fromStore, boolean exposeTags, boolean http10,
      HttpServerResponse resp) {
    write(h, cs, fromStore, exposeTags, http10, resp.headers());
  }

  /** As {@link #of}, added to {@code target} (a response's header map). */
  static void write(Headers h, CacheStatus cs, boolean fromStore, boolean exposeTags, boolean http10,
      MultiMap target) {
    emit(h, cs, fromStore, exposeTags, http10, target::add);
  }

  private static void emit(Headers h, CacheStatus cs, boolean fromStore, boolean exposeTags, boolean http10,
      BiConsumer<String, String> out) {
    String upstreamStatus = null;
    String via = null;
    for (int i = 0; i < h.size(); i++) {
      String name = h.name(i);
      switch (name.toLowerCase(Locale.ROOT)) {
        case "surrogate-control" -> { }
        case "surrogate-key", "cache-tag" -> {
          if (exposeTags) {
            out.accept(name, h.value(i));
          }
        }
        case "cache-status" -> upstreamStatus = upstreamStatus == null ? h.value(i) : upstreamStatus + ", " + h.value(i);
        case "via" -> via = via == null ? h.value(i) : via + ", " + h.value(i);
        case "content-length", "age" -> {
          if (!fromStore) {
            out.accept(name, h.value(i));
          }
        }
        default -> out.accept(name, h.value(i));
      }
    }
    out.accept(Messages.VIA.toString(), via(via, http10));
    out.accept(Messages.CACHE_STATUS.toString(), cs.after(upstreamStatus));
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
