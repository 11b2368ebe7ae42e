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
  /**
   * Heap a memory-tier entry costs beyond its two arrays' contents, measured on a 64-bit HotSpot
   * JVM (17) with compressed oops, by a class histogram ({@code jcmd PID GC.class_histogram}) of
   * 100,000 stored entries: the {@code Entry} (32 B), Caffeine's node ({@code PSMW}, 40 B), the
   * {@code ConcurrentHashMap} node (32 B) and its table slot (about 11 B), the headers of the meta
   * and body arrays (2 x 16 B) and their alignment (on average 2 x 4 B), rounded up.
   */
  public static final int OVERHEAD_BYTES = 160;
  /**
   * Heap of one {@code String} beyond its Latin-1 characters: the object (24 B), its byte array's
   * header (16 B) and alignment (on average 4 B).
   */
  public static final int STRING_BYTES = 44;
  /** Heap of a non-empty immutable tag set beyond its strings ({@code Set12} 24 B; larger sets more). */
  static final int TAG_SET_BYTES = 24;

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

  /**
   * Heap bytes this entry costs the memory tier, its key and any attachment aside: body, metadata,
   * tags and {@link #OVERHEAD_BYTES}.
   */
  public long weight() {
    return (long) body.length + meta.length + OVERHEAD_BYTES + tagBytes(tags);
  }

  /** Heap of {@code key} as a map key (a compact Latin-1 string; other keys cost up to twice this). */
  public static long keyBytes(String key) {
    return STRING_BYTES + (long) key.length();
  }

  /** Heap of a tag set: nothing for the shared empty set, else the set and its strings. */
  static long tagBytes(Set<String> tags) {
    if (tags.isEmpty()) {
      return 0;
    }
    long bytes = TAG_SET_BYTES + 4L * tags.size();
    for (String t : tags) {
      bytes += STRING_BYTES + t.length();
    }
    return bytes;
  }

  public Object attachment() {
    return attachment;
  }

  public void attach(Object decoded) {
    this.attachment = decoded;
  }
}
