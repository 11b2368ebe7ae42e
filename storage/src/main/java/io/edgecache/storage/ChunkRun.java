package io.edgecache.storage;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;

/**
 * Consecutive chunks of a {@link DiskBody} read in one disk task: the payloads of chunks
 * {@code first}, {@code first + 1}, ..., each verified against its CRC32C, and, when the read
 * stopped early at a chunk it could not serve, why.
 *
 * <p>A run holds at least one chunk; a read whose first chunk fails fails as a whole instead. When
 * {@code stoppedBy} is set, the chunk after the last one held is damaged (the entry was removed:
 * {@link CorruptEntryException}), gone ({@link EntryGoneException}) or unreadable
 * ({@link StoreException}): a reader sends what the run holds, then gives up, and never sends a
 * wrong byte.
 *
 * <p>Each payload is a heap buffer over the bytes LevelDB returned (no copy), from position 0 to
 * its limit. The buffers are the reader's: it may move their position and limit, never write
 * their contents. Immutable otherwise; safe to hand between threads.
 *
 * @param first index of the first chunk held
 * @param payloads verified payloads, in order; never empty
 * @param stoppedBy why the run ends before the chunks asked for, or {@code null}
 */
public record ChunkRun(int first, List<ByteBuffer> payloads, StoreException stoppedBy) {
  public ChunkRun {
    payloads = List.copyOf(payloads);
    if (first < 0 || payloads.isEmpty()) {
      throw new IllegalArgumentException("first: " + first + ", payloads: " + payloads.size()
          + " (expected: first >= 0 and at least one payload)");
    }
  }

  /** Index of the chunk after the last one held. */
  public int next() {
    return first + payloads.size();
  }

  /** The payload of chunk {@code index}, which this run holds. */
  public ByteBuffer payload(int index) {
    Objects.checkIndex(index - first, payloads.size());
    return payloads.get(index - first);
  }
}
