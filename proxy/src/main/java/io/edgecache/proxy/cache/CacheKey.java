package io.edgecache.proxy.cache;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Optional;

/**
 * The one builder of primary cache keys: lookup, store, {@code PURGE}, the admin purge by URL and
 * by prefix, and the invalidation after unsafe methods (the request URI, Location and
 * Content-Location) all name an entry through this class, so equivalent spellings of a URL name
 * one entry.
 *
 * <p>A key reads {@code http://host[:port]/path[?query]}:
 * <ul>
 *   <li>the host is lower-cased (RFC 3986 3.2.2: the host is case-insensitive); an IPv6 literal
 *       keeps its brackets;</li>
 *   <li>the port is dropped when it is the default port of the scheme the URL was given in (80
 *       for http, 443 for https; RFC 3986 6.2.3), and kept otherwise, so {@code Edge.Test:80},
 *       {@code edge.test} and {@code http://edge.test/} agree, while {@code http://edge.test:443/}
 *       is a different URL from {@code https://edge.test/};</li>
 *   <li>an empty path is {@code /}; path and query are kept byte for byte (no decoding, no
 *       reordering), because origins may treat other spellings as other resources;</li>
 *   <li>the scheme is always written {@code http}: the cache holds one copy per URL whether it
 *       was asked for over http or https.</li>
 * </ul>
 *
 * <p>Pure functions, thread-safe.
 */
public final class CacheKey {
  /** What every key starts with. */
  public static final String PREFIX = "http://";

  private CacheKey() {}

  /**
   * The key of a request received over {@code scheme} for {@code host} (and {@code port}, or a
   * negative number when the Host field named none) and the origin-form {@code target}.
   */
  public static String of(String scheme, String host, int port, String target) {
    String path = target == null || target.isEmpty() ? "/" : target;
    return PREFIX + authority(scheme, host, port) + path;
  }

  /**
   * The key of an absolute {@code http} or {@code https} URL (the admin purge API's form).
   *
   * @throws IllegalArgumentException when {@code url} is not an absolute http(s) URL with a host;
   *     the message names {@code field}
   */
  public static String ofUrl(String url, String field) {
    URI u;
    try {
      u = new URI(url.trim());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(field + ": not a URL: " + url);
    }
    return ofUri(u).orElseThrow(
        () -> new IllegalArgumentException(field + ": expected an absolute http(s) URL, got " + url));
  }

  /**
   * Resolves a {@code Location} or {@code Content-Location} value against the URL of
   * {@code baseKey} (RFC 9111 4.4): the key it names, when that URL has the same host and port as
   * the base (a cache must not invalidate other origins' entries on one origin's word), else empty.
   * An unparseable reference names nothing.
   */
  public static Optional<String> sameOriginReference(String baseKey, String reference) {
    try {
      URI base = new URI(baseKey);
      Optional<String> resolved = ofUri(resolve(base, new URI(reference.trim())));
      return resolved.filter(k -> authorityOf(k).equals(authorityOf(baseKey)));
    } catch (URISyntaxException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /**
   * Resolves {@code ref} against {@code base} as RFC 3986 5.2.2 does. {@link URI#resolve} follows
   * RFC 2396, which differs for a reference with an empty path ({@code ?y}, {@code #f}, or empty):
   * RFC 3986 keeps the base path (and the base query unless the reference has one), so
   * {@code ?page=2} against {@code /list?page=1} is {@code /list?page=2}, where RFC 2396 gives
   * {@code /?page=2}.
   */
  private static URI resolve(URI base, URI ref) throws URISyntaxException {
    boolean emptyPath = ref.getRawPath() == null || ref.getRawPath().isEmpty();
    if (ref.getScheme() != null || ref.getRawAuthority() != null || !emptyPath) {
      return base.resolve(ref);
    }
    String query = ref.getRawQuery() != null ? ref.getRawQuery() : base.getRawQuery();
    return new URI(base.getScheme() + "://" + base.getRawAuthority() + base.getRawPath()
        + (query == null ? "" : "?" + query));
  }

  /** The {@code host[:port]} part of a key. */
  public static String authorityOf(String key) {
    int end = key.indexOf('/', PREFIX.length());
    return end < 0 ? key.substring(PREFIX.length()) : key.substring(PREFIX.length(), end);
  }

  private static Optional<String> ofUri(URI u) {
    String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
    if (!(scheme.equals("http") || scheme.equals("https")) || u.getHost() == null || u.getHost().isEmpty()) {
      return Optional.empty();
    }
    String path = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
    String target = u.getRawQuery() == null ? path : path + "?" + u.getRawQuery();
    return Optional.of(of(scheme, u.getHost(), u.getPort(), target));
  }

  private static String authority(String scheme, String host, int port) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.indexOf(':') >= 0 && !h.startsWith("[")) {
      h = "[" + h + "]"; // an IPv6 literal given without brackets
    }
    int defaultPort = "https".equalsIgnoreCase(scheme) ? 443 : 80;
    return port > 0 && port != defaultPort ? h + ":" + port : h;
  }
}
