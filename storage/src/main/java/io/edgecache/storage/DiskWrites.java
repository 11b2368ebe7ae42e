package io.edgecache.storage;

import io.netty.buffer.ByteBuf;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.iq80.leveldb.DBException;

/**
 * The write side of the disk tier: which writes are taken, whole bodies written, and the disk
 * work of streaming writes ({@link DiskWriter}).
 *
 * <p>Admission ({@link #reserve}): a body over {@code maxObjectBytes} or heavier than
 * {@code maxBytes} is refused (counted as rejected); so is every write during the back-off after a
 * failed one ({@link DiskBackoff}); and a write whose bytes would take the bodies waiting for a
 * worker past {@link DiskStore#MAX_QUEUED_WRITE_BYTES} is skipped (counted as overloaded). A write
 * taken holds its bytes (a streaming write: its window) out of that budget and a ticket of the
 * {@link RemovalLog} until it is over. On a worker, each batch of chunks and the commit first check
 * that the file system keeps {@link DiskOptions#minFreeBytes()} free ({@link #ensureRoom}); the
 * metadata record goes last, through {@link DiskIndex#commit}. A refused write returns {@code null} here:
 * {@link DiskStore} then removes the older entry under the key, as it no longer matches the origin.
 *
 * <p>Threads: {@link #put} and {@link #openWriter} run on the caller's thread (an event loop) and
 * never block; the writes themselves, and every streaming write's chunks and commit, run on the
 * disk workers. The callbacks of a {@link DiskWriter} come from its producer or from the workers.
 */
final class DiskWrites {
  /** Writes of a multi-chunk body go out in batches of about this many bytes. */
  static final int CHUNK_BATCH_BYTES = 1 << 20;
  /**
   * Chunk bytes a streaming write may have waiting for a worker before its producer is asked to
   * pause ({@link DiskWriter}); at least two chunks.
   */
  static final int STREAM_WINDOW_BYTES = 1 << 20;

  private final DiskOptions options;
  private final Clock clock;
  private final Db db;
  private final DiskWorkers workers;
  private final DiskReader reader;
  private final DiskIndex index;
  private final RemovalLog removals;
  private final ReadPins pins;
  private final DiskBackoff backoff;
  /** Whether start-up gave the store up as damaged: work it queued must not touch LevelDB. */
  private final BooleanSupplier abandoned;
  private final AtomicLong queuedWriteBytes = new AtomicLong();
  private final LongAdder skippedWrites = new LongAdder();
  private final AtomicLong nextGeneration = new AtomicLong(1);
  private final LongAdder rejected = new LongAdder();
  private final AtomicLong streamsOpen = new AtomicLong();
  private final LongAdder streamsCommitted = new LongAdder();

  DiskWrites(DiskOptions options, Clock clock, Db db, DiskWorkers workers, DiskReader reader, DiskIndex index,
      DiskDeletions deletions, DiskBackoff backoff, BooleanSupplier abandoned) {
    this.options = options;
    this.clock = clock;
    this.db = db;
    this.workers = workers;
    this.reader = reader;
    this.index = index;
    this.removals = index.removals();
    this.pins = deletions.pins();
    this.backoff = backoff;
    this.abandoned = abandoned;
  }

  /** Generations of new writes start at {@code first} (one past the highest found at start-up). */
  void startGenerationsAt(long first) {
    nextGeneration.set(first);
  }

  long rejected() {
    return rejected.sum();
  }

  /** Writes skipped because the bodies waiting for a worker held {@link DiskStore#MAX_QUEUED_WRITE_BYTES}. */
  long skippedWrites() {
    return skippedWrites.sum();
  }

  long streamsOpen() {
    return streamsOpen.get();
  }

  long streamsCommitted() {
    return streamsCommitted.sum();
  }

  // ---------------------------------------------------------------- whole bodies

