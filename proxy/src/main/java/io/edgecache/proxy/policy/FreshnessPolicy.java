package io.edgecache.proxy.policy;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Freshness lifetime and age of a stored response (RFC 9111 sections 4.2.1 to 4.2.3).
 *
 * <p>Pure: every method takes the current time. All results are in whole seconds.
 *
 * @param heuristicFraction fraction of (Date - Last-Modified) used as heuristic lifetime; 0 turns
 *     heuristic freshness off
 * @param heuristicMaxSeconds upper bound of a heuristic lifetime
 * @param ttl the route's rules on top ({@link TtlRules#NONE} without a route)
 */
public record FreshnessPolicy(double heuristicFraction, long heuristicMaxSeconds, TtlRules ttl) {

  /** RFC 9110 section 15.1: status codes that are heuristically cacheable by default. */
  public static final Set<Integer> HEURISTIC_STATUSES =
      Set.of(200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501);

  public static final FreshnessPolicy DEFAULT = new FreshnessPolicy(0.1, 86400);

  public FreshnessPolicy(double heuristicFraction, long heuristicMaxSeconds) {
    this(heuristicFraction, heuristicMaxSeconds, TtlRules.NONE);
  }

  /** The same policy with a route's rules. */
  public FreshnessPolicy withTtl(TtlRules rules) {
    return rules == ttl ? this : new FreshnessPolicy(heuristicFraction, heuristicMaxSeconds, rules);
  }

  /**
   * The freshness lifetime: s-maxage, then max-age, then Expires minus Date, then the route's
   * default or negative lifetime ({@link TtlRules}), then a heuristic; clamped by the route. A
   * targeted field (CDN-Cache-Control, Surrogate-Control) replaces Cache-Control and Expires. A
   * route that forces its lifetime ignores the origin's.
   */
  public long lifetimeSeconds(ResponseView r) {
    if (ttl == TtlRules.NONE) {
      return originSeconds(r);
    }
    int status = r.status();
    long rule = ttl.ruleSeconds(status);
    if (ttl.forced(status)) {
      return rule;
    }
    if (hasExplicitFreshness(r)) {
      return ttl.clamp(status, originSeconds(r));
    }
    if (ttl.negative().containsKey(status)) {
      return rule;
    }
    return ttl.clamp(status, rule >= 0 ? rule : heuristicSeconds(r));
  }

  /** The lifetime as the response and RFC 9111 alone give it. */
  private long originSeconds(ResponseView r) {
    CacheControl cc = r.effective();
    OptionalLong v = cc.seconds("s-maxage");
    if (v.isPresent()) {
      return v.getAsLong();
    }
    v = cc.seconds("max-age");
    if (v.isPresent()) {
      return v.getAsLong();
    }
    if (r.targeted() == null) {
      List<String> expires = r.headers().all("expires");
      if (!expires.isEmpty()) {
        // RFC 9111 5.3: "A cache recipient MUST interpret invalid date formats, especially the
        // value "0", as representing a time in the past (i.e., "already expired")." Read exactly
        // (HttpDates.parse): extra spaces, "gmt", "UTC" or a missing comma are invalid dates.
        // Two field lines make one value "date, date", which is not an HTTP-date either.
        Optional<Instant> exp = expires.size() == 1 ? HttpDates.parse(expires.get(0)) : Optional.empty();
        if (exp.isEmpty()) {
          return 0;
        }
        long delta = exp.get().toEpochMilli() - dateMs(r);
        return Math.max(0, delta / 1000);
      }
    }
    return heuristicSeconds(r);
  }

  /** Whether the lifetime comes from the response itself rather than from a heuristic. */
  public static boolean hasExplicitFreshness(ResponseView r) {
    CacheControl cc = r.effective();
    return cc.has("s-maxage") || cc.has("max-age") || (r.targeted() == null && r.headers().contains("expires"));
  }

  long heuristicSeconds(ResponseView r) {
    if (heuristicFraction <= 0) {
      return 0;
    }
    boolean allowed = HEURISTIC_STATUSES.contains(r.status()) || r.effective().has("public");
    if (!allowed) {
      return 0;
    }
    OptionalLong lm = r.lastModifiedMs();
    if (lm.isEmpty()) {
      return 0;
    }
    long since = (dateMs(r) - lm.getAsLong()) / 1000;
    if (since <= 0) {
      return 0;
    }
    return Math.min(heuristicMaxSeconds, (long) (since * heuristicFraction));
  }

  /** The Date field, or the time the response arrived when Date is absent or invalid. */
  static long dateMs(ResponseView r) {
    return r.dateMs();
  }

  /**
   * The Age field value in seconds: 0 when absent or invalid, at most 2^31.
   *
   * <p>RFC 9111 section 5.1: "Although it is defined as a singleton header field, a cache
   * encountering a message with a list-based Age field value SHOULD use the first member of the
   * field value, discarding subsequent ones." and "If the field value (after discarding additional
   * members, as per above) is invalid (e.g., it contains something other than a non-negative
   * integer), a cache SHOULD ignore the field." So {@code Age: 0, 7200} and two lines {@code 0} and
   * {@code 7200} read as 0, and {@code -1}, {@code 1.5}, {@code abc} or {@code 7200;foo=bar} read
   * as an absent field. Section 1.2.2 ({@code delta-seconds = 1*DIGIT}): a value too large to
   * represent "MUST" be taken as 2147483648 (2^31), which no lifetime covers, so the response is
   * stale. The npm http-cache-tests 0.4.5 suite expects the older reading (a list or an invalid
   * value makes the response stale); README lists those tests.
   *
   * @see <a href="https://www.rfc-editor.org/rfc/rfc9111#section-5.1">RFC 9111 5.1</a>
   * @see <a href="https://www.rfc-editor.org/rfc/rfc9111#section-1.2.2">RFC 9111 1.2.2</a>
   */
  public static long ageValue(Headers h) {
    String first = firstMember(h.all("age"));
    if (first == null || first.isEmpty()) {
      return 0;
    }
    long n = 0;
    for (int i = 0; i < first.length(); i++) {
      char c = first.charAt(i);
      if (c < '0' || c > '9') {
        return 0;
      }
      n = Math.min(CacheControl.MAX_DELTA, n * 10 + (c - '0'));
    }
    return n;
  }

  /** The first non-empty member of a list spread over field lines (RFC 9110 5.6.1: empty members are ignored). */
  private static String firstMember(List<String> lines) {
    for (String line : lines) {
      for (String member : Headers.splitList(line)) {
        if (!member.isEmpty()) {
          return member;
        }
      }
    }
    return null;
  }

  /** RFC 9111 4.2.3: current_age = corrected_initial_age + resident_time, in seconds. */
  public long currentAgeSeconds(ResponseView r, long nowMs) {
    long ageValue = r.ageValue();
    long apparentAge = Math.max(0, r.responseTimeMs() - dateMs(r));
    long responseDelay = Math.max(0, r.responseTimeMs() - r.requestTimeMs());
    long correctedAgeValue = ageValue * 1000 + responseDelay;
    long correctedInitialAge = Math.max(apparentAge, correctedAgeValue);
    long residentTime = Math.max(0, nowMs - r.responseTimeMs());
    return (correctedInitialAge + residentTime) / 1000;
  }
}
