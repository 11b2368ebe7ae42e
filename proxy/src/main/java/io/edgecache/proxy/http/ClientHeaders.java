package io.edgecache.proxy.http;

import io.edgecache.proxy.policy.Conditionals;
import io.edgecache.proxy.policy.FieldNames;
import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.ResponseView;
import io.netty.util.AsciiString;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerResponse;
import java.util.ArrayList;
import java.util.List;
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
   * {@link #write} for a stored response ({@code fromStore}): the filtering is done once per stored
   * response and kept with it as ASCII strings, so a hit copies bytes instead of lower-casing,
   * matching and re-encoding every field name and value each time.
   */
  static void writeStored(ResponseView v, CacheStatus cs, boolean exposeTags, boolean http10, HttpServerResponse resp) {
    writeStored(v, cs, exposeTags, http10, resp.headers());
  }

  /** {@link #writeStored(ResponseView, CacheStatus, boolean, boolean, HttpServerResponse)} into a header map. */
  static void writeStored(ResponseView v, CacheStatus cs, boolean exposeTags, boolean http10, MultiMap target) {
    StoredFields f = v.encoded() instanceof StoredFields sf ? sf : null;
    if (f == null) {
      f = new StoredFields(v.headers());
      v.encoded(f);
    }
    for (int i = 0; i < f.names.length; i++) {
      if (exposeTags || !f.tag[i]) {
        target.add(f.names[i], f.values[i]);
      }
    }
    target.add(Messages.VIA, http10 ? f.via10 : f.via11);
    target.add(Messages.CACHE_STATUS, cs.after(f.upstreamStatus));
  }

  /** A stored response's fields as {@link #emit} would write them for a hit, minus Cache-Status. */
  private static final class StoredFields {
    final AsciiString[] names;
    final AsciiString[] values;
    final boolean[] tag;
    final String upstreamStatus;
    final AsciiString via10;
    final AsciiString via11;

    private StoredFields(Headers h) {
      List<AsciiString> n = new ArrayList<>();
      List<AsciiString> v = new ArrayList<>();
      List<Boolean> t = new ArrayList<>();
      Upstream up = emitFields(h, true, (name, value, isTag) -> {
        n.add(new AsciiString(name));
        v.add(new AsciiString(value));
        t.add(isTag);
      });
      names = n.toArray(new AsciiString[0]);
      values = v.toArray(new AsciiString[0]);
      tag = new boolean[t.size()];
      for (int i = 0; i < tag.length; i++) {
        tag[i] = t.get(i);
      }
      upstreamStatus = up.cacheStatus();
      via10 = new AsciiString(via(up.via(), true));
      via11 = new AsciiString(via(up.via(), false));
    }
  }

  /** One field that goes to the client: {@code tag} marks Surrogate-Key / Cache-Tag. */
  private interface FieldSink {
    void accept(String name, String value, boolean tag);
  }

  /** The upstream's Cache-Status and Via values (each combined over its lines), or null. */
  private record Upstream(String cacheStatus, String via) {
    static final Upstream NONE = new Upstream(null, null);
  }

  /** The fields {@link #emitFields} treats apart from the others. */
  private enum Special { SURROGATE_CONTROL, TAG, CACHE_STATUS, VIA, RECOMPUTED }

  /** Looked up by the name as received, in any case: lower-casing it made a string per field. */
  private static final FieldNames SPECIAL_NAMES = FieldNames.of(
      "surrogate-control", "surrogate-key", "cache-tag", "cache-status", "via", "content-length", "age");
  /** What each of {@link #SPECIAL_NAMES} is, in the same order. */
  private static final Special[] SPECIAL = {Special.SURROGATE_CONTROL, Special.TAG, Special.TAG,
      Special.CACHE_STATUS, Special.VIA, Special.RECOMPUTED, Special.RECOMPUTED};

  /** Gives {@code out} the fields of {@code h} that go to the client, in order, with tags marked. */
  private static Upstream emitFields(Headers h, boolean fromStore, FieldSink out) {
    String upstreamStatus = null;
    String via = null;
    for (int i = 0; i < h.size(); i++) {
      String name = h.name(i);
      int special = SPECIAL_NAMES.indexOf(name);
      if (special < 0) {
        out.accept(name, h.value(i), false);
        continue;
      }
      switch (SPECIAL[special]) {
        case SURROGATE_CONTROL -> { }
        case TAG -> out.accept(name, h.value(i), true);
        case CACHE_STATUS -> upstreamStatus = upstreamStatus == null ? h.value(i) : upstreamStatus + ", " + h.value(i);
        case VIA -> via = via == null ? h.value(i) : via + ", " + h.value(i);
        case RECOMPUTED -> {
          if (!fromStore) {
            out.accept(name, h.value(i), false);
          }
        }
      }
    }
    return upstreamStatus == null && via == null ? Upstream.NONE : new Upstream(upstreamStatus, via);
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
    Upstream up = emitFields(h, fromStore, (name, value, tag) -> {
      if (exposeTags || !tag) {
        out.accept(name, value);
      }
    });
    out.accept(Messages.VIA.toString(), via(up.via(), http10));
    out.accept(Messages.CACHE_STATUS.toString(), cs.after(up.cacheStatus()));
  }

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

  private static final String VIA_10 = "1.0 " + CacheStatus.NAME;
  private static final String VIA_11 = "1.1 " + CacheStatus.NAME;

  private static String via(String upstream, boolean http10) {
    String ours = http10 ? VIA_10 : VIA_11;
    return upstream == null ? ours : upstream + ", " + ours;
  }
}
