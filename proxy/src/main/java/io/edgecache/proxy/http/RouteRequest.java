package io.edgecache.proxy.http;

import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.Vary;
import java.util.ArrayList;
import java.util.List;

/**
 * What a route ({@code origins[].routes}) needs from a request: the path it is matched on, and the
 * request fields that carry its extra cache-key inputs.
 */
final class RouteRequest {
  /** The prefix of the request field holding one cookie's value for the key ({@code :cookie:NAME}). */
  static final String COOKIE_FIELD = ":cookie:";

  private RouteRequest() {}

  /**
   * The path of origin-form {@code target} as routes match it: percent-encoded unreserved
   * characters decoded (RFC 3986 6.2.2.2) and dot segments removed (5.2.4), so that
   * {@code /%61pi/x} and {@code /static/../api/x} fall under a route for {@code /api/} as the origin
   * will read them, and cannot slip past a bypass.
   */
  static String matchPath(String target) {
    int q = target.indexOf('?');
    String path = q < 0 ? target : target.substring(0, q);
    if (path.indexOf('%') >= 0) {
      path = decodeUnreserved(path);
    }
    return path.contains("/.") ? removeDotSegments(path) : path;
  }

  private static String decodeUnreserved(String path) {
    StringBuilder sb = new StringBuilder(path.length());
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      int hi = c == '%' && i + 2 < path.length() ? Character.digit(path.charAt(i + 1), 16) : -1;
      int lo = hi >= 0 ? Character.digit(path.charAt(i + 2), 16) : -1;
      if (lo >= 0 && unreserved((char) (hi * 16 + lo))) {
        sb.append((char) (hi * 16 + lo));
        i += 2;
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  private static boolean unreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
        || c == '_' || c == '~';
  }

  /** RFC 3986 5.2.4 on an absolute path. */
  static String removeDotSegments(String path) {
    List<String> out = new ArrayList<>();
    String[] segs = path.split("/", -1);
    for (int i = 1; i < segs.length; i++) {
      String s = segs[i];
      boolean last = i == segs.length - 1;
      if (s.equals(".")) {
        if (last) {
          out.add("");
        }
      } else if (s.equals("..")) {
        if (!out.isEmpty()) {
          out.remove(out.size() - 1);
        }
        if (last) {
          out.add("");
        }
      } else {
        out.add(s);
      }
    }
    return "/" + String.join("/", out);
  }

  /**
   * {@code h} with the route's key inputs: {@link Vary#ROUTE_KEY_FIELD} listing the header names
   * and {@code :cookie:NAME} fields, and one {@code :cookie:NAME} field per cookie the request
   * carries. The cache then keys on them as on Vary fields; none of them is forwarded.
   */
  static Headers withKeyFields(Headers h, ProxyConfig.Route route) {
    if (route.keyHeaders().isEmpty() && route.keyCookies().isEmpty()) {
      return h;
    }
    List<String> names = new ArrayList<>(route.keyHeaders());
    Headers.Builder b = h.toBuilder();
    for (String c : route.keyCookies()) {
      String field = COOKIE_FIELD + c;
      names.add(field);
      String value = cookie(h, c);
      if (value != null) {
        b.set(field, value);
      }
    }
    return b.set(Vary.ROUTE_KEY_FIELD, String.join(", ", names)).build();
  }

  /** The value of cookie {@code name} in the request's Cookie fields (RFC 6265 5.4), or null. */
  static String cookie(Headers h, String name) {
    for (String line : h.all("cookie")) {
      for (String pair : line.split(";")) {
        String p = pair.trim();
        int eq = p.indexOf('=');
        if (eq > 0 && p.substring(0, eq).trim().equals(name)) {
          return p.substring(eq + 1).trim();
        }
      }
    }
    return null;
  }
}
