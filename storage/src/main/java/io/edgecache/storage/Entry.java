package io.edgecache.storage;

import java.util.Set;

/**
 * One stored object: an opaque metadata block, the body bytes and the tags it can be purged by.
 *
 * <p>Immutable by contract: neither array is modified after construction, so one entry can be
 * written to many connections without a copy. The storage layer never interprets {@code meta};
 * the HTTP layer encodes status, headers and times into it. An entry may also carry an
 * {@linkplain #attachment() attachment}: a decoded form of {@code meta} memoised by the caller so
 * a memory hit does not decode the block again. It is a cache of a pure function of {@code meta},
 * so a race that decodes twice is harmless.
 */
public final class Entry {
  /** Fixed per-entry cost counted in weights: object headers, map node, key. */
  static final int OVERHEAD_BYTES = 128;

  private final byte[] meta;
  private final byte[] body;
  private final Set<String> tags;
  private volatile Object attachment;

  public Entry(byte[] meta, byte[] body, Set<String> tags) {
    this.meta = meta;
    this.body = body;
    this.tags = Set.copyOf(tags);
  }

  public byte[] meta() {
    return meta;
  }

  public byte[] body() {
    return body;
  }

  public Set<String> tags() {
    return tags;
  }

  /** Bytes this entry costs a tier: body, metadata and a fixed overhead. */
  public long weight() {
    return (long) body.length + meta.length + OVERHEAD_BYTES;
  }

  public Object attachment() {
    return attachment;
  }

  public void attach(Object decoded) {
    this.attachment = decoded;
  }
}
