package io.edgecache.proxy.http;

import io.netty.handler.codec.http.HttpHeaders;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.net.HostAndPort;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;

/**
 * The checks a request passes before anything else happens (the {@code RECV} step): methods this
 * proxy refuses, header bombs, ambiguous framing (request smuggling), and the target's authority.
 *
 * <ul>
 *   <li>an HTTP-version other than 1.x: 505, or 400 when it is not an HTTP-version at all
 *       ({@link StrictRequestDecoder#versionRefusal});</li>
 *   <li>{@code CONNECT}: 405, edgecache is a reverse proxy, never a tunnel;</li>
 *   <li>more header fields than {@code limits.maxHeaderCount}: 431 (RFC 6585 5);</li>
 *   <li>Content-Length with Transfer-Encoding, or several Content-Lengths: 400 and the connection
 *       is closed (RFC 9112 6.3: a message whose framing two parties may read differently);</li>
 *   <li>more than one Host field line, or a Host whose value is not a valid authority: 400
 *       (RFC 9112 3.2: a server "MUST respond with a 400 (Bad Request) status code to any
 *       HTTP/1.1 request message that lacks a Host header field and to any request message that
 *       contains more than one Host header field line or a Host header field with an invalid
 *       field value"). Two Hosts are the classic way to make the cache key name one site while
 *       the origin (or a hop behind it) reads the other;</li>
 *   <li>absolute-form targets (RFC 9112 3.2.2): the target's authority wins over Host. A Host
 *       that merely disagrees with it is not an error: a proxy "MUST ignore the received Host
 *       header field (if any) and instead replace it with the host information of the
 *       request-target", which is what happens (the key, the routing and the Host sent to the
 *       origin all come from the target);</li>
 *   <li>no host at all: 400. An absolute-form HTTP/1.1 request without a Host field is still
 *       accepted, although 3.2 asks for a 400: its target names the authority unambiguously, so
 *       nothing can be confused by the missing field.</li>
 * </ul>
 *
 * <p>Pure function of the request line and header fields; thread-safe.
 */
final class RequestCheck {
  private RequestCheck() {}

  /** The outcome: the request is refused, or it names an authority and an origin-form target. */
  sealed interface Result permits Rejected, Accepted {}

  /**
   * Answer with {@code status} and {@code message}; {@code close} the connection afterwards;
   * {@code allow} is the Allow field of a 405, else null.
   */
  record Rejected(int status, String message, CacheStatus.Fwd fwd, boolean close, String allow) implements Result {}

  /** The authority the request addresses and its origin-form target. */
  record Accepted(HostAndPort authority, String target) implements Result {}

  /**
   * @param hostAuthority the authority from the Host field (or null)
   * @param uri the request target as received
   */
  static Result check(HttpMethod method, MultiMap headers, String uri, HostAndPort hostAuthority, int maxHeaderCount) {
    String badVersion = headers.get(BAD_VERSION);
    if (badVersion != null) {
      return badVersion.equals("505")
          ? rejected(505, "HTTP version not supported: edgecache speaks HTTP/1.0 and HTTP/1.1")
          : rejected(400, "invalid HTTP version");
    }
    if (method == HttpMethod.CONNECT) {
      return new Rejected(405, "CONNECT is not supported: edgecache is a reverse proxy, not a forward proxy",
          CacheStatus.Fwd.METHOD, true, "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH");
    }
    if (moreFieldsThan(headers, maxHeaderCount)) {
      return rejected(431, "too many header fields (limit " + maxHeaderCount + ")");
    }
    if (headers.contains(AMBIGUOUS_FRAMING)
        || (headers.contains(TRANSFER_ENCODING) && headers.contains(CONTENT_LENGTH))) {
      return rejected(400, "both Transfer-Encoding and Content-Length: ambiguous framing");
    }
    if (headers.getAll(CONTENT_LENGTH).size() > 1) {
      return rejected(400, "several Content-Length fields: ambiguous framing");
    }
    List<String> hosts = headers.getAll(HOST);
    if (hosts.size() > 1) {
      return rejected(400, "more than one Host field");
    }
    if (!hosts.isEmpty() && !hosts.get(0).isBlank() && invalidHost(hosts.get(0), hostAuthority)) {
      return rejected(400, "invalid Host");
    }
    HostAndPort authority = hostAuthority;
    String target = uri;
    if (!target.startsWith("/") && !target.equals("*")) {
      try {
        URI abs = new URI(target);
        if (abs.getHost() == null) {
          return rejected(400, "invalid request target");
        }
        authority = HostAndPort.create(abs.getHost(), abs.getPort());
        String path = abs.getRawPath() == null || abs.getRawPath().isEmpty() ? "/" : abs.getRawPath();
        target = path + (abs.getRawQuery() == null ? "" : "?" + abs.getRawQuery());
      } catch (URISyntaxException e) {
        return rejected(400, "invalid request target");
      }
    }
    if (authority == null || authority.host() == null || authority.host().isEmpty()) {
      return rejected(400, "missing Host");
    }
    return new Accepted(authority, target);
  }

