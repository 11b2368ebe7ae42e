package io.edgecache.proxy.cache;

import io.edgecache.proxy.policy.Headers;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Purge tags of a response: {@code Surrogate-Key} (space-separated, Fastly style) and
 * {@code Cache-Tag} (comma-separated, Cloudflare style). At most {@link #MAX_TAGS} are kept.
 */
public final class Tags {
  static final int MAX_TAGS = 256;

  private Tags() {}

  public static Set<String> of(Headers h) {
    Set<String> out = new LinkedHashSet<>();
    for (String v : h.all("surrogate-key")) {
      for (String t : v.trim().split("\\s+")) {
        add(out, t);
      }
    }
    for (String v : h.all("cache-tag")) {
      for (String t : v.split(",")) {
        add(out, t);
      }
    }
    return out;
  }

  private static void add(Set<String> out, String t) {
    String s = t.trim();
    if (!s.isEmpty() && out.size() < MAX_TAGS) {
      out.add(s);
    }
  }
}
