package io.edgecache.storage;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiPredicate;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.iq80.leveldb.DBException;
import org.iq80.leveldb.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The disk tier: entries in LevelDB, bounded by bytes, checked by CRC32C, safe across crashes.
 *
 * <p>How it works. Bodies are cut into chunks (see {@link DiskFormat}) written under a generation
 * unique to the write; the metadata record follows last, in one batch with the deletion of the
 * chunks it replaces, so it is the commit point and a crash leaves only orphan chunks, which
 * {@link #open} sweeps. An in-memory index (Caffeine, W-TinyLFU, weighed by stored bytes) holds
 * key → generation, size and tags; it decides eviction, answers misses and purges without touching
 * LevelDB, and is rebuilt from the metadata records at open. While an entry is in the index, its
 * metadata record of that generation is in LevelDB: commits and removals change both under one
 * lock, and evictions delete from LevelDB only after the index let go. Bodies are read in runs of
 * chunks, one worker task per run, and handed out without a copy; a hit on an entry opened
 * recently and unchanged since reuses that open body and reads no metadata record.
 *
 * <p>Limits. A body longer than {@code maxObjectBytes}, or heavier than {@code maxBytes}, is refused
 * (and any older entry under its key removed). At most {@value #MAX_QUEUED_OPTIONAL} reads and
 * writes wait for a worker; beyond that a read is a miss and a write is skipped, counted as
 * {@link DiskStats#overloaded}, and so is a write while others waiting hold
 * {@link #MAX_QUEUED_WRITE_BYTES} of bodies. A failed write (disk full, I/O error) stops all writes for
 * {@link DiskOptions#retryAfter()}; reads keep working. A write is refused the same way while the
 * file system has less than {@link DiskOptions#minFreeBytes()} free, so that LevelDB never meets a
 * full one (it writes through mmap: a full file system kills the process with SIGBUS). Removals and purges are never skipped,
 * never read a body, and win over writes already queued for what they select: each removal is
 * recorded in a {@link RemovalLog} when it is asked for, and a write checks that log at its commit
 * point, so a purge that arrives while the write of the body it purges still waits for a worker
 * is not undone when that write runs (counted as {@link DiskStats#droppedByRemoval}).
 *
 * <p>Threads. Every LevelDB call runs on this store's pool of {@code workerThreads} threads named
 * {@code edgecache-disk-N}, or on its single {@code edgecache-disk-compact} thread. Returned stages
 * complete on those threads, except when the answer needs no LevelDB call (an index miss, a
 * reused open body, a refused write, a closed store), where they are complete before the method
 * returns. Every method
 * is non-blocking and safe on an event loop, except {@link #open} and {@link #close}.
 */
public final class DiskStore implements Store {
  private static final Logger LOG = LoggerFactory.getLogger(DiskStore.class);
  static final int MAX_QUEUED_OPTIONAL = 1024;
  /**
   * Body bytes that writes waiting for a worker may hold on the heap together; beyond it a write
   * is skipped (counted as {@link DiskStats#overloaded}), as when {@value #MAX_QUEUED_OPTIONAL}
   * operations wait. Without it, 1024 queued writes of 1 MiB bodies held a gigabyte of heap while
   * the disk fell behind. One body larger than this is still accepted when nothing else waits.
   */
  public static final long MAX_QUEUED_WRITE_BYTES = 64L << 20;
  private static final int REMOVE_BATCH = 512;
  /** Writes of a multi-chunk body go out in batches of about this many bytes. */
  static final int CHUNK_BATCH_BYTES = 1 << 20;
  /**
   * Chunk bytes a streaming write may have waiting for a worker before its producer is asked to
   * pause ({@link DiskWriter}); at least two chunks.
   */
  static final int STREAM_WINDOW_BYTES = 1 << 20;

  /**
   * Heap bound of the {@link #opened} bodies: about 4,000 recently read entries with 1 KiB of
   * headers each. Part of the process's fixed overhead, not of any configured bound.
   */
  static final long OPENED_BYTES = 4L << 20;

  /**
   * Bytes of removed entries whose chunks may wait for their readers at once: a tenth of
   * {@code maxBytes}, at least this ({@link ReadPins}).
   */
  static final long MIN_HELD_FOR_READERS = 64L << 20;

  /** What the index holds per key. */
  record Indexed(long generation, int chunkCount, long weight, Set<String> tags) {}

  /**
   * Heap of one index entry beyond its key and tags: the {@code Indexed} record (40 B), Caffeine's
   * node (40 B), the {@code ConcurrentHashMap} node (32 B) and table slot (about 11 B), rounded up;
   * counted as {@link Entry#OVERHEAD_BYTES} is (a class histogram of 100,000 entries, JDK 17).
   */
  static final int INDEX_ENTRY_BYTES = 128;

  /**
   * The index weighs an entry by its stored bytes or, when larger, by its heap scaled by
   * {@code maxBytes / indexMaxBytes}: the weights' sum then bounds both the stored bytes by
   * {@code maxBytes} and the index heap by {@code indexMaxBytes} with one Caffeine bound. Small
   * objects make the heap bind (1 KiB bodies on 8 GiB would otherwise index 7 million keys, over a
   * gigabyte of heap); large ones the disk.
   */
  private long indexWeight(String key, Indexed e) {
    if (options.indexMaxBytes() == DiskOptions.UNBOUNDED_INDEX) {
      return e.weight();
    }
    long heap = INDEX_ENTRY_BYTES + Entry.keyBytes(key) + Entry.tagBytes(e.tags()) + KeyIndex.heapBytes(e.tags().size());
    return Math.max(e.weight(), (long) Math.ceil(heap * ((double) options.maxBytes() / options.indexMaxBytes())));
  }

  /** Injected collaborators: the LevelDB probe, the back-off clock and the storedAt clock. */
  record Hooks(Db.Probe probe, LongSupplier nanoTime, Clock clock) {
    static final Hooks DEFAULT = new Hooks(Db.Probe.NONE, System::nanoTime, Clock.systemUTC());
  }


  /** A stored entry and the generation it was read at. */
  record Versioned(Entry entry, long generation) {}

  private final DiskOptions options;
  private final Hooks hooks;
  private final Db db;
  private final DiskWorkers workers;
  private final Cache<String, Indexed> index;
  /**
   * Bodies opened recently, by key, so that a hit on a streamed body reads no metadata record and
   * needs no hand-off to a worker before its chunks are read. One is handed out only while the
   * index holds the very {@link Indexed} it was opened at: every commit, soft purge (rewrite),
   * removal and eviction replaces or drops that object, after LevelDB has the change, so a reused
   * body always describes the record LevelDB holds. Bounded by {@link #OPENED_BYTES}.
   */
  private final Cache<String, DiskBody> opened;
  /** Generations being read: their chunks are deleted when the last reader lets go ({@link ReadPins}). */
  private final ReadPins pins;
  /** The index's keys sorted and by tag: prefix and tag purges visit only what they select. */
  private final KeyIndex keyIndex = new KeyIndex();
  private final Object commitLock = new Object();
  /** Orders removals against accepted writes: a removal wins over a write queued before it. */
  private final RemovalLog removals = new RemovalLog();
  private final LongAdder droppedByRemoval = new LongAdder();
  private final AtomicLong queuedWriteBytes = new AtomicLong();
  private final LongAdder skippedWrites = new LongAdder();
  private final AtomicLong nextGeneration = new AtomicLong(1);
  private final LongAdder evictions = new LongAdder();
  private final LongAdder rejected = new LongAdder();
  private final LongAdder checksumFailures = new LongAdder();
  private final LongAdder storeErrors = new LongAdder();
  private final LongAdder discarded = new LongAdder();
  private final LongAdder compactions = new LongAdder();
  private final AtomicLong streamsOpen = new AtomicLong();
  private final LongAdder streamsCommitted = new LongAdder();
  private final AtomicBoolean degraded = new AtomicBoolean();
  private final DiskCompaction compaction;
  private final DiskReader reader;
  private volatile long orphansSwept;
  private volatile boolean storing = true;
  private volatile long resumeAtNanos;
  private volatile boolean closed;
  /** Set when start-up gave this instance up as damaged: work it queued must not touch LevelDB. */
  private volatile boolean abandoned;
  private volatile DiskStartup.Action recovery = DiskStartup.Action.NONE;

  private DiskStore(DiskOptions options, Hooks hooks, Db db, DiskWorkers workers) {
    this.options = options;
    this.hooks = hooks;
    this.db = db;
    this.workers = workers;
    this.compaction = new DiskCompaction(options.maxBytes());
    this.reader = new DiskReader(db, options.dir(), this::dropCorrupt);
    this.pins = new ReadPins(this::deleteDeferred, Math.max(MIN_HELD_FOR_READERS, options.maxBytes() / 10));
    this.index =
        Caffeine.newBuilder()
            .maximumWeight(options.maxBytes())
            .weigher((String key, Indexed e) -> (int) Math.min(Integer.MAX_VALUE, indexWeight(key, e)))
            .executor(Runnable::run)
            .removalListener(this::onRemoval)
            .build();
    this.opened =
        Caffeine.newBuilder()
            .maximumWeight(OPENED_BYTES)
            .weigher((String key, DiskBody b) -> openedWeight(key, b))
            .executor(Runnable::run)
            .build();
  }

  /**
   * Heap of an opened body: its key, the metadata block and tags, the chunk checksums, and the
   * caller's decoded form of the block (counted as twice the block), plus the objects around them.
   */
  private static int openedWeight(String key, DiskBody b) {
    long bytes = 256 + Entry.keyBytes(key) + 3L * b.meta().length + 4L * b.chunkCount() + Entry.tagBytes(b.tags());
    return (int) Math.min(Integer.MAX_VALUE, bytes);
  }

  /**
   * Opens the store in {@code options.dir()}: opens LevelDB, rebuilds the index, sweeps orphans.
   *
   * <p>Blocks the caller until start-up is done (it runs on a disk worker): call it at start, not
   * on an event loop. Logs one line with what start-up found and how long it took. Damaged files
   * do not make it fail: they are repaired, or moved aside and the store starts empty (one WARN
   * line; see {@link DiskStartup}).
   *
   * @throws StoreException one line naming the path and the cause: the directory cannot be
   *     created or written, the database is locked by another process or already open here
   */
  public static DiskStore open(DiskOptions options) {
    return open(options, Hooks.DEFAULT);
  }

  static DiskStore open(DiskOptions options, Hooks hooks) {
    DiskWorkers workers = new DiskWorkers(options.dir().toString(), options.workerThreads(), MAX_QUEUED_OPTIONAL);
    long started = System.nanoTime();
    DiskStartup.Opened opened;
    try {
      opened = DiskStartup.open(options.dir(), hooks.probe(), hooks.clock(), workers, db -> {
        DiskStore store = new DiskStore(options, hooks, db, workers);
        try {
          store.recover(started);
        } catch (RuntimeException e) {
          store.abandoned = true;
          throw e;
        }
        return store;
      });
    } catch (RuntimeException e) {
      workers.shutdownNow();
      throw asStoreException(options, e);
    }
    opened.store().recovery = opened.action();
    return opened.store();
  }

  private static StoreException asStoreException(DiskOptions options, Throwable cause) {
    return cause instanceof StoreException se ? se
        : new StoreException(options.dir() + ": start-up failed: " + cause.getMessage(), cause);
  }

  private void recover(long startedNanos) {
    DiskRecovery.Result r = DiskRecovery.run(db, (k, e) -> {
      index.put(k, e);
      indexed(k, e);
    });
    nextGeneration.set(r.maxGeneration() + 1);
    orphansSwept = r.orphans();
    discarded.add(r.discarded() + r.unknown());
    LOG.info("disk tier {}: opened in {} ms (index {} ms, sweep {} ms): {} entries, {} bytes; swept {} orphan chunks"
            + " ({} bytes), {} unreadable metadata records, {} unknown records{}",
        options.dir(), (System.nanoTime() - startedNanos) / 1_000_000, r.indexMillis(), r.sweepMillis(), r.entries(),
        r.bytes(), r.orphans(), r.orphanBytes(), r.discarded(), r.unknown(),
        r.deleteFailure() == null ? "" : "; deleting stopped: " + r.deleteFailure());
  }

  // ---------------------------------------------------------------- reads

  @Override
  public CompletionStage<Entry> get(String key) {
    return getVersioned(key).thenApply(v -> v == null ? null : v.entry());
  }

  /** {@link #get} with the generation the entry was read at; {@code null} on a miss. */
  CompletionStage<Versioned> getVersioned(String key) {
    Indexed hit = index.getIfPresent(key);
    if (hit == null) {
      return CompletableFuture.completedFuture(null);
    }
    return submit(true, () -> reader.readWhole(key, hit), null);
  }

  /**
   * Opens the entry under {@code key} for reading chunk by chunk; {@code null} when there is none.
   *
   * <p>Only the metadata record is read here; a body of any size is then read a few chunks at a
   * time with {@link DiskBody#readChunks}, so it never has to be in memory whole. A body opened
   * recently is handed out again without reading anything while the entry is unchanged (see
   * {@link #opened}). Completes on a disk worker, or at once on an index miss or such a reuse.
   */
  public CompletionStage<DiskBody> openBody(String key) {
    Indexed hit = index.getIfPresent(key);
    if (hit == null) {
      return CompletableFuture.completedFuture(null);
    }
    DiskBody known = opened.getIfPresent(key);
    if (known != null && known.openedAt() == hit && !closed) {
      return CompletableFuture.completedFuture(known);
    }
    return submit(true, () -> {
      DiskFormat.Meta m = reader.readMeta(key, hit);
      if (m == null) {
        return null;
      }
      DiskBody body = new DiskBody(this, key, m, hit);
      if (m.generation() == hit.generation()) {
        opened.put(key, body);
      }
      return body;
    }, null);
  }

  /** Reads {@code count} chunks of {@code body} from {@code first}; see {@link DiskBody#readChunks}. */
  CompletionStage<ChunkRun> readChunks(DiskBody body, int first, int count) {
    return ReadBatch.submit(workers, () -> reader.readChunks(body, first, count));
  }

  /** Reads every chunk of {@code body} into one array, in one worker task. */
  CompletionStage<byte[]> readAll(DiskBody body) {
    return submit(false, () -> reader.readAll(body), null);
  }

  /** The metadata block under {@code key}; reads only the metadata record, never refused. */
  @Override
  public CompletionStage<byte[]> metadata(String key) {
    if (peek(key) == null) {
      return CompletableFuture.completedFuture(null);
    }
    return submit(false, () -> {
      DiskFormat.Meta m = reader.readMeta(key, null);
      return m == null ? null : m.meta();
    }, null);
  }

  /** A disk hit always streams: the caller reads the chunks it needs. */
  @Override
  public CompletionStage<Found> lookup(String key) {
    return openBody(key).thenApply(body -> body == null ? null : new Found(null, body, Tier.DISK));
  }

  /** Removes an entry found damaged at {@code generation}, unless a newer write has replaced it. */
  private void dropCorrupt(String key, long generation, int chunkCount) {
    checksumFailures.increment();
    LOG.warn("disk tier {}: entry {} failed its checksum; removed", options.dir(), key);
    deleteGenerationIfCurrent(key, generation, chunkCount, 0);
  }

  /**
   * Deletes the chunks of {@code generation} of {@code key} and, when the key's metadata record
   * still refers to that generation (or is unreadable), the record and the index entry too; a
   * newer write under the key is left alone. The one path by which damaged and evicted entries
   * leave LevelDB. {@code chunkCount} -1 leaves the chunks for the start-up sweep. Chunks being
   * read stay until their last reader lets go ({@link ReadPins}; {@code bytes} is reported as
   * deleted then). Returns whether LevelDB took the deletion of the chunks now.
   */
  private boolean deleteGenerationIfCurrent(String key, long generation, int chunkCount, long bytes) {
    byte[] metaKey = DiskFormat.metaKey(key);
    boolean chunksNow = pins.deleteNowOrDefer(generation, chunkCount, bytes);
    try {
      synchronized (commitLock) {
        byte[] record = db.get(metaKey);
        DiskFormat.Meta current = DiskFormat.decodeMeta(metaKey, record);
        boolean stillThis = record != null && (current == null || current.generation() == generation);
        db.write(b -> {
          if (stillThis) {
            b.delete(metaKey);
          }
          if (chunksNow) {
            deleteChunks(b, generation, chunkCount);
          }
        });
        index.asMap().computeIfPresent(key, (k, e) -> e.generation() == generation ? null : e);
      }
      return chunksNow;
    } catch (DBException e) {
      writeFailed(e);
      return false;
    }
  }

  // ---------------------------------------------------------------- writes

  /**
   * Stores {@code entry} under {@code key}; completes once it is committed, refused or skipped.
   *
   * <p>Never fails: a body over {@code maxObjectBytes} is refused and counted (the older entry under
   * the key is removed, as it no longer matches the origin); during the back-off after a write
   * failure, or when too many operations are queued, nothing is stored and the older entry is
   * removed from view.
   */
  @Override
  public CompletionStage<Void> put(String key, Entry entry) {
    long weight = DiskFormat.storedBytes(key, entry, options.chunkBytes());
    if (entry.body().length > options.maxObjectBytes() || weight > options.maxBytes()) {
      rejected.increment();
      return remove(key).handle((r, t) -> null);
    }
    if (!mayStore()) {
      return remove(key).handle((r, t) -> null);
    }
    long bytes = entry.body().length;
    long queued = queuedWriteBytes.addAndGet(bytes);
    if (queued > MAX_QUEUED_WRITE_BYTES && queued > bytes) {
      queuedWriteBytes.addAndGet(-bytes);
      skippedWrites.increment();
      return remove(key).handle((r, t) -> null);
    }
    long ticket = removals.open();
    return this.<Void>submit(true, () -> {
      write(key, entry, weight, ticket);
      return null;
    }, null).whenComplete((v, t) -> {
      queuedWriteBytes.addAndGet(-bytes);
      removals.close(ticket);
    });
  }

  private boolean mayStore() {
    if (storing) {
      return true;
    }
    if (hooks.nanoTime().getAsLong() - resumeAtNanos < 0) {
      return false;
    }
    storing = true;
    return true;
  }

  private void write(String key, Entry entry, long weight, long ticket) {
    if (!storing || removals.removedSince(ticket, key, entry.tags())) {
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
      commit(key, entry.tags(), weight, new DiskFormat.Meta(generation, body.length, chunkSize, crcs, entry.tags(),
          entry.meta(), hooks.clock().millis()), single, ticket, true);
      storingAgain();
    } catch (DBException e) {
      writeFailed(e);
      int chunksWritten = written;
      try {
        db.write(b -> deleteChunks(b, generation, chunksWritten));
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

  private void storingAgain() {
    if (degraded.compareAndSet(true, false)) {
      LOG.info("disk tier {}: storing again", options.dir());
    }
  }

  /**
   * The commit point: writes the metadata record (and a single chunk) in one batch and indexes
   * the entry, unless a removal recorded after the write was accepted selects it; then the removal
   * stands and, with {@code deleteIfDropped}, the chunks already written are deleted. Returns
   * whether the entry was committed.
   */
  private boolean commit(String key, Set<String> tags, long weight, DiskFormat.Meta meta, byte[] singleChunk,
      long ticket, boolean deleteIfDropped) {
    byte[] metaKey = DiskFormat.metaKey(key);
    byte[] record = DiskFormat.encodeMeta(metaKey, meta);
    DiskFormat.Meta previous;
    long previousWeight = 0;
    boolean previousNow;
    synchronized (commitLock) {
      if (removals.removedSince(ticket, key, tags)) {
        droppedByRemoval.increment();
        int written = singleChunk != null ? 0 : meta.chunkCount();
        if (deleteIfDropped) {
          db.write(b -> deleteChunks(b, meta.generation(), written));
        }
        return false;
      }
      byte[] old = db.get(metaKey);
      previous = DiskFormat.decodeMeta(metaKey, old);
      if (previous != null) {
        previousWeight = DiskFormat.storedBytes(metaKey.length, old.length, previous.chunkCount(),
            previous.bodyLength());
      }
      // the chunks replaced go now, or when the last reader of them lets go
      previousNow = previous != null && pins.deleteNowOrDefer(previous.generation(), previous.chunkCount(),
          previousWeight);
      boolean deleteNow = previousNow;
      try {
        db.write(b -> {
          if (singleChunk != null) {
            b.put(DiskFormat.chunkKey(meta.generation(), 0), singleChunk);
          }
          if (deleteNow) {
            deleteChunks(b, previous.generation(), previous.chunkCount());
          }
          b.put(metaKey, record);
        });
      } catch (DBException e) {
        if (previous != null) {
          pins.keep(previous.generation()); // not replaced after all: it stays, and may be held again
        }
        throw e;
      }
      Indexed fresh = new Indexed(meta.generation(), meta.chunkCount(), weight, tags);
      index.put(key, fresh);
      indexed(key, fresh);
    }
    if (previousNow) {
      noteDeleted(previousWeight, previous.generation());
    }
    return true;
  }

  /**
   * Counts a failed write and, unless already backing off, stops storing for the back-off. Failures
   * during the back-off (removals still try to write) do not push the retry time further out.
   */
  private void writeFailed(DBException e) {
    storeErrors.increment();
    boolean first;
    synchronized (degraded) {
      if (!storing) {
        return;
      }
      storing = false;
      resumeAtNanos = hooks.nanoTime().getAsLong() + options.retryAfter().toNanos();
      first = degraded.compareAndSet(false, true);
    }
    LOG.warn("disk tier {}: {}: {}; storing nothing for {} s", options.dir(),
        first ? "stopped storing" : "still failing", e.getMessage(), options.retryAfter().toSeconds());
  }

  private static void deleteChunks(WriteBatch b, long generation, int count) {
    for (int i = 0; i < count; i++) {
      b.delete(DiskFormat.chunkKey(generation, i));
    }
  }

  // ---------------------------------------------------------------- streaming writes

  /**
   * Opens a write of a body that arrives piece by piece (see {@link DiskWriter}): its chunks are
   * written as they fill, and the entry becomes visible under {@code key} only at
   * {@link DiskWriter#commit}, once every chunk is written and the body has
   * {@code expectedLength} bytes (-1: any length up to {@code maxObjectBytes}). Returns
   * {@code null} when the write is refused, as {@link #put} refuses one: announced longer than
   * {@code maxObjectBytes} or heavier than {@code maxBytes} (counted as rejected), during the
   * back-off after a failed write, or when the bodies waiting for a worker already hold
   * {@link #MAX_QUEUED_WRITE_BYTES} (counted as overloaded); then the older entry under the key is
   * removed, as it no longer matches the origin. Non-blocking; safe on an event loop.
   */
  @Override
  public DiskWriter openWriter(String key, byte[] meta, Set<String> tags, long expectedLength) {
    if (closed) {
      return null;
    }
    int chunkSize = options.chunkBytes();
    if (expectedLength > options.maxObjectBytes() || expectedLength >= 0
        && DiskFormat.storedBytes(DiskFormat.metaKey(key).length,
            DiskFormat.metaRecordLength(DiskFormat.chunkCount(expectedLength, chunkSize), tags, meta.length),
            DiskFormat.chunkCount(expectedLength, chunkSize), expectedLength) > options.maxBytes()) {
      rejected.increment();
      remove(key);
      return null;
    }
    if (!mayStore()) {
      remove(key);
      return null;
    }
    int window = Math.max(2, STREAM_WINDOW_BYTES / chunkSize);
    // the window, the chunk being filled and the batch a worker is writing
    long reserved = (long) (window + 1) * (chunkSize + DiskFormat.CHUNK_HEADER);
    long queued = queuedWriteBytes.addAndGet(reserved);
    if (queued > MAX_QUEUED_WRITE_BYTES && queued > reserved) {
      queuedWriteBytes.addAndGet(-reserved);
      skippedWrites.increment();
      remove(key);
      return null;
    }
    long ticket = removals.open();
    streamsOpen.incrementAndGet();
    return new DiskWriter(this, key, meta, tags, expectedLength, options.maxObjectBytes(),
        nextGeneration.getAndIncrement(), ticket, chunkSize, window, reserved);
  }

  /** Runs a streaming write's task on a worker; never refused before the store closes. */
  CompletableFuture<Void> submitStreamWork(Supplier<Void> work) {
    return submit(false, () -> abandoned ? null : work.get(), null);
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
    boolean committed = commit(key, w.tags(), weight, new DiskFormat.Meta(w.generation(), length, options.chunkBytes(),
        crcs, w.tags(), meta, hooks.clock().millis()), null, w.ticket(), false);
    if (committed) {
      streamsCommitted.increment();
      storingAgain();
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
    writeFailed(e);
  }

  void droppedStream() {
    droppedByRemoval.increment();
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
      db.write(b -> deleteChunks(b, generation, count));
    } catch (DBException e) {
      writeFailed(e);
    }
  }

  /** A streaming write is over: its window and its place in the removal log are given back. */
  void streamEnded(DiskWriter w) {
    queuedWriteBytes.addAndGet(-w.reservedBytes());
    removals.close(w.ticket());
    streamsOpen.decrementAndGet();
  }

  /** Reads written chunk {@code index} of a streaming write; see {@link DiskWriter#readChunk}. */
  CompletionStage<byte[]> readStreamChunk(DiskWriter w, int index, int crc, int length) {
    return submit(false, () -> reader.readStreamChunk(w.key(), w.generation(), index, crc, length), null);
  }

  // ---------------------------------------------------------------- removals

  /**
   * Removes every indexed entry the selector matches; completes with the keys removed.
   *
   * <p>The removal is recorded at once, on the caller's thread, so a write of a selected key that
   * is queued or running now will not commit (see {@link RemovalLog}). The index is then searched
   * on a worker, never the caller's thread; LevelDB is not scanned and no body is read. Never
   * refused, however many operations are queued.
   */
  @Override
  public CompletionStage<Map<String, Set<String>>> removeMatching(Selector selector) {
    removals.record(selector);
    if (selector instanceof Selector.Keys keys && !removals.anyOpen()
        && keys.keys().stream().allMatch(k -> peek(k) == null) && !closed) {
      return CompletableFuture.completedFuture(Map.of()); // nothing indexed and no write that could commit
    }
    return submit(false, () -> removeNow(candidates(selector), (k, e) -> selector.matches(k, e.tags())), Map.of());
  }

  /**
   * Soft purge: rewrites the metadata record of every selected entry in place (same generation,
   * same chunks), never reading a body. Recorded at once like {@link #removeMatching}.
   */
  @Override
  public CompletionStage<Set<String>> rewriteMatching(Selector selector, UnaryOperator<byte[]> rewrite) {
    removals.record(selector);
    return submit(false, () -> rewriteNow(candidates(selector), selector, rewrite), Set.of());
  }

  /**
   * The keys in the index the selector matches. A snapshot taken on a worker from the in-memory
   * index; LevelDB is not read.
   */
  @Override
  public CompletionStage<List<String>> keys(Selector selector) {
    return submit(false, () -> candidates(selector), List.of());
  }

  /**
   * The indexed keys the selector matches, looked up directly for exact keys and by walking the
   * index otherwise. Runs on a worker. It first waits for a commit in progress: a write that
   * passed its removal check before the caller recorded its removal is then indexed and found.
   */
  private List<String> candidates(Selector selector) {
    synchronized (commitLock) {
      // empty: entering the lock orders this search after any commit already under way
    }
    List<String> out = new ArrayList<>();
    if (selector instanceof Selector.Keys keys) {
      for (String k : keys.keys()) {
        if (peek(k) != null) {
          out.add(k);
        }
      }
      return out;
    }
    List<String> indexed = keyIndex.candidates(selector);
    if (indexed != null) {
      for (String k : indexed) {
        Indexed e = peek(k);
        if (e != null && selector.matches(k, e.tags())) {
          out.add(k);
        }
      }
      return out;
    }
    index.asMap().forEach((k, e) -> {
      if (selector.matches(k, e.tags())) {
        out.add(k);
      }
    });
    return out;
  }

  private Set<String> rewriteNow(List<String> candidates, Selector selector, UnaryOperator<byte[]> rewrite) {
    Set<String> rewritten = new HashSet<>();
    for (String key : candidates) {
      byte[] metaKey = DiskFormat.metaKey(key);
      try {
        synchronized (commitLock) {
          Indexed e = peek(key);
          if (e == null || !selector.matches(key, e.tags())) {
            continue;
          }
          DiskFormat.Meta m = DiskFormat.decodeMeta(metaKey, db.get(metaKey));
          byte[] meta = m == null || m.generation() != e.generation() ? null : rewrite.apply(m.meta());
          if (meta == null) {
            continue;
          }
          byte[] record = DiskFormat.encodeMeta(metaKey, new DiskFormat.Meta(m.generation(), m.bodyLength(), m.chunkSize(),
              m.chunkCrcs(), m.tags(), meta, m.storedAtMillis()));
          db.write(b -> b.put(metaKey, record));
          index.put(key, new Indexed(e.generation(), e.chunkCount(),
              DiskFormat.storedBytes(metaKey.length, record.length, m.chunkCount(), m.bodyLength()), e.tags()));
          rewritten.add(key);
        }
      } catch (DBException ex) {
        writeFailed(ex);
      }
    }
    return rewritten;
  }

  private Map<String, Set<String>> removeNow(List<String> candidates, BiPredicate<String, Indexed> stillMatches) {
    Map<String, Set<String>> removed = new HashMap<>();
    for (int from = 0; from < candidates.size(); from += REMOVE_BATCH) {
      List<String> slice = candidates.subList(from, Math.min(candidates.size(), from + REMOVE_BATCH));
      List<Indexed> gone = new ArrayList<>();
      try {
        synchronized (commitLock) {
          db.write(b -> {
            for (String key : slice) {
              Indexed e = peek(key);
              if (e != null && stillMatches.test(key, e) && index.asMap().remove(key, e)) {
                removed.put(key, e.tags());
                b.delete(DiskFormat.metaKey(key));
                if (pins.deleteNowOrDefer(e.generation(), e.chunkCount(), e.weight())) {
                  gone.add(e);
                  deleteChunks(b, e.generation(), e.chunkCount());
                }
              }
            }
          });
        }
      } catch (DBException e) {
        // The entries are out of the index, so no longer served; LevelDB may still hold them until
        // the next start, which would index them again.
        writeFailed(e);
      }
      for (Indexed e : gone) {
        noteDeleted(e.weight(), e.generation());
      }
    }
    return removed;
  }

  /** Records a key the index now holds in {@link #keyIndex} (and drops it again if it was evicted at once). */
  private void indexed(String key, Indexed e) {
    keyIndex.added(key, e.tags());
    if (index.policy().getIfPresentQuietly(key) == null) {
      keyIndex.removed(key, e.tags(), this::indexedTags);
    }
  }

  private Set<String> indexedTags(String key) {
    Indexed now = index.policy().getIfPresentQuietly(key);
    return now == null ? null : now.tags();
  }

  private void onRemoval(String key, Indexed e, RemovalCause cause) {
    if (key != null && e != null) {
      keyIndex.removed(key, e.tags(), this::indexedTags);
    }
    if (key == null || e == null || !cause.wasEvicted()) {
      return;
    }
    evictions.increment();
    submit(false, () -> {
      if (!abandoned) {
        deleteEvicted(key, e);
      }
      return null;
    }, null);
  }

  private void deleteEvicted(String key, Indexed e) {
    if (deleteGenerationIfCurrent(key, e.generation(), e.chunkCount(), e.weight())) {
      noteDeleted(e.weight(), e.generation());
    }
  }

  /** Holds {@code body}'s chunks for a reader while the index serves its generation ({@link DiskBody#hold}). */
  Store.Pin holdRead(DiskBody body) {
    long generation = body.generation();
    return pins.hold(generation, () -> {
      Indexed now = peek(body.key());
      return now != null && now.generation() == generation;
    });
  }

  /** Holds the chunks of a streaming write for a reader following it ({@link DiskWriter#holdChunks}). */
  Store.Pin holdStream(long generation) {
    return pins.hold(generation, () -> true);
  }

  /** The last reader of {@code generation} let go: its deferred deletion runs on a worker. */
  private void deleteDeferred(long generation) {
    submit(false, () -> {
      ReadPins.Deferred d = abandoned ? null : pins.takeDeferred(generation);
      if (d != null) {
        try {
          db.write(b -> deleteChunks(b, generation, d.chunkCount()));
          noteDeleted(d.bytes(), generation);
        } catch (DBException e) {
          writeFailed(e); // left for the start-up sweep
        }
      }
      return null;
    }, null);
  }

  /**
   * Bytes of removed, evicted or replaced entries whose chunks wait for their readers
   * ({@link ReadPins}): disk use beyond {@code maxBytes}, back to 0 once those readers are done.
   */
  public long bytesHeldForReaders() {
    return pins.deferredBytes();
  }

  private void noteDeleted(long bytes, long generation) {
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

  // ---------------------------------------------------------------- stats, close

  @Override
  public StoreStats stats() {
    index.cleanUp();
    long bytes = index.policy().eviction().map(ev -> ev.weightedSize().orElse(0L)).orElse(0L);
    return new StoreStats(index.estimatedSize(), bytes, options.maxBytes(), evictions.sum(), rejected.sum());
  }

  /** {@link #stats()} and the disk tier's own counters. */
  public DiskStats diskStats() {
    StoreStats s = stats();
    return new DiskStats(s.entries(), s.bytes(), s.maxBytes(), s.evictions(), s.rejected(), checksumFailures.sum(),
        storeErrors.sum(), reader.readErrors(), orphansSwept, discarded.sum(), workers.refused() + skippedWrites.sum(), compactions.sum(),
        droppedByRemoval.sum(), storing, recovery == DiskStartup.Action.REPAIRED ? 1 : 0,
        recovery == DiskStartup.Action.MOVED_ASIDE ? 1 : 0, streamsOpen.get(), streamsCommitted.sum(), reader.bodyBytesRead());
  }

  public DiskOptions options() {
    return options;
  }

  /**
   * Finishes queued work, then closes LevelDB; later calls see a closed store (reads miss, writes
   * are skipped, removals fail with {@link StoreException}). Blocks until done; idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    workers.shutdown(db::close);
  }

  // ---------------------------------------------------------------- package-private, for tests and TieredStore

  /** The index generation of {@code key}, or -1 when absent. */
  long generationOf(String key) {
    Indexed e = peek(key);
    return e == null ? -1 : e.generation();
  }

  /** The index entry of {@code key} without counting a use: removals and checks are not reads. */
  private Indexed peek(String key) {
    return index.policy().getIfPresentQuietly(key);
  }

  Set<String> keys() {
    return Set.copyOf(index.asMap().keySet());
  }

  /** Waits, without a timeout, until no task submitted so far is queued or running. */
  void awaitIdle() {
    workers.awaitIdle();
  }

  DiskRecovery.Audit audit() {
    awaitIdle();
    return submit(false, () -> DiskRecovery.audit(db, index.asMap()), null).toCompletableFuture().join();
  }

  private <T> CompletableFuture<T> submit(boolean optional, Supplier<T> work, T refused) {
    return workers.submit(optional, work, refused);
  }
}
