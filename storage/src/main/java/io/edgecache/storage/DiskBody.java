package io.edgecache.storage;

import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One entry of the disk tier opened for reading chunk by chunk, so a body of any size can be
 * streamed without being held in memory whole.
 *
 * <p>The handle is pinned to the write it was opened at (its generation). If that write is replaced,
 * purged or evicted while being read, and the reader did not {@link #hold} it, the next read of a
 * chunk fails with {@link EntryGoneException}; if a chunk fails its checksum, with {@link CorruptEntryException}
 * after the entry was removed. Either way no wrong byte is ever returned. Chunks may be read in any
 * order and more than once, one at a time ({@link #readChunk}) or several per disk task
 * ({@link #readChunks}); nothing needs closing.
 *
 * <p>The disk tier hands the same handle to every lookup of an entry while the entry is
 * unchanged (see {@link DiskStore#openBody}), so a caller may memoise a decoded form of
 * {@link #meta()} in its {@linkplain #attachment() attachment}, as on an {@link Entry}: a cache of
 * a pure function of {@code meta}, so a race that decodes twice is harmless.
 *
 * <p>Immutable but for the attachment, and thread-safe; reads complete on a disk worker thread.
 */
public final class DiskBody {
  private final DiskStore store;
  private final String key;
  private final DiskFormat.Meta format;
  /** The index entry this body was opened at: the handle is current while the index holds it. */
  private final DiskIndex.Indexed openedAt;
  private volatile Object attachment;

  DiskBody(DiskStore store, String key, DiskFormat.Meta format, DiskIndex.Indexed openedAt) {
    this.store = store;
    this.key = key;
    this.format = format;
    this.openedAt = openedAt;
  }

  /** The caller's decoded form of {@link #meta()}, or {@code null}. */
  public Object attachment() {
    return attachment;
  }

  public void attach(Object decoded) {
    this.attachment = decoded;
  }

  /** The opaque metadata block the HTTP layer stored with the body. */
  public byte[] meta() {
    return format.meta();
  }

  public Set<String> tags() {
    return format.tags();
  }

  /** Body length in bytes. */
  public long length() {
    return format.bodyLength();
  }

  /** Number of chunks; 0 for an empty body. */
  public int chunkCount() {
    return format.chunkCount();
  }

  /** Payload bytes of every chunk but the last. */
  public int chunkBytes() {
    return format.chunkSize();
  }

  /** When the entry was written, epoch milliseconds. */
  public long storedAtMillis() {
    return format.storedAtMillis();
  }

  /**
   * The payload of chunk {@code index} (0-based), verified against its CRC32C, copied into a heap
   * buffer of its own (nothing to release; {@link #readChunks} is the path without copies).
   *
   * <p>Fails with {@link CorruptEntryException} (entry removed and counted), {@link EntryGoneException}
   * (replaced or removed meanwhile), {@link StoreException} (store closed, or LevelDB failed to
   * read) or {@link IndexOutOfBoundsException}. Completes on a disk worker thread.
   */
  public CompletionStage<ByteBuffer> readChunk(int index) {
    // a run of one fails rather than stops
    return readChunks(index, 1).thenApply(run -> ByteBuffer.wrap(run.copyAndRelease().get(0)));
  }

  /**
   * Up to {@code count} consecutive chunks from {@code first}, read and verified in one disk task:
   * one hand-off to a worker for several chunks. Holds fewer when the body ends first, or when a
   * later chunk cannot be served ({@link ChunkRun#stoppedBy()}). Fails as {@link #readChunk} does
   * when chunk {@code first} itself cannot be served. Completes on a disk worker thread. The run
   * holds direct memory: whoever receives it must {@linkplain ChunkRun#release release} it.
   */
  public CompletionStage<ChunkRun> readChunks(int first, int count) {
    if (first < 0 || first >= format.chunkCount() || count < 1) {
      return CompletableFuture.failedFuture(new IndexOutOfBoundsException("chunks: " + first + " + " + count
          + " (expected: first in 0.." + (format.chunkCount() - 1) + ", count >= 1)"));
    }
    return store.readChunks(this, first, Math.min(count, format.chunkCount() - first));
  }

  /**
   * Keeps this body's chunks readable until the returned pin is released, even if the entry is
   * evicted, replaced or purged meanwhile (it leaves the index at once; its chunks are deleted
   * when the last holder lets go, see {@link ReadPins}). {@link Store.Pin#NONE} when the entry was
   * already removed or replaced: reads then fail with {@link EntryGoneException} as without a
   * hold. Release it once the body was sent or the client left; releasing twice does nothing.
   */
  public Store.Pin hold() {
    return store.holdRead(this);
  }

  /** The whole body, read in one worker task; for bodies small enough to hold. */
  CompletionStage<byte[]> readAll() {
    return store.readAll(this);
  }

  String key() {
    return key;
  }

  long generation() {
    return format.generation();
  }

  DiskFormat.Meta format() {
    return format;
  }

  DiskIndex.Indexed openedAt() {
    return openedAt;
  }
}
