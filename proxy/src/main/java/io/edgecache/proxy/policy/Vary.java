package io.edgecache.proxy.policy;

import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * Secondary cache keys from {@code Vary} (RFC 9111 section 4.1).
 *
 * <p>The selecting header values are normalised so that equivalent requests share a variant:
 * several field lines are combined, whitespace is removed, {@code Accept-Language} ignores case
 * and order, and {@code Accept-Encoding} is reduced to the one coding we ask the origin for
 * ({@link #acceptEncoding}), which is also what the origin is sent, so the normalisation is safe.
 */
public final class Vary {
  /** Stands for an absent selecting header, which matches only another absent one. */
  static final String ABSENT = "\u0000";

  private Vary() {}

  /**
   * A request field listing the names a route adds to every response's Vary
   * ({@code cacheKey.headers} and {@code cacheKey.cookies}). It starts with a colon, which no
   * field name received from a client can, and is never forwarded.
   */
  public static final String ROUTE_KEY_FIELD = ":route-key";

  /** The lower-case, sorted, de-duplicated field names in Vary; {@code ["*"]} for Vary: *. */
  public static List<String> names(Headers response) {
    return names(response, Headers.EMPTY);
  }

  /**
   * As {@link #names(Headers)}, with the names the request's route adds ({@link #ROUTE_KEY_FIELD}):
   * the variants a response is stored and found under.
   */
  public static List<String> names(Headers response, Headers request) {
    TreeSet<String> names = new TreeSet<>(request.listMembers(ROUTE_KEY_FIELD));
    for (String n : response.listMembers("vary")) {
      String lower = n.toLowerCase(Locale.ROOT);
      if (lower.equals("*")) {
        return List.of("*");
      }
      names.add(lower);
    }
    return List.copyOf(names);
  }

  /** The secondary key of a request for the given Vary names. */
  public static String secondaryKey(List<String> names, Headers request) {
    StringBuilder sb = new StringBuilder();
    for (String name : names) {
      sb.append(name).append('=').append(normalised(name, request)).append('\n');
    }
    return sb.toString();
  }

  static String normalised(String name, Headers request) {
    String v = request.combined(name);
    if (v == null) {
      return ABSENT;
    }
    switch (name) {
      case "accept-encoding" -> {
        String ae = acceptEncoding(v);
        return ae == null ? "identity" : ae;
      }
      case "accept-language" -> {
        TreeSet<String> langs = new TreeSet<>();
        for (String l : Headers.splitList(v)) {
          if (!l.isEmpty()) {
            langs.add(stripSpace(l).toLowerCase(Locale.ROOT));
          }
        }
        return String.join(",", langs);
      }
      default -> {
        return stripSpace(v);
      }
    }
  }

  private static String stripSpace(String v) {
    StringBuilder sb = new StringBuilder(v.length());
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c != ' ' && c != '\t') {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  /**
   * Reduces an Accept-Encoding value to the single coding the cache asks for: {@code br} if
   * acceptable, else {@code gzip}, else null (identity). Codings with {@code q=0} are refused.
   */
  public static String acceptEncoding(String value) {
    boolean br = false;
    boolean gzip = false;
    for (String member : Headers.splitList(value)) {
      if (member.isEmpty()) {
        continue;
      }
      String[] parts = member.split(";", -1); // never empty, even for ";"
      String coding = parts[0].trim().toLowerCase(Locale.ROOT);
      double q = qValue(parts);
      if (q <= 0 || Double.isNaN(q)) {
        continue;
      }
      if (coding.equals("br")) {
        br = true;
      } else if (coding.equals("gzip") || coding.equals("x-gzip") || coding.equals("*")) {
        gzip = true;
      }
    }
    return br ? "br" : gzip ? "gzip" : null;
  }

  /**
   * The single language a client prefers most in {@code Accept-Language} (highest q; q defaults
   * to 1), lower case; null when the header is absent, malformed, names {@code *} first, or two
   * languages tie for the top.
   */
  public static String mostPreferredLanguage(String acceptLanguage) {
    if (acceptLanguage == null) {
      return null;
    }
    String best = null;
    double bestQ = 0;
    boolean tie = false;
    for (String member : Headers.splitList(acceptLanguage)) {
      if (member.isEmpty()) {
        continue;
      }
      String[] parts = member.split(";", -1); // never empty, even for ";"
      String lang = parts[0].trim().toLowerCase(Locale.ROOT);
      double q = qValue(parts);
      if (Double.isNaN(q)) {
        return null;
      }
      if (q > bestQ) {
        best = lang;
        bestQ = q;
        tie = false;
      } else if (q == bestQ && q > 0) {
        tie = true;
      }
    }
    return tie || best == null || best.equals("*") ? null : best;
  }

  /** The {@code q} parameter of a list member split on ';' (1 when absent, NaN when malformed). */
  private static double qValue(String[] parts) {
    double q = 1;
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i].trim().toLowerCase(Locale.ROOT);
      if (p.startsWith("q=")) {
        try {
          q = Double.parseDouble(p.substring(2));
        } catch (NumberFormatException e) {
          return Double.NaN;
        }
      }
    }
    return q;
  }

}
