package io.edgecache.proxy.policy;

import io.edgecache.proxy.cache.CacheKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * RFC 9111 section 4.4: a non-error response to an unsafe request invalidates the target URI,
 * and the URIs in its {@code Location} and {@code Content-Location} fields when they have the
 * same origin (a cache must not let one origin invalidate another's entries).
 *
 * <p>Pure function; keys come from {@link CacheKey}, so {@code Edge.Test:80} and
 * {@code edge.test} name the same entry.
 */
public final class Invalidation {
  private static final List<String> FIELDS = List.of("location", "content-location");
  /** RFC 9110 9.2.1: the safe methods this proxy forwards. */
  private static final Set<String> SAFE = Set.of("GET", "HEAD", "OPTIONS", "TRACE");

  private Invalidation() {}

  /** Whether a response with {@code status} to {@code method} invalidates: unsafe method, non-error status. */
  public static boolean invalidates(String method, int status) {
    return !SAFE.contains(method) && status < 400;
  }

  /** The keys to invalidate: {@code primaryKey} first, then each same-origin location, no repeats. */
  public static List<String> targets(String primaryKey, Headers responseHeaders) {
    List<String> keys = new ArrayList<>(3);
    keys.add(primaryKey);
    for (String field : FIELDS) {
      String value = responseHeaders.get(field);
      if (value == null) {
        continue;
      }
      Optional<String> key = CacheKey.sameOriginReference(primaryKey, value);
      if (key.isPresent() && !keys.contains(key.get())) {
        keys.add(key.get());
      }
    }
    return keys;
  }
}