  /** Whether the request has a body to forward (a non-zero Content-Length, or Transfer-Encoding). */
  static boolean hasBody(MultiMap headers) {
    String cl = headers.get(CONTENT_LENGTH);
    return (cl != null && !cl.trim().equals("0")) || headers.contains(TRANSFER_ENCODING);
  }

  // Field names as ASCII strings: they keep their hash, so a lookup does not hash the name again.
  private static final CharSequence BAD_VERSION = io.vertx.core.http.HttpHeaders.createOptimized(StrictRequestDecoder.BAD_VERSION);
  private static final CharSequence AMBIGUOUS_FRAMING = io.vertx.core.http.HttpHeaders.createOptimized(StrictRequestDecoder.AMBIGUOUS_FRAMING);
  private static final CharSequence TRANSFER_ENCODING = io.vertx.core.http.HttpHeaders.createOptimized("transfer-encoding");
  private static final CharSequence CONTENT_LENGTH = io.vertx.core.http.HttpHeaders.createOptimized("content-length");
  private static final CharSequence HOST = io.vertx.core.http.HttpHeaders.createOptimized("host");

  /**
   * Whether the request has more than {@code max} header field lines (each line counts, so 200
   * lines of one name count 200), counted without copying them.
   */
  static boolean moreFieldsThan(MultiMap headers, int max) {
    if (headers instanceof HttpHeaders h) {
      int n = 0;
      for (java.util.Iterator<java.util.Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence(); it.hasNext();
          it.next()) {
        if (++n > max) {
          return true;
        }
      }
      return false;
    }
    return headers.entries().size() > max;
  }

  /**
   * Whether the request's body goes to the origin. Never for GET and HEAD: they are cache lookups
   * keyed without the body, so it is read and dropped (RFC 9110 9.3.1: content in a GET "has no
   * generally defined semantics, cannot alter the meaning or target of the request"), as Varnish
   * does for lookups, and the connection stays framed for the next request.
   */
  static boolean forwardsBody(HttpMethod method, MultiMap headers) {
    return method != HttpMethod.GET && method != HttpMethod.HEAD && hasBody(headers);
  }

  /**
   * A Host value is {@code uri-host [ ":" port ]} (RFC 9112 3.2, RFC 3986 3.2.2): the server's
   * parse yielding nothing, a port of more than 5 digits, or characters outside a reg-name or IP
   * literal (a space, a second colon) make it invalid.
   */
  private static boolean invalidHost(String value, HostAndPort parsed) {
    return parsed == null || parsed.host() == null || parsed.host().isEmpty() || !validAuthority(value.trim());
  }

  /**
   * {@code ( "[" IPv6-ish "]" / reg-name ) [ ":" 0*5DIGIT ]}, checked character by character: this
   * runs on every request, so no regular expression.
   */
  static boolean validAuthority(String v) {
    int i = 0;
    int n = v.length();
    if (n > 0 && v.charAt(0) == '[') {
      int close = v.indexOf(']');
      if (close < 2) {
        return false;
      }
      for (i = 1; i < close; i++) {
        char c = v.charAt(i);
        if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.')) {
          return false;
        }
      }
      i = close + 1;
    } else {
      while (i < n && v.charAt(i) != ':') {
        char c = v.charAt(i);
        if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "._~!$&'()*+,;=%-".indexOf(c) >= 0)) {
          return false;
        }
        i++;
      }
      if (i == 0) {
        return false;
      }
    }
    if (i == n) {
      return true;
    }
    if (v.charAt(i) != ':' || n - i - 1 > 5) {
      return false;
    }
    for (int j = i + 1; j < n; j++) {
      if (v.charAt(j) < '0' || v.charAt(j) > '9') {
        return false;
      }
    }
    return true;
  }

  private static Rejected rejected(int status, String message) {
    return new Rejected(status, message, CacheStatus.Fwd.REQUEST, true, null);
  }
}
