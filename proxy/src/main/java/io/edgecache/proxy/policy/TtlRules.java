package io.edgecache.proxy.policy;

import java.util.Map;
import java.util.Set;

/**
 * An operator's freshness rules for one route ({@code origins[].routes[].ttl}), applied on top of
 * what the origin says (RFC 9111 4.2.1): a lifetime for responses that state none, clamps, short
 * lifetimes for "not found" answers, and, only when asked for by name, overriding the origin.
 *
 * <ul>
 *   <li>{@code defaultSeconds}: the lifetime of a response with no explicit freshness (no
 *       {@code s-maxage}, {@code max-age} or {@code Expires}) instead of the Last-Modified
 *       heuristic, for the statuses in {@link #DEFAULT_STATUSES}; -1 keeps the heuristic;</li>
 *   <li>{@code minSeconds}, {@code maxSeconds}: a lifetime is cut to the second (-1: no cap), and
 *       one of a response in {@link #DEFAULT_STATUSES} raised to the first, so that an error is
 *       never made fresh by a floor; a negative lifetime is used as configured;</li>
 *   <li>{@code negative}: status to lifetime for responses with no explicit freshness, only for
 *       {@link #NEGATIVE_STATUSES}; never for an error the request itself caused (400, 413, 414,
 *       431...), which anyone could have stored for everyone by sending a bad request;</li>
 *   <li>{@code force}: the origin's {@code no-store}, {@code private}, {@code no-cache} and
 *       lifetime are ignored for the statuses this rule gives a lifetime ({@code defaultSeconds}
 *       for {@link #DEFAULT_STATUSES}, {@code negative}); {@code Set-Cookie} and
 *       {@code Authorization} still prevent storing.</li>
 * </ul>
 */
public record TtlRules(long defaultSeconds, long minSeconds, long maxSeconds, Map<Integer, Long> negative,
    boolean force) {
  /** No rules: the origin's freshness and the heuristic, as RFC 9111 alone gives them. */
  public static final TtlRules NONE = new TtlRules(-1, 0, -1, Map.of(), false);

  /** Statuses {@code defaultSeconds} applies to: the heuristically cacheable ones that are not errors (RFC 9110 15.1). */
  public static final Set<Integer> DEFAULT_STATUSES = Set.of(200, 203, 204, 206, 300, 301, 308);

  /**
   * Statuses a negative lifetime may be configured for: answers about the resource, whatever the
   * request (RFC 9110 15.5.5 404, 15.5.6 405, 15.5.11 410, 15.6.2 501).
   */
  public static final Set<Integer> NEGATIVE_STATUSES = Set.of(404, 405, 410, 501);

  public TtlRules {
    negative = Map.copyOf(negative);
  }

  /** Whether the rule, not the origin, decides about a response with {@code status}. */
  public boolean forced(int status) {
    return force && ruleSeconds(status) >= 0;
  }

  /** The lifetime this rule gives a response with {@code status} and no explicit freshness, or -1. */
  long ruleSeconds(int status) {
    Long neg = negative.get(status);
    if (neg != null) {
      return neg;
    }
    return defaultSeconds >= 0 && DEFAULT_STATUSES.contains(status) ? defaultSeconds : -1;
  }

  /** {@code seconds}, the lifetime of a response with {@code status}, within the clamps. */
  long clamp(int status, long seconds) {
    long s = DEFAULT_STATUSES.contains(status) ? Math.max(seconds, minSeconds) : seconds;
    return maxSeconds >= 0 ? Math.min(s, maxSeconds) : s;
  }
}
