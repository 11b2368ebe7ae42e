package io.edgecache.storage;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiPredicate;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import org.iq80.leveldb.DBException;

/**
 * The disk tier's in-memory index, key → generation, size and tags, and every change that must
 * keep it and LevelDB's metadata records in step.
 *
 * <p>The index (Caffeine, W-TinyLFU, weighed by {@link #indexWeight}) decides eviction, answers
 * misses and purges without touching LevelDB, and is rebuilt from the metadata records at open.
 * While an entry is in the index, its metadata record of that generation is in LevelDB: commits
 * ({@link #commit}), soft purges ({@link #rewriteNow}) and removals ({@link #removeNow},
 * {@link #deleteGenerationIfCurrent}) change both under one lock, and evictions delete from LevelDB
 * only after the index let go ({@link #onRemoval}). Beside it: the {@link KeyIndex} that prefix and
 * tag purges search, and the {@link RemovalLog} that makes a removal win over a write queued before
 * it (checked at the commit point, under the same lock).
 *
 * <p>Threads: lookups ({@link #get}, {@link #peek}) run on whichever thread asks, an event loop
 * included, and never block; every method that reads or writes LevelDB runs on a disk worker.
 * Caffeine runs its maintenance on whichever thread touches the index, so {@link #onRemoval} may
 * run on any of them: it only counts an eviction and hands its deletion to a worker.
 *
 * <p>An entry too large for Caffeine's admission window gets time to be asked for again before
 * W-TinyLFU judges it ({@link LargeEntryGrace}): it is weighed 0 while it waits, and what the
 * waiting entries weigh is taken off the bound Caffeine enforces. Without that a body of more than
 * a hundredth of {@code maxBytes} was written whole and evicted as it was committed, again at each
 * request, until its uses outnumbered those of the tier's coldest entries.
 */
final class DiskIndex {
  private static final int REMOVE_BATCH = 512;

  /** What the index holds per key. */
  record Indexed(long generation, int chunkCount, long weight, Set<String> tags) {}

  /**
   * Heap of one index entry beyond its key and tags: the {@code Indexed} record (40 B), Caffeine's
   * node (40 B), the {@code ConcurrentHashMap} node (32 B) and table slot (about 11 B), rounded up;
   * counted as {@link Entry#OVERHEAD_BYTES} is (a class histogram of 100,000 entries, JDK 17).
   */
  static final int INDEX_ENTRY_BYTES = 128;

  private final DiskOptions options;
  private final Db db;
  private final DiskWorkers workers;
  private final DiskDeletions deletions;
  private final ReadPins pins;
  private final DiskBackoff backoff;
  /** Whether start-up gave the store up as damaged: work it queued must not touch LevelDB. */
  private final BooleanSupplier abandoned;
  private final Cache<String, Indexed> index;
  /** The index's keys sorted and by tag: prefix and tag purges visit only what they select. */
  private final KeyIndex keyIndex = new KeyIndex();
  private final Object commitLock = new Object();
  /** Orders removals against accepted writes: a removal wins over a write queued before it. */
  private final RemovalLog removals = new RemovalLog();
  private final LongAdder droppedByRemoval = new LongAdder();
  private final LongAdder evictions = new LongAdder();
  /** Large new entries waiting to be judged; what they weigh is taken off Caffeine's bound. */
  private final LargeEntryGrace<Indexed> grace;
  /** Set when a waiting entry left and Caffeine's bound has not followed yet (a lower bound is safe). */
  private volatile boolean boundStale;

  DiskIndex(DiskOptions options, Db db, DiskWorkers workers, DiskDeletions deletions, DiskBackoff backoff,
      BooleanSupplier abandoned) {
    this.options = options;
    this.db = db;
    this.workers = workers;
    this.deletions = deletions;
    this.pins = deletions.pins();
    this.backoff = backoff;
    this.abandoned = abandoned;
    this.grace = new LargeEntryGrace<>(options.maxBytes());
    this.index =
        Caffeine.newBuilder()
            .maximumWeight(options.maxBytes())
            .weigher((String key, Indexed e) -> grace.holds(key, e) ? 0 : (int) Math.min(Integer.MAX_VALUE, indexWeight(key, e)))
            .executor(Runnable::run)
            .removalListener(this::onRemoval)
            .build();
  }

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

  // ---------------------------------------------------------------- lookups, for DiskStore

  /** The index entry of {@code key}, counted as a use by the admission policy; {@code null} if absent. */
  Indexed get(String key) {
    return index.getIfPresent(key);
  }

  /** The index entry of {@code key} without counting a use: removals and checks are not reads. */
  Indexed peek(String key) {
    return index.policy().getIfPresentQuietly(key);
  }

  /** The log every removal is recorded in when it is asked for, and every write takes a ticket of. */
  RemovalLog removals() {
    return removals;
  }

  /** Indexes an entry found at start-up ({@link DiskRecovery}). */
  void recovered(String key, Indexed e) {
    index.put(key, e);
    keyIndex.stored(key, e.tags(), this::indexedTags);
  }

  Set<String> keys() {
    return Set.copyOf(index.asMap().keySet());
  }

  /** The live view of the index, for {@link DiskRecovery#audit}. */
  Map<String, Indexed> asMap() {
    return index.asMap();
  }

  /** Runs Caffeine's pending maintenance, so that the sizes below are current. */
  void cleanUp() {
    applyBoundIfStale();
    index.cleanUp();
  }

  long estimatedSize() {
    return index.estimatedSize();
  }

  /** The sum of the entries' weights: the stored bytes, or more where the index heap binds. */
  long weightedSize() {
    return index.policy().eviction().map(ev -> ev.weightedSize().orElse(0L)).orElse(0L) + grace.heldBytes();
  }

  long evictions() {
    return evictions.sum();
  }

