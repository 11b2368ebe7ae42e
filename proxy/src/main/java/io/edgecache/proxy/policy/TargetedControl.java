package io.edgecache.proxy.policy;

import io.edgecache.proxy.policy.StructuredFields.Kind;
import io.edgecache.proxy.policy.StructuredFields.Member;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Cache-Control fields aimed at this cache: {@code CDN-Cache-Control} (RFC 9213) and
 * {@code Surrogate-Control} (W3C Edge Architecture), the latter with optional device targets
 * ({@code max-age=60;edgecache}).
 *
 * <p>RFC 9213 section 2.2: when a targeted field with a valid, non-empty value is present, the
 * cache uses it instead of Cache-Control and ignores Expires. CDN-Cache-Control is parsed as a
 * Structured Field Dictionary ({@link #cdnCacheControl}); Surrogate-Control predates Structured
 * Fields and keeps the Cache-Control syntax. Surrogate-Control is checked first
 * because the origin named this device in it; directives targeted at another device are ignored,
 * and a directive targeted at us wins over an untargeted one.
 */
public final class TargetedControl {
  /** The device token we announce in {@code Surrogate-Capability} and answer to. */
  public static final String DEVICE = "edgecache";

  /** Directives whose value is delta-seconds: an RFC 8941 Integer, never negative. */
  private static final Set<String> DELTA_SECONDS =
      Set.of("max-age", "s-maxage", "stale-while-revalidate", "stale-if-error");
  /** Directives that are either bare (Boolean true) or carry a field-name list (a String). */
  private static final Set<String> FIELD_LISTS = Set.of("no-cache", "private");
  /** Directives that never take a value: only Boolean true is valid. */
  private static final Set<String> FLAGS =
      Set.of("no-store", "must-revalidate", "proxy-revalidate", "public", "immutable", "no-transform",
          "must-understand");

  private TargetedControl() {}

  /** The targeted directives for this cache, or null when the response has none. */
  public static CacheControl select(Headers h) {
    List<String> sc = h.all("surrogate-control");
    if (!sc.isEmpty()) {
      CacheControl ours = surrogate(sc);
      if (!ours.isEmpty()) {
        return ours;
      }
    }
    List<String> cdn = h.all("cdn-cache-control");
    if (!cdn.isEmpty()) {
      CacheControl cc = cdnCacheControl(cdn);
      if (!cc.isEmpty()) {
        return cc;
      }
    }
    return null;
  }

  /**
   * CDN-Cache-Control as RFC 9213 section 2.1 defines it: a Structured Field Dictionary (RFC 8941)
   * whose members are cache directives. {@link CacheControl#NONE} (the field is ignored as a whole)
   * when it is empty, fails to parse, or a known directive has a value of the wrong type.
   *
   * <p>RFC 9213 section 2.1: "If a targeted field in a given response is empty, or a parsing error
   * is encountered, that field MUST be ignored by the cache (i.e., it behaves as if the field were
   * not present, likely falling back to other cache control mechanisms present)." and
   * "Implementations SHOULD NOT consume values that violate these inferred constraints" (max-age
   * is an Integer, no-store a Boolean true, no-cache a Boolean true or a String); section 2.2 uses
   * only a field "with a valid, non-empty value". So {@code max-age="10"}, {@code max-age=1.5} or
   * {@code no-store=5} make the whole field invalid rather than being coerced, and the cache falls
   * back to Cache-Control and Expires. "Parameters received on directives are to be ignored".
   * Unknown directives of any type are kept (and ignored by the policy, as in Cache-Control).
   *
   * @see <a href="https://www.rfc-editor.org/rfc/rfc9213#section-2.1">RFC 9213 2.1</a>
   */
  static CacheControl cdnCacheControl(List<String> lines) {
    Optional<Map<String, Member>> dict = StructuredFields.dictionary(lines);
    if (dict.isEmpty()) {
      return CacheControl.NONE;
    }
    Map<String, String> directives = new LinkedHashMap<>();
    for (Map.Entry<String, Member> e : dict.get().entrySet()) {
      Member m = e.getValue();
      String name = e.getKey();
      if (DELTA_SECONDS.contains(name)) {
        if (m.kind() != Kind.INTEGER || (Long) m.value() < 0) {
          return CacheControl.NONE;
        }
        directives.put(name, m.value().toString());
      } else if (FIELD_LISTS.contains(name)) {
        if (m.kind() == Kind.STRING) {
          directives.put(name, (String) m.value());
        } else if (m.isTrue()) {
          directives.put(name, null);
        } else {
          return CacheControl.NONE;
        }
      } else if (FLAGS.contains(name)) {
        if (!m.isTrue()) {
          return CacheControl.NONE;
        }
        directives.put(name, null);
      } else {
        directives.put(name, m.value() instanceof String s ? s : null);
      }
    }
    return CacheControl.of(directives);
  }

  private static CacheControl surrogate(List<String> lines) {
    List<String> targeted = new ArrayList<>();
    List<String> untargeted = new ArrayList<>();
    for (String line : lines) {
      for (String member : Headers.splitList(line)) {
        int semi = member.lastIndexOf(';');
        if (semi >= 0 && member.indexOf('"', semi) < 0) {
          String target = member.substring(semi + 1).trim().toLowerCase(Locale.ROOT);
          if (target.equals(DEVICE)) {
            targeted.add(member.substring(0, semi).trim());
          }
        } else {
          untargeted.add(member);
        }
      }
    }
    targeted.addAll(untargeted); // first occurrence wins: ours before untargeted
    return CacheControl.parse(targeted.isEmpty() ? List.of() : List.of(String.join(", ", targeted)));
  }
}
