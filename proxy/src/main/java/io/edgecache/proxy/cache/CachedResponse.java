package io.edgecache.proxy.cache;

import io.edgecache.proxy.policy.ResponseView;
import java.util.List;
import java.util.Set;

/**
 * A stored response decoded from a storage {@code Entry}: the response view (status, headers,
 * request/response times), its body, the Vary names and secondary key it was stored under, its
 * purge tags, and whether a soft purge marked it stale. Immutable; the memory tier keeps the
 * decoded instance attached to the entry.
 */
public record CachedResponse(ResponseView view, byte[] body, List<String> varyNames, String secondaryKey,
    Set<String> tags, boolean invalidated) {

  /** The same response marked stale by a soft purge. */
  public CachedResponse invalidate() {
    return new CachedResponse(view, body, varyNames, secondaryKey, tags, true);
  }
}
