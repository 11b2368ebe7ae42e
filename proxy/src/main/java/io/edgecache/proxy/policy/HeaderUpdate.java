package io.edgecache.proxy.policy;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Freshening a stored response from a 304 or a HEAD response (RFC 9111 sections 3.2, 4.3.4, 4.3.5).
 *
 * <p>Every field in the new response replaces all stored lines of the same name, except fields
 * that describe the stored body or that identify it: a 304 cannot change the bytes we hold, so
 * their length, coding, digest, range and entity tag stay as stored.
 */
public final class HeaderUpdate {
  static final Set<String> KEEP_STORED =
      Set.of("content-length", "content-encoding", "content-md5", "content-range", "etag",
          "transfer-encoding", "digest", "content-digest", "repr-digest");

  private HeaderUpdate() {}

  public static Headers merge(Headers stored, Headers update) {
    Set<String> replaced = new HashSet<>();
    for (int i = 0; i < update.size(); i++) {
      String n = update.name(i).toLowerCase(Locale.ROOT);
      if (!KEEP_STORED.contains(n) && !HopByHop.isHopByHop(n)) {
        replaced.add(n);
      }
    }
    Headers.Builder b = Headers.builder();
    for (int i = 0; i < stored.size(); i++) {
      if (!replaced.contains(stored.name(i).toLowerCase(Locale.ROOT))) {
        b.add(stored.name(i), stored.value(i));
      }
    }
    for (int i = 0; i < update.size(); i++) {
      if (replaced.contains(update.name(i).toLowerCase(Locale.ROOT))) {
        b.add(update.name(i), update.value(i));
      }
    }
    return b.build();
  }
}