  /**
   * Queues the write of {@code entry} under {@code key} ({@link DiskStore#put}); completes once it
   * is committed or dropped. {@code null} when the write is refused.
   */
  CompletionStage<Void> put(String key, Entry entry) {
    long weight = DiskFormat.storedBytes(key, entry, options.chunkBytes());
    long bytes = entry.body().length;
    if (!reserve(entry.body().length > options.maxObjectBytes() || weight > options.maxBytes(), bytes)) {
      return null;
    }
    long ticket = removals.open();
    return workers.<Void>submit(true, () -> {
      write(key, entry, weight, ticket);
      return null;
    }, null).whenComplete((v, t) -> {
      queuedWriteBytes.addAndGet(-bytes);
      removals.close(ticket);
    });
  }

  /**
   * Admission of a write: false when it is {@code tooHeavy} (counted as rejected), during the
   * back-off, or when {@code bytes} more would take the bodies waiting for a worker past
   * {@link DiskStore#MAX_QUEUED_WRITE_BYTES} (counted as skipped; one body larger than that is
   * still taken when nothing else waits). When true, {@code bytes} are reserved out of that budget
   * until the write gives them back.
   */
  private boolean reserve(boolean tooHeavy, long bytes) {
    if (tooHeavy) {
      rejected.increment();
      return false;
    }
    if (!backoff.mayStore()) {
      return false;
    }
    long queued = queuedWriteBytes.addAndGet(bytes);
    if (queued > DiskStore.MAX_QUEUED_WRITE_BYTES && queued > bytes) {
      queuedWriteBytes.addAndGet(-bytes);
      skippedWrites.increment();
      return false;
    }
    return true;
  }

  private void write(String key, Entry entry, long weight, long ticket) {
    if (!backoff.storing() || removals.removedSince(ticket, key, entry.tags())) {
      return;
    }
    long generation = nextGeneration.getAndIncrement();
    byte[] body = entry.body();
    int chunkSize = options.chunkBytes();
    int count = DiskFormat.chunkCount(body.length, chunkSize);
    int[] crcs = new int[count];
    int written = 0;
    try {
      byte[] single = null;
      if (count == 1) {
        crcs[0] = DiskFormat.crc(body, 0, body.length);
        single = DiskFormat.encodeChunk(body, 0, body.length, crcs[0]);
      } else {
        while (written < count) {
          ensureRoom();
          int from = written;
          int to = Math.min(count, from + Math.max(1, CHUNK_BATCH_BYTES / chunkSize));
          db.write(b -> {
            for (int i = from; i < to; i++) {
              int offset = i * chunkSize;
              int length = Math.min(chunkSize, body.length - offset);
              crcs[i] = DiskFormat.crc(body, offset, length);
              b.put(DiskFormat.chunkKey(generation, i), DiskFormat.encodeChunk(body, offset, length, crcs[i]));
            }
          });
          written = to;
        }
      }
      ensureRoom();
      index.commit(key, entry.tags(), weight, new DiskFormat.Meta(generation, body.length, chunkSize, crcs, entry.tags(),
          entry.meta(), clock.millis()), single, ticket, true);
      backoff.storingAgain();
    } catch (DBException e) {
      backoff.writeFailed(e);
      int chunksWritten = written;
      try {
        db.write(b -> DiskDeletions.deleteChunks(b, generation, chunksWritten));
      } catch (DBException again) {
        // Left for the start-up sweep: no metadata record refers to them.
      }
    }
  }

  /**
   * Refuses a write, as a failed one, while the file system holds less than {@code minFreeBytes}
   * free: LevelDB must never meet a full file system (see {@link DiskOptions}). One statfs call.
   */
  private void ensureRoom() {
    long free = options.dir().toFile().getUsableSpace();
    if (free < options.minFreeBytes()) {
      throw new DBException("only " + (free >> 20) + " MiB free on the file system, less than the "
          + (options.minFreeBytes() >> 20) + " MiB kept free (disk.minFreeBytes)");
    }
  }

  // ---------------------------------------------------------------- streaming writes

