package io.edgecache.proxy.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Cache-Control fields aimed at this cache: {@code CDN-Cache-Control} (RFC 9213) and
 * {@code Surrogate-Control} (W3C Edge Architecture), the latter with optional device targets
 * ({@code max-age=60;edgecache}).
 *
 * <p>RFC 9213 section 2.1: when a targeted field with a valid, non-empty value is present, the
 * cache uses it instead of Cache-Control and ignores Expires. Surrogate-Control is checked first
 * because the origin named this device in it; directives targeted at another device are ignored,
 * and a directive targeted at us wins over an untargeted one.
 */
public final class TargetedControl {
  /** The device token we announce in {@code Surrogate-Capability} and answer to. */
  public static final String DEVICE = "edgecache";

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
      CacheControl cc = CacheControl.parse(cdn);
      if (!cc.isEmpty()) {
        return cc;
      }
    }
    return null;
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
