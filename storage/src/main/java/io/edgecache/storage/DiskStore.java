package io.edgecache.storage;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
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
 *
 * <p>Who owns what. This class opens and closes the store, serves reads (and keeps the
 * {@link #opened} bodies), takes removals and purges, and reports the counters; the rest is in
 * package-private parts it wires together, each with its own counters: {@link DiskIndex} (the
 * index, the key index, the removal log and the commit lock: commits, soft purges, removals,
 * evictions), {@link DiskWrites} (admission of writes, whole bodies, the disk work of a
 * {@link DiskWriter}), {@link DiskDeletions} (chunks kept for their readers, deferred deletions,
 * compactions), {@link DiskBackoff} (the back-off after a failed write); reads go through
 * {@link DiskReader}, and every task through {@link DiskWorkers}.
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

  /**
   * Heap bound of the {@link #opened} bodies: about 4,000 recently read entries with 1 KiB of
   * headers each. Part of the process's fixed overhead, not of any configured bound.
   */
  static final long OPENED_BYTES = 4L << 20;

  /** Injected collaborators: the LevelDB probe, the back-off clock and the storedAt clock. */
  record Hooks(Db.Probe probe, LongSupplier nanoTime, Clock clock) {
    static final Hooks DEFAULT = new Hooks(Db.Probe.NONE, System::nanoTime, Clock.systemUTC());
  }

  /** A stored entry and the generation it was read at. */
  record Versioned(Entry entry, long generation) {}

  private final DiskOptions options;
  private final Db db;
  private final DiskWorkers workers;
  private final DiskBackoff backoff;
  private final DiskDeletions deletions;
  private final DiskIndex index;
  private final DiskWrites writes;
  /**
   * Bodies opened recently, by key, so that a hit on a streamed body reads no metadata record and
   * needs no hand-off to a worker before its chunks are read. One is handed out only while the
   * index holds the very {@link DiskIndex.Indexed} it was opened at: every commit, soft purge
   * (rewrite), removal and eviction replaces or drops that object, after LevelDB has the change, so
   * a reused body always describes the record LevelDB holds. Bounded by {@link #OPENED_BYTES}.
   */
  private final Cache<String, DiskBody> opened;
  private final LongAdder checksumFailures = new LongAdder();
  private final LongAdder discarded = new LongAdder();
  private final DiskReader reader;
  private volatile long orphansSwept;
  private volatile boolean closed;
  /** Set when start-up gave this instance up as damaged: work it queued must not touch LevelDB. */
  private volatile boolean abandoned;
  private volatile DiskStartup.Action recovery = DiskStartup.Action.NONE;

  private DiskStore(DiskOptions options, Hooks hooks, Db db, DiskWorkers workers) {
    this.options = options;
    this.db = db;
    this.workers = workers;
    BooleanSupplier isAbandoned = () -> abandoned;
    this.backoff = new DiskBackoff(options, hooks.nanoTime());
    this.deletions = new DiskDeletions(options, db, workers, backoff, isAbandoned);
    this.reader = new DiskReader(db, options.dir(), this::dropCorrupt);
    this.index = new DiskIndex(options, db, workers, deletions, backoff, isAbandoned);
    this.writes = new DiskWrites(options, hooks.clock(), db, workers, reader, index, deletions, backoff, isAbandoned);
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
    DiskRecovery.Result r = DiskRecovery.run(db, index::recovered);
    writes.startGenerationsAt(r.maxGeneration() + 1);
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
    DiskIndex.Indexed hit = index.get(key);
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
    DiskIndex.Indexed hit = index.get(key);
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
    if (index.peek(key) == null) {
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
    index.deleteGenerationIfCurrent(key, generation, chunkCount, 0);
  }

  /** Holds {@code body}'s chunks for a reader while the index serves its generation ({@link DiskBody#hold}). */
  Store.Pin holdRead(DiskBody body) {
    long generation = body.generation();
    return deletions.pins().hold(generation, () -> {
      DiskIndex.Indexed now = index.peek(body.key());
      return now != null && now.generation() == generation;
    });
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
    CompletionStage<Void> write = writes.put(key, entry);
    return write != null ? write : remove(key).handle((r, t) -> null);
  }

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
    DiskWriter writer = writes.openWriter(key, meta, tags, expectedLength);
    if (writer == null) {
      remove(key);
    }
    return writer;
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
    RemovalLog removals = index.removals();
    removals.record(selector);
    if (selector instanceof Selector.Keys keys && !removals.anyOpen()
        && keys.keys().stream().allMatch(k -> index.peek(k) == null) && !closed) {
      return CompletableFuture.completedFuture(Map.of()); // nothing indexed and no write that could commit
    }
    return submit(false, () -> index.removeNow(index.candidates(selector), (k, e) -> selector.matches(k, e.tags())),
        Map.of());
  }

  /**
   * Soft purge: rewrites the metadata record of every selected entry in place (same generation,
   * same chunks), never reading a body. Recorded at once like {@link #removeMatching}.
   */
  @Override
  public CompletionStage<Set<String>> rewriteMatching(Selector selector, UnaryOperator<byte[]> rewrite) {
    index.removals().record(selector);
    return submit(false, () -> index.rewriteNow(index.candidates(selector), selector, rewrite), Set.of());
  }

  /**
   * The keys in the index the selector matches. A snapshot taken on a worker from the in-memory
   * index; LevelDB is not read.
   */
  @Override
  public CompletionStage<List<String>> keys(Selector selector) {
    return submit(false, () -> index.candidates(selector), List.of());
  }

  /**
   * Bytes of removed, evicted or replaced entries whose chunks wait for their readers
   * ({@link ReadPins}): disk use beyond {@code maxBytes}, back to 0 once those readers are done.
   */
  public long bytesHeldForReaders() {
    return deletions.bytesHeldForReaders();
  }

  // ---------------------------------------------------------------- stats, close

  @Override
  public StoreStats stats() {
    index.cleanUp();
    long bytes = index.weightedSize();
    return new StoreStats(index.estimatedSize(), bytes, options.maxBytes(), index.evictions(), writes.rejected());
  }

  /** {@link #stats()} and the disk tier's own counters. */
  public DiskStats diskStats() {
    StoreStats s = stats();
    return new DiskStats(s.entries(), s.bytes(), s.maxBytes(), s.evictions(), s.rejected(), checksumFailures.sum(),
        backoff.storeErrors(), reader.readErrors(), orphansSwept, discarded.sum(),
        workers.refused() + writes.skippedWrites(), deletions.compactions(), index.droppedByRemoval(), backoff.storing(),
        recovery == DiskStartup.Action.REPAIRED ? 1 : 0, recovery == DiskStartup.Action.MOVED_ASIDE ? 1 : 0,
        writes.streamsOpen(), writes.streamsCommitted(), reader.bodyBytesRead());
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

  /** {@link DiskIndex#INDEX_ENTRY_BYTES}: the heap of one index entry beyond its key and tags. */
  static final int INDEX_ENTRY_BYTES = DiskIndex.INDEX_ENTRY_BYTES;

  /** The index generation of {@code key}, or -1 when absent. */
  long generationOf(String key) {
    DiskIndex.Indexed e = index.peek(key);
    return e == null ? -1 : e.generation();
  }

  Set<String> keys() {
    return index.keys();
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