  /**
   * Opens a write of a body that arrives piece by piece ({@link DiskStore#openWriter}); {@code null}
   * when the write is refused.
   */
  DiskWriter openWriter(String key, byte[] meta, Set<String> tags, long expectedLength) {
    int chunkSize = options.chunkBytes();
    boolean tooHeavy = expectedLength > options.maxObjectBytes() || expectedLength >= 0
        && DiskFormat.storedBytes(DiskFormat.metaKey(key).length,
            DiskFormat.metaRecordLength(DiskFormat.chunkCount(expectedLength, chunkSize), tags, meta.length),
            DiskFormat.chunkCount(expectedLength, chunkSize), expectedLength) > options.maxBytes();
    int window = Math.max(2, STREAM_WINDOW_BYTES / chunkSize);
    // the window, the chunk being filled and the batch a worker is writing
    long reserved = (long) (window + 1) * (chunkSize + DiskFormat.CHUNK_HEADER);
    if (!reserve(tooHeavy, reserved)) {
      return null;
    }
    long ticket = removals.open();
    streamsOpen.incrementAndGet();
    return new DiskWriter(this, key, meta, tags, expectedLength, options.maxObjectBytes(),
        nextGeneration.getAndIncrement(), ticket, chunkSize, window, reserved);
  }

  /** Runs a streaming write's task on a worker; never refused before the store closes. */
  CompletableFuture<Void> submitStreamWork(Supplier<Void> work) {
    return workers.submit(false, () -> abandoned.getAsBoolean() ? null : work.get(), null);
  }

  /** Writes chunk records {@code first..} of {@code generation} in one batch; throws on failure. */
  void writeStreamChunks(long generation, int first, List<byte[]> records) {
    ensureRoom();
    db.write(b -> {
      for (int i = 0; i < records.size(); i++) {
        b.put(DiskFormat.chunkKey(generation, first + i), records.get(i));
      }
    });
  }

  /**
   * The commit point of a streaming write, as for {@link #put}: false (nothing deleted) when it is
   * too heavy for the bound or a removal since it was opened selects it.
   */
  boolean commitStream(DiskWriter w, byte[] meta, long length, int[] crcs) {
    String key = w.key();
    int chunks = crcs.length;
    long weight = DiskFormat.storedBytes(DiskFormat.metaKey(key).length,
        DiskFormat.metaRecordLength(chunks, w.tags(), meta.length), chunks, length);
    if (weight > options.maxBytes()) {
      rejected.increment();
      return false;
    }
    ensureRoom();
    boolean committed = index.commit(key, w.tags(), weight, new DiskFormat.Meta(w.generation(), length,
        options.chunkBytes(), crcs, w.tags(), meta, clock.millis()), null, w.ticket(), false);
    if (committed) {
      streamsCommitted.increment();
      backoff.storingAgain();
    }
    return committed;
  }

  /** Whether a removal recorded since {@code w} was opened selects its key or tags. */
  boolean removedSince(DiskWriter w) {
    return removals.removedSince(w.ticket(), w.key(), w.tags());
  }

  /** Whether a client following the streaming write {@code w} holds its chunks now. */
  boolean streamHeld(DiskWriter w) {
    return pins.held(w.generation());
  }

  void streamWriteFailed(DBException e) {
    backoff.writeFailed(e);
  }

  void droppedStream() {
    index.countDropped();
  }

  void rejectedStream() {
    rejected.increment();
  }

  /** Deletes the chunks of an abandoned streaming write; on failure they are left for the start-up sweep. */
  void deleteStreamChunks(long generation, int count) {
    if (count == 0) {
      return;
    }
    if (!pins.deleteNowOrDefer(generation, count, (long) count * options.chunkBytes())) {
      return; // a client following the write reads them still
    }
    try {
      db.write(b -> DiskDeletions.deleteChunks(b, generation, count));
    } catch (DBException e) {
      backoff.writeFailed(e);
    }
  }

  /** A streaming write is over: its window and its place in the removal log are given back. */
  void streamEnded(DiskWriter w) {
    queuedWriteBytes.addAndGet(-w.reservedBytes());
    removals.close(w.ticket());
    streamsOpen.decrementAndGet();
  }

  /** Reads written chunk {@code index} of a streaming write; see {@link DiskWriter#readChunk}. */
  CompletionStage<ByteBuf> readStreamChunk(DiskWriter w, int chunk, int crc, int length) {
    return workers.submit(false, () -> reader.readStreamChunk(w.key(), w.generation(), chunk, crc, length), null);
  }

  /** Holds the chunks of a streaming write for a reader following it ({@link DiskWriter#holdChunks}). */
  Store.Pin holdStream(long generation) {
    return pins.hold(generation, () -> true);
  }
}
