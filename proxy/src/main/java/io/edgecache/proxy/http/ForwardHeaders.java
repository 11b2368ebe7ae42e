package io.edgecache.proxy.http;

import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.HopByHop;
import io.edgecache.proxy.policy.TargetedControl;
import io.edgecache.proxy.policy.Vary;
import io.vertx.core.MultiMap;
import java.util.Locale;
import java.util.Set;

/**
 * The header section sent to the origin: the client's fields without hop-by-hop fields, with
 * {@code Via} appended and {@code X-Forwarded-For/-Proto/-Host} set by us (never trusted from the
 * client), {@code Surrogate-Capability} announcing this device, and Accept-Encoding reduced to
 * the one coding the cache keys variants by.
 */
final class ForwardHeaders {
  static final String SURROGATE_CAPABILITY = TargetedControl.DEVICE + "=\"Surrogate/1.0\"";
  private static final Set<String> DROPPED =
      Set.of("host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "surrogate-capability", "expect");
  private static final Set<String> CONDITIONALS =
      Set.of("if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range", "range");

  private ForwardHeaders() {}

  /**
   * @param h the client's fields
   * @param clientAddress the peer address of the client connection
   * @param host the Host the client asked for
   * @param httpVersion "1.1" or "1.0", for Via
   * @param normaliseEncoding whether to reduce Accept-Encoding (GET and HEAD)
   * @param validators when revalidating, the stored response's fields whose ETag / Last-Modified
   *     replace the client's conditionals; null otherwise
   */
  static MultiMap build(Headers h, String clientAddress, String host, String httpVersion,
      boolean normaliseEncoding, Headers validators) {
    Set<String> hop = h.contains("connection") ? HopByHop.namesIn(h) : null;
    MultiMap out = MultiMap.caseInsensitiveMultiMap();
    String via = null;
    for (int i = 0; i < h.size(); i++) {
      String name = h.name(i);
      String lower = name.toLowerCase(Locale.ROOT);
      if (HopByHop.isHopByHop(lower) || (hop != null && hop.contains(lower)) || DROPPED.contains(lower)) {
        continue;
      }
      if (validators != null && CONDITIONALS.contains(lower)) {
        continue;
      }
      if (lower.equals("via")) {
        via = via == null ? h.value(i) : via + ", " + h.value(i);
        continue;
      }
      if (lower.equals("accept-encoding") && normaliseEncoding) {
        continue;
      }
      out.add(name, h.value(i));
    }
    if (normaliseEncoding) {
      String ae = h.combined("accept-encoding");
      String norm = ae == null ? null : Vary.acceptEncoding(ae);
      if (norm != null) {
        out.set("Accept-Encoding", norm);
      }
    }
    if (validators != null) {
      String etag = validators.get("etag");
      if (etag != null) {
        out.set("If-None-Match", etag);
      }
      String lm = validators.get("last-modified");
      if (lm != null) {
        out.set("If-Modified-Since", lm);
      }
    }
    String ours = httpVersion + " " + CacheStatus.NAME;
    out.set("Via", via == null ? ours : via + ", " + ours);
    out.set("X-Forwarded-For", clientAddress);
    out.set("X-Forwarded-Proto", "http");
    if (host != null) {
      out.set("X-Forwarded-Host", host);
    }
    out.set("Surrogate-Capability", SURROGATE_CAPABILITY);
    return out;
  }
}
