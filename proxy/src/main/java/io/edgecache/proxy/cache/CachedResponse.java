package io.edgecache.proxy.cache;

import io.edgecache.proxy.policy.ResponseView;
import io.edgecache.storage.DiskBody;
import java.util.List;
import java.util.Set;

/**
 * A stored response decoded from a storage {@code Entry}: the response view (status, headers,
 * request/response times), its body, the Vary names and secondary key it was stored under, its
 * purge tags, whether a soft purge marked it stale, and, for bodies larger than the memory tier's
 * object limit, a handle that streams the body from disk instead of the bytes. Immutable; the memory tier keeps the
 * decoded instance attached to the entry.
 */
public record CachedResponse(ResponseView view, byte[] body, List<String> varyNames, String secondaryKey,
    Set<String> tags, boolean invalidated, DiskBody stream) {

  public CachedResponse(ResponseView view, byte[] body, List<String> varyNames, String secondaryKey,
      Set<String> tags, boolean invalidated) {
    this(view, body, varyNames, secondaryKey, tags, invalidated, null);
  }

  /** The same response marked stale by a soft purge (whole bodies only). */
  public CachedResponse invalidate() {
    return new CachedResponse(view, body, varyNames, secondaryKey, tags, true, stream);
  }

  public long bodyLength() {
    return body != null ? body.length : stream.length();
  }
}
