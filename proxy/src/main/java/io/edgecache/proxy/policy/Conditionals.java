package io.edgecache.proxy.policy;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Evaluates a client's conditional GET/HEAD against a stored response (RFC 9110 section 13,
 * RFC 9111 section 4.3.2), so that a cache hit can answer 304 without the origin.
 */
public final class Conditionals {
  /**
   * The fields a 304 from the cache carries (RFC 9110 15.4.5: those a 200 would have sent that
   * describe the representation's validators and caching, so the client can update its copy).
   */
  public static final List<String> NOT_MODIFIED_FIELDS =
      List.of("ETag", "Cache-Control", "Content-Location", "Date", "Expires", "Vary", "Last-Modified");

  private Conditionals() {}

  /** True when the client's validators match and the answer is 304 Not Modified. */
  public static boolean notModified(Headers request, ResponseView stored) {
    if (stored.status() != 200) {
      return false;
    }
    String inm = request.combined("if-none-match");
    if (inm != null) {
      // 13.1.2: If-None-Match takes precedence; If-Modified-Since is then ignored.
      String etag = stored.headers().get("etag");
      return etagListMatchesWeakly(inm, etag);
    }
    String ims = request.get("if-modified-since");
    if (ims != null) {
      // RFC 9110 13.1.3: ignored unless "a valid HTTP-date" (read exactly).
      Optional<Instant> since = HttpDates.parse(ims);
      if (since.isEmpty()) {
        return false;
      }
      // 4.3.2: Last-Modified, else Date, else the time the response was received.
      Optional<Instant> lm = HttpDates.parseLenient(stored.headers().get("last-modified"));
      long modified = lm.map(Instant::toEpochMilli).orElseGet(() -> FreshnessPolicy.dateMs(stored));
      return modified / 1000 <= since.get().toEpochMilli() / 1000;
    }
    return false;
  }

  /** Whether any of the client's conditional header fields are present. */
  public static boolean isConditional(Headers request) {
    return request.contains("if-none-match") || request.contains("if-modified-since")
        || request.contains("if-match") || request.contains("if-unmodified-since") || request.contains("if-range");
  }

  /** Weak comparison of an If-None-Match list against one entity tag (RFC 9110 8.8.3.2). */
  public static boolean etagListMatchesWeakly(String list, String etag) {
    if (list.trim().equals("*")) {
      return true;
    }
    if (etag == null) {
      return false;
    }
    String mine = opaque(etag);
    if (mine == null) {
      return false;
    }
    for (String candidate : Headers.splitList(list)) {
      String o = opaque(candidate);
      if (o != null && o.equals(mine)) {
        return true;
      }
    }
    return false;
  }

  /** The opaque-tag of an entity-tag with any weak prefix removed, or null if malformed. */
  static String opaque(String etag) {
    String t = etag.trim();
    if (t.startsWith("W/")) {
      t = t.substring(2);
    }
    if (t.length() < 2 || t.charAt(0) != '"' || t.charAt(t.length() - 1) != '"') {
      return null;
    }
    return t;
  }

  /** Whether the entity tag is strong (no {@code W/} prefix). */
  public static boolean isStrong(String etag) {
    return etag != null && !etag.trim().startsWith("W/");
  }

  /**
   * RFC 9110 13.1.5: whether a Range request may be honoured given its {@code If-Range}. Without
   * If-Range, always; with an entity tag, only when it matches the stored strong ETag by strong
   * comparison; with a date, only when it equals the stored Last-Modified exactly. When this
   * returns false the whole representation is sent (200), never a 412.
   */
  public static boolean ifRangeAllows(Headers request, Headers stored) {
    String ifRange = request.get("if-range");
    if (ifRange == null) {
      return true;
    }
    String t = ifRange.trim();
    if (t.startsWith("\"") || t.startsWith("W/")) {
      String etag = stored.get("etag");
      return etag != null && isStrong(etag) && isStrong(t) && etag.trim().equals(t);
    }
    // RFC 9110 13.1.5: the date form counts only as a valid HTTP-date (read exactly).
    Optional<Instant> lm = HttpDates.parseLenient(stored.get("last-modified"));
    return lm.isPresent() && lm.equals(HttpDates.parse(t));
  }
}
