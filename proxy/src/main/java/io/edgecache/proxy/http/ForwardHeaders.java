package io.edgecache.proxy.http;

import io.edgecache.proxy.policy.FieldNames;
import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.HopByHop;
import io.edgecache.proxy.policy.TargetedControl;
import io.edgecache.proxy.policy.Vary;
import io.vertx.core.MultiMap;
import java.util.Set;

/**
 * The header section sent to the origin: the client's fields without hop-by-hop fields, with
 * {@code Via} appended and {@code X-Forwarded-For/-Proto/-Host} set by us (never trusted from the
 * client), {@code Surrogate-Capability} announcing this device, and Accept-Encoding reduced to
 * the one coding the cache keys variants by.
 *
 * <p>Fields named by {@code upstream.stripRequestHeaders} are removed as well. Frameworks read
 * {@code X-Original-URL}, {@code X-HTTP-Method-Override}, {@code X-Forwarded-Prefix} and the like
 * to answer for another path, method or host than the request line says; none of them is in the
 * cache key, so one request carrying them could store its answer under the URL every other client
 * asks for (web-cache poisoning). Removing them makes the origin answer what the key names.
 *
 * <p>A lookup (GET, HEAD) is sent without content: RFC 9110 9.3.1 gives content in a GET no
 * meaning and says it "cannot alter the meaning or target of the request", and a body the cache
 * key does not cover must not shape a response that others are served. Its Content-Length goes
 * too, so the origin does not wait for bytes that never come.
 */
final class ForwardHeaders {
  static final String SURROGATE_CAPABILITY = TargetedControl.DEVICE + "=\"Surrogate/1.0\"";
  private static final Set<String> DROPPED =
      FieldNames.of("host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "surrogate-capability", "expect");
  private static final Set<String> CONDITIONALS =
      FieldNames.of("if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range", "range");

  private ForwardHeaders() {}

  /**
   * The fields to send, added to {@code out} (an empty map: the origin request's own), which is
   * returned. From an HTTP/2 client ({@code httpVersion} "2"), Cookie field lines (which HTTP/2 may
   * split, one per cookie) are joined into one with "; ", as RFC 9113 8.2.3 requires before a
   * request goes on over HTTP/1.1; pseudo-header fields never leave.
   *
   * @param h the client's fields
   * @param clientAddress the peer address of the client connection
   * @param host the Host the client asked for
   * @param httpVersion "1.1", "1.0" or "2", for Via
   * @param lookup a GET or HEAD: sent without content, Accept-Encoding reduced
   * @param validators when revalidating, the stored response's fields whose ETag / Last-Modified
   *     replace the client's conditionals; null otherwise
   * @param stripped names of client fields never forwarded ({@code upstream.stripRequestHeaders}),
   *     a case-insensitive set ({@link FieldNames})
   * @param proto {@code "http"} or {@code "https"}, the scheme the client used, sent as
   *     X-Forwarded-Proto
   */
  static MultiMap build(MultiMap out, Headers h, String clientAddress, String host, String httpVersion,
      boolean lookup, Headers validators, Set<String> stripped, String proto) {
    Set<String> hop = HopByHop.namesIn(h); // the fixed set, and whatever Connection names
    String via = null;
    for (int i = 0; i < h.size(); i++) {
      String name = h.name(i); // matched as received: the sets here ignore case (FieldNames)
      if (name.startsWith(":")) {
        continue; // pseudo-header fields, and the cache's own request fields (Vary.ROUTE_KEY_FIELD): never sent
      }
      if (hop.contains(name) || DROPPED.contains(name)
          || stripped.contains(name) || (lookup && name.equalsIgnoreCase("content-length"))) {
        continue;
      }
      if (validators != null && CONDITIONALS.contains(name)) {
        continue;
      }
      if (name.equalsIgnoreCase("cookie") && httpVersion.equals("2")) {
        if (!out.contains("Cookie")) {
          out.add(name, String.join("; ", h.all("cookie")));
        }
        continue;
      }
      if (name.equalsIgnoreCase("via")) {
        via = via == null ? h.value(i) : via + ", " + h.value(i);
        continue;
      }
      if (lookup && name.equalsIgnoreCase("accept-encoding")) {
        continue;
      }
      out.add(name, h.value(i));
    }
    if (lookup) {
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
    out.set("X-Forwarded-Proto", proto);
    if (host != null) {
      out.set("X-Forwarded-Host", host);
    }
    out.set("Surrogate-Capability", SURROGATE_CAPABILITY);
    return out;
  }
}
