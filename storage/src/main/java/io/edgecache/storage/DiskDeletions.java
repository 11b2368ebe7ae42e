package io.edgecache.storage;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import org.iq80.leveldb.DBException;
import org.iq80.leveldb.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What happens to the chunks of entries the disk tier let go: deleted now, or once their last
 * reader lets go, and compacted away in ranges.
 *
 * <p>Chunks of a removed, evicted or replaced entry that someone is reading stay until the last
 * reader releases them ({@link ReadPins}, bounded by a tenth of {@code maxBytes}, at least
 * {@link #MIN_HELD_FOR_READERS}); their deletion then runs on a worker. Every deletion is reported
 * to {@link DiskCompaction}, which asks for a range compaction now and then.
 *
 * <p>Threads: holds and releases come from any thread (the release of the last reader hands the
 * deletion to a worker); {@link #noteDeleted} runs on the disk workers, and the compaction it asks
 * for on the single {@code edgecache-disk-compact} thread. Nothing here blocks its caller.
 */
final class DiskDeletions {
  private static final Logger LOG = LoggerFactory.getLogger(DiskStore.class);

  /**
   * Bytes of removed entries whose chunks may wait for their readers at once: a tenth of
   * {@code maxBytes}, at least this ({@link ReadPins}).
   */
  static final long MIN_HELD_FOR_READERS = 64L << 20;

  private final DiskOptions options;
  private final Db db;
  private final DiskWorkers workers;
  private final DiskBackoff backoff;
  /** Whether start-up gave the store up as damaged: work it queued must not touch LevelDB. */
  private final BooleanSupplier abandoned;
  /** Generations being read: their chunks are deleted when the last reader lets go ({@link ReadPins}). */
  private final ReadPins pins;
  private final DiskCompaction compaction;
  private final LongAdder compactions = new LongAdder();

  DiskDeletions(DiskOptions options, Db db, DiskWorkers workers, DiskBackoff backoff, BooleanSupplier abandoned) {
    this.options = options;
    this.db = db;
    this.workers = workers;
    this.backoff = backoff;
    this.abandoned = abandoned;
    this.compaction = new DiskCompaction(options.maxBytes());
    this.pins = new ReadPins(this::deleteDeferred, Math.max(MIN_HELD_FOR_READERS, options.maxBytes() / 10));
  }

  /** The generations being read, whose deletion waits for their last reader. */
  ReadPins pins() {
    return pins;
  }

  /** Range compactions that ran to the end. */
  long compactions() {
    return compactions.sum();
  }

  /** See {@link DiskStore#bytesHeldForReaders()}. */
  long bytesHeldForReaders() {
    return pins.deferredBytes();
  }

  static void deleteChunks(WriteBatch b, long generation, int count) {
    for (int i = 0; i < count; i++) {
      b.delete(DiskFormat.chunkKey(generation, i));
    }
  }

  /** The last reader of {@code generation} let go: its deferred deletion runs on a worker. */
  private void deleteDeferred(long generation) {
    workers.submit(false, () -> {
      ReadPins.Deferred d = abandoned.getAsBoolean() ? null : pins.takeDeferred(generation);
      if (d != null) {
        try {
          db.write(b -> deleteChunks(b, generation, d.chunkCount()));
          noteDeleted(d.bytes(), generation);
        } catch (DBException e) {
          backoff.writeFailed(e); // left for the start-up sweep
        }
      }
      return null;
    }, null);
  }

  /** {@code bytes} of chunks of {@code generation} are deleted: compacts their range when it is time. */
  void noteDeleted(long bytes, long generation) {
    long[] range = compaction.deleted(bytes, generation);
    if (range == null) {
      return;
    }
    workers.compact(() -> {
      try {
        db.compactRange(DiskFormat.chunkKey(range[0], 0), DiskFormat.chunkKey(range[1] + 1, 0));
        compactions.increment();
      } catch (DBException e) {
        LOG.warn("disk tier {}: compaction failed: {}", options.dir(), e.getMessage());
      } finally {
        compaction.done();
      }
      return null;
    });
  }
}
