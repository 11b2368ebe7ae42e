package io.edgecache.proxy.cache;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Which query parameters of a request target are kept, for both the cache key and the request
 * sent to the origin, so that the cache never holds a variant the origin did not answer
 * ({@code origins[].routes[].cacheKey}).
 *
 * <p>A parameter is the text between two {@code &}; its name is what comes before the first
 * {@code =}, compared byte for byte (no percent-decoding, case-sensitive). Patterns may use
 * {@code *} for any run of characters ({@code utm_*}). {@link Mode#ALL} without sorting leaves the
 * target untouched; otherwise empty parameters are dropped and, with {@code sort}, the kept ones
 * ordered by name (a stable sort: repeated names keep their order, which origins may rely on).
 *
 * @param params the patterns of {@link Mode#KEEP} or {@link Mode#DROP}
 */
public record QueryRule(Mode mode, List<String> params, boolean sort) {
  /** What happens to the query. */
  public enum Mode {
    /** Every parameter (the default). */
    ALL,
    /** No query at all. */
    NONE,
    /** Only the parameters matching a pattern. */
    KEEP,
    /** Every parameter but those matching a pattern. */
    DROP
  }

  /** The query as the client sent it. */
  public static final QueryRule KEEP_ALL = new QueryRule(Mode.ALL, List.of(), false);

  public QueryRule {
    params = List.copyOf(params);
  }

  /** {@code target} (origin-form: path and optional query) with this rule applied. */
  public String apply(String target) {
    if (mode == Mode.ALL && !sort) {
      return target;
    }
    int q = target.indexOf('?');
    if (q < 0) {
      return target;
    }
    String path = target.substring(0, q);
    if (mode == Mode.NONE) {
      return path;
    }
    List<String> kept = new ArrayList<>();
    for (String p : target.substring(q + 1).split("&", -1)) {
      if (p.isEmpty()) {
        continue;
      }
      boolean matches = matchesAny(name(p));
      if (mode == Mode.ALL || (mode == Mode.KEEP) == matches) {
        kept.add(p);
      }
    }
    if (sort) {
      kept.sort(Comparator.comparing(QueryRule::name));
    }
    return kept.isEmpty() ? path : path + "?" + String.join("&", kept);
  }

  private static String name(String param) {
    int eq = param.indexOf('=');
    return eq < 0 ? param : param.substring(0, eq);
  }

  private boolean matchesAny(String name) {
    for (String pattern : params) {
      if (glob(pattern, 0, name, 0)) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code s} from {@code si} matches {@code p} from {@code pi}; {@code *} is any run. */
  static boolean glob(String p, int pi, String s, int si) {
    while (pi < p.length()) {
      char c = p.charAt(pi);
      if (c == '*') {
        while (pi < p.length() && p.charAt(pi) == '*') {
          pi++;
        }
        if (pi == p.length()) {
          return true;
        }
        for (int i = si; i <= s.length(); i++) {
          if (glob(p, pi, s, i)) {
            return true;
          }
        }
        return false;
      }
      if (si >= s.length() || s.charAt(si) != c) {
        return false;
      }
      pi++;
      si++;
    }
    return si == s.length();
  }
}
