package io.edgecache.proxy.cluster;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Rendezvous (highest random weight) hashing: the owner of a key is the member whose combined
 * hash with the key is highest. Every node that sees the same members picks the same owner with no
 * coordination, and when a member joins or leaves only the keys it wins or held move: about 1/N of
 * them. Pure functions; thread-safe.
 */
public final class Rendezvous {
  private Rendezvous() {}

  /** The member of {@code ids} that owns {@code key}; null when there are none. */
  public static String owner(String key, List<String> ids) {
    long k = hash(key);
    String best = null;
    long bestWeight = 0;
    for (String id : ids) {
      long w = mix(k ^ hash(id));
      if (best == null || Long.compareUnsigned(w, bestWeight) > 0
          || w == bestWeight && id.compareTo(best) < 0) {
        best = id;
        bestWeight = w;
      }
    }
    return best;
  }

  /**
   * The weight {@link #owner} gives {@code id} for {@code key}: uniform over all 64-bit values, so
   * it can also be turned into a weighted choice (origin servers with weights).
   */
  public static long score(String key, String id) {
    return mix(hash(key) ^ hash(id));
  }

  /** 64-bit FNV-1a over the UTF-8 bytes, finished with {@link #mix}. */
  static long hash(String s) {
    long h = 0xcbf29ce484222325L;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return mix(h);
  }

  /** The SplitMix64 finaliser: spreads every input bit over the whole word. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
