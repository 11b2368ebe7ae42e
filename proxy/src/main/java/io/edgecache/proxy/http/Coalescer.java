package io.edgecache.proxy.http;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Request coalescing: concurrent cache misses for one URL make one origin request.
 *
 * <p>The first miss becomes the leader of a {@link Fill}; later ones subscribe to it. A URL whose
 * response was not storable is remembered for {@link #UNCACHEABLE_FOR} ("hit-for-pass"), so a busy
 * uncacheable URL is not serialised behind one request at a time. Thread-safe.
 */
final class Coalescer {
  static final Duration UNCACHEABLE_FOR = Duration.ofSeconds(10);

  private final ConcurrentHashMap<String, Fill> inFlight = new ConcurrentHashMap<>();
  private final Cache<String, Boolean> uncacheable =
      Caffeine.newBuilder().expireAfterWrite(UNCACHEABLE_FOR).maximumSize(100_000).build();

  /** A fill for {@code key} and whether the caller leads it. */
  record Joined(Fill fill, boolean leader) {}

  /** Null when the key is known to be uncacheable: the caller fetches alone. */
  Joined join(String key) {
    if (uncacheable.getIfPresent(key) != null) {
      return null;
    }
    Fill mine = new Fill(key);
    Fill existing = inFlight.putIfAbsent(key, mine);
    return existing == null ? new Joined(mine, true) : new Joined(existing, false);
  }

  /** The leader is finished with {@code fill} (stored, failed or abandoned). */
  void done(Fill fill) {
    inFlight.remove(fill.key, fill);
  }

  /** Whether {@code key} was found uncacheable (or too large) within {@link #UNCACHEABLE_FOR}. */
  boolean uncacheable(String key) {
    return uncacheable.getIfPresent(key) != null;
  }

  void markUncacheable(String key) {
    uncacheable.put(key, Boolean.TRUE);
  }
}
