package io.edgecache.storage;

/**
 * Sizes and counters of one tier at one moment.
 *
 * @param entries   entries held now
 * @param bytes     bytes held now, as counted by {@link Entry#weight()}
 * @param maxBytes  the configured bound
 * @param evictions entries evicted to stay within the bound since start
 * @param rejected  entries refused because they alone exceed the per-object limit
 */
public record StoreStats(long entries, long bytes, long maxBytes, long evictions, long rejected) {}
