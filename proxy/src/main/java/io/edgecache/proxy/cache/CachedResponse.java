package io.edgecache.proxy.cache;

import io.edgecache.proxy.policy.ResponseView;
import java.util.List;

/**
 * A stored response decoded from a storage {@code Entry}: the response view (status, headers,
 * request/response times), its body, and the Vary names and secondary key it was stored under.
 * Immutable; the memory tier keeps the decoded instance attached to the entry.
 */
public record CachedResponse(ResponseView view, byte[] body, List<String> varyNames, String secondaryKey) {}