  long droppedByRemoval() {
    return droppedByRemoval.sum();
  }

  /** Counts a write that a removal since it was accepted kept from committing. */
  void countDropped() {
    droppedByRemoval.increment();
  }

  // ---------------------------------------------------------------- commit point

  /**
   * The commit point: writes the metadata record (and a single chunk) in one batch and indexes
   * the entry, unless a removal recorded after the write was accepted selects it; then the removal
   * stands and, with {@code deleteIfDropped}, the chunks already written are deleted. Returns
   * whether the entry was committed.
   */
  boolean commit(String key, Set<String> tags, long weight, DiskFormat.Meta meta, byte[] singleChunk,
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
          db.write(b -> DiskDeletions.deleteChunks(b, meta.generation(), written));
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
            DiskDeletions.deleteChunks(b, previous.generation(), previous.chunkCount());
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
      enterGrace(key, fresh);
      index.put(key, fresh);
      keyIndex.stored(key, fresh.tags(), this::indexedTags);
    }
    if (previousNow) {
      deletions.noteDeleted(previousWeight, previous.generation());
    }
    return true;
  }

  // ---------------------------------------------------------------- removals

  /**
   * The indexed keys the selector matches, looked up directly for exact keys and by walking the
   * index otherwise. Runs on a worker. It first waits for a commit in progress: a write that
   * passed its removal check before the caller recorded its removal is then indexed and found.
   */
  List<String> candidates(Selector selector) {
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

  Set<String> rewriteNow(List<String> candidates, Selector selector, UnaryOperator<byte[]> rewrite) {
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
          Indexed next = new Indexed(e.generation(), e.chunkCount(),
              DiskFormat.storedBytes(metaKey.length, record.length, m.chunkCount(), m.bodyLength()), e.tags());
          grace.swap(key, e, next, indexWeight(key, next)); // a waiting entry keeps its place
          index.put(key, next);
          rewritten.add(key);
        }
      } catch (DBException ex) {
        backoff.writeFailed(ex);
      }
    }
    return rewritten;
  }

  Map<String, Set<String>> removeNow(List<String> candidates, BiPredicate<String, Indexed> stillMatches) {
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
                  DiskDeletions.deleteChunks(b, e.generation(), e.chunkCount());
                }
              }
            }
          });
        }
      } catch (DBException e) {
        // The entries are out of the index, so no longer served; LevelDB may still hold them until
        // the next start, which would index them again.
        backoff.writeFailed(e);
      }
      for (Indexed e : gone) {
        deletions.noteDeleted(e.weight(), e.generation());
      }
    }
    return removed;
  }

  /**
   * Deletes the chunks of {@code generation} of {@code key} and, when the key's metadata record
   * still refers to that generation (or is unreadable), the record and the index entry too; a
   * newer write under the key is left alone. The one path by which damaged and evicted entries
   * leave LevelDB. {@code chunkCount} -1 leaves the chunks for the start-up sweep. Chunks being
   * read stay until their last reader lets go ({@link ReadPins}; {@code bytes} is reported as
   * deleted then). Returns whether LevelDB took the deletion of the chunks now.
   */
  boolean deleteGenerationIfCurrent(String key, long generation, int chunkCount, long bytes) {
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
            DiskDeletions.deleteChunks(b, generation, chunkCount);
          }
        });
        index.asMap().computeIfPresent(key, (k, e) -> e.generation() == generation ? null : e);
      }
      return chunksNow;
    } catch (DBException e) {
      backoff.writeFailed(e);
      return false;
    }
  }

  // ---------------------------------------------------------------- key index, eviction

  private Set<String> indexedTags(String key) {
    Indexed now = index.policy().getIfPresentQuietly(key);
    return now == null ? null : now.tags();
  }

  /**
   * Before {@code fresh} is indexed under {@code key} (under the commit lock): lets it wait if it is
   * large. The entries it pushes out of the wait are weighed in full first, within the bound they
   * had room in, so W-TinyLFU judges them now by the uses they had while waiting; then its own
   * weight comes off the bound, and Caffeine makes room for it.
   */
  private void enterGrace(String key, Indexed fresh) {
    applyBoundIfStale();
    List<LargeEntryGrace.Released<Indexed>> released = grace.enter(key, fresh, indexWeight(key, fresh));
    if (released == null) {
      return;
    }
    for (LargeEntryGrace.Released<Indexed> r : released) {
      index.asMap().replace(r.key(), r.value(), r.value()); // weighed in full; one removed meanwhile stays gone
    }
    applyBound();
  }

  private void applyBoundIfStale() {
    if (boundStale) {
      applyBound();
    }
  }

  /** Sets Caffeine's bound: {@code maxBytes} less the large entries waiting. */
  private void applyBound() {
    boundStale = false;
    long bound = Math.max(0, options.maxBytes() - grace.heldBytes());
    index.policy().eviction().ifPresent(ev -> {
      if (ev.getMaximum() != bound) {
        ev.setMaximum(bound);
      }
    });
  }

  private void onRemoval(String key, Indexed e, RemovalCause cause) {
    if (key != null && e != null) {
      keyIndex.removed(key, e.tags(), this::indexedTags);
      if (grace.removed(key, e)) {
        boundStale = true;
      }
    }
    if (key == null || e == null || !cause.wasEvicted()) {
      return;
    }
    evictions.increment();
    workers.submit(false, () -> {
      if (!abandoned.getAsBoolean()) {
        deleteEvicted(key, e);
      }
      return null;
    }, null);
  }

  private void deleteEvicted(String key, Indexed e) {
    if (deleteGenerationIfCurrent(key, e.generation(), e.chunkCount(), e.weight())) {
      deletions.noteDeleted(e.weight(), e.generation());
    }
  }
}
