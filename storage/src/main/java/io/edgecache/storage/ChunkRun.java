package io.edgecache.storage;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
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
 * <h2>Ownership</h2>
 * Each payload is a reference-counted buffer whose readable bytes are the chunk's payload: usually
 * a direct one over the bytes where LevelDB holds them, kept there by an open LevelDB iterator
 * until the buffer is released, which a socket takes as it is (never written to: a table file is
 * mapped read-only); a direct one filled by one copy out of LevelDB past the bound of such
 * buffers; a heap one when direct memory is tight or unavailable. The run owns them until a reader {@linkplain #take takes}
 * one, which then owns it (releases it, or hands it to the transport). Whoever holds the run must
 * {@linkplain #release release} it when done, or when giving up: that frees every payload not
 * taken. A run that is dropped without either holds its memory (and LevelDB iterators) until the
 * JVM exits, and its store's close waits for them.
 *
 * <p>Thread-safe: a run is made on a disk worker and used on an event loop.
 */
public final class ChunkRun {
  private final int first;
  private final ByteBuf[] payloads;
  private final StoreException stoppedBy;

  /**
   * @param first index of the first chunk held
   * @param payloads verified payloads, in order; never empty; the run owns them
   * @param stoppedBy why the run ends before the chunks asked for, or {@code null}
   */
  public ChunkRun(int first, List<ByteBuf> payloads, StoreException stoppedBy) {
    if (first < 0 || payloads.isEmpty()) {
      payloads.forEach(ByteBuf::release);
      throw new IllegalArgumentException("first: " + first + ", payloads: " + payloads.size()
          + " (expected: first >= 0 and at least one payload)");
    }
    this.first = first;
    this.payloads = payloads.toArray(new ByteBuf[0]);
    this.stoppedBy = stoppedBy;
  }

  /** Index of the first chunk held. */
  public int first() {
    return first;
  }

  /** Index of the chunk after the last one held. */
  public int next() {
    return first + payloads.length;
  }

  /** Why the run ends before the chunks asked for, or {@code null}. */
  public StoreException stoppedBy() {
    return stoppedBy;
  }

  /**
   * The payload of chunk {@code index}, which this run holds and nobody took yet: the caller owns
   * it from now on.
   *
   * @throws IllegalStateException when it was taken or released already
   */
  public synchronized ByteBuf take(int index) {
    Objects.checkIndex(index - first, payloads.length);
    ByteBuf p = payloads[index - first];
    if (p == null) {
      throw new IllegalStateException("chunk " + index + " was taken or released already");
    }
    payloads[index - first] = null;
    return p;
  }

  /** Frees every payload not taken; calling it again does nothing. */
  public synchronized void release() {
    for (int i = 0; i < payloads.length; i++) {
      if (payloads[i] != null) {
        payloads[i].release();
        payloads[i] = null;
      }
    }
  }

  /** Releases the run a stage completed with, when nobody will use it (for {@code whenComplete}). */
  public static void releaseQuietly(ChunkRun run) {
    if (run != null) {
      run.release();
    }
  }

  /** The payloads' bytes, each copied to a heap array and the run released; for tests and small reads. */
  public List<byte[]> copyAndRelease() {
    List<byte[]> out = new ArrayList<>(payloads.length);
    try {
      for (int i = first; i < next(); i++) {
        ByteBuf p = take(i);
        try {
          byte[] b = new byte[p.readableBytes()];
          p.getBytes(p.readerIndex(), b);
          out.add(b);
        } finally {
          p.release();
        }
      }
    } finally {
      release();
    }
    return out;
  }
}
