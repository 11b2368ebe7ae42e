package io.edgecache.storage;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.UnaryOperator;

/**
 * Memory over disk: lookups try memory, then disk; writes go to both; purges reach both.
 *
 * <p>Promotion. A disk hit is copied into memory when it fits memory's per-object limit and the
 * key was read from disk at least twice recently ("recently" = among the last
 * {@value #SEEN_KEYS} keys read from disk), so one scan over cold keys does not flush the memory
 * tier. A promotion never overwrites a newer write: it only fills an empty slot, and is undone if
 * the disk generation it read has been replaced meanwhile; a write, once on disk, drops any other
 * memory copy of its key.
 *
 * <p>Removals reach memory at once and disk through its queue; the disk tier drops a queued write
 * that a later removal selects (see {@link Store}), and a disk read that raced a removal does not
 * promote what it read. {@link #stats()} are the memory tier's (the disk's are at
 * {@link #disk()}); removals count distinct keys removed from either tier.
 *
 * <p>Threads: memory operations run on the caller's thread; stages that needed the disk complete
 * on a disk worker thread (see {@link DiskStore}).
 */
public final class TieredStore implements Store {
  static final int SEEN_KEYS = 100_000;

  private final MemoryStore memory;
  private final DiskStore disk;
  private final Cache<String, Boolean> seen;
  /** Disk hits above this size are streamed unless this read promotes them into memory. */
  static final int WHOLE_READ_BYTES = 256 * 1024;

  /** Keys of large bodies being read whole to be promoted (one such read per key at a time). */
  private final java.util.Set<String> promoting = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** Orders removals against disk reads that may promote what they read into memory. */
  private final RemovalLog removals = new RemovalLog();

  public TieredStore(MemoryStore memory, DiskStore disk) {
    this.memory = memory;
    this.disk = disk;
    this.seen = Caffeine.newBuilder().maximumSize(SEEN_KEYS).executor(Runnable::run).build();
  }

  public MemoryStore memory() {
    return memory;
  }

  public DiskStore disk() {
    return disk;
  }

  /**
   * The entry under {@code key}: from memory, or from disk, whole when it fits memory's per-object
   * limit and is small ({@value #WHOLE_READ_BYTES} bytes) or is being promoted, and as a streamable
   * {@link DiskBody} otherwise; {@code null} on a miss. Unlike
   * {@link #get}, it never reads a large body into memory.
   */
  @Override
  public CompletionStage<Found> lookup(String key) {
    Entry hot = memory.getNow(key);
    if (hot != null) {
      return CompletableFuture.completedFuture(new Found(hot, null, Tier.MEMORY));
    }
    long ticket = removals.open();
    return disk.openBody(key).thenCompose(body -> {
      if (body == null) {
        return CompletableFuture.<Found>completedFuture(null);
      }
      boolean large = body.length() > WHOLE_READ_BYTES;
      if (body.length() > memory.maxObjectBytes()
          || large && (seen.asMap().putIfAbsent(key, Boolean.TRUE) == null || !memory.admitsLarge(body.length())
              || !promoting.add(key))) {
        // A large body read whole for every disk hit would give each reader its own copy for as
        // long as it reads (200 slow readers of an 8 MiB body: 1.8 GB); streamed, a reader holds
        // one chunk. It is read whole only to be promoted, on its second recent read, by one
        // reader at a time, and only while the memory tier has room for it (not while it sheds):
        // a promotion that cannot stay would leave that reader with a copy outside every bound.
        return CompletableFuture.completedFuture(new Found(null, body, Tier.DISK));
      }
      return body.readAll().whenComplete((bytes, failure) -> {
        if (large) {
          promoting.remove(key);
        }
      }).handle((bytes, failure) -> {
        if (failure != null) {
          return null; // replaced, purged or corrupt while being read: a miss
        }
        Entry e = new Entry(body.meta(), bytes, body.tags());
        maybePromote(key, e, body.generation(), ticket);
        return new Found(e, null, Tier.DISK);
      });
    }).whenComplete((found, failure) -> removals.close(ticket));
  }

  /** Memory bodies are pinned in the memory tier; disk bodies are read chunk by chunk and need none. */
  @Override
  public Pin pin(String key, byte[] body) {
    return memory.pin(key, body);
  }

  /** The whole entry under {@code key}, from memory or disk; reads large bodies whole. */
  @Override
  public CompletionStage<Entry> get(String key) {
    Entry hot = memory.getNow(key);
    if (hot != null) {
      return CompletableFuture.completedFuture(hot);
    }
    long ticket = removals.open();
    return disk.getVersioned(key).thenApply(v -> {
      if (v == null) {
        return null;
      }
      maybePromote(key, v.entry(), v.generation(), ticket);
      return v.entry();
    }).whenComplete((e, failure) -> removals.close(ticket));
  }

  @Override
  public CompletionStage<byte[]> metadata(String key) {
    byte[] hot = memory.metadata(key).toCompletableFuture().getNow(null); // the memory tier completes on return
    return hot != null ? CompletableFuture.completedFuture(hot) : disk.metadata(key);
  }

  /**
   * Copies a disk hit into memory on its second recent read. The copy never overwrites a newer
   * write (it only fills an empty slot) and is undone when the disk generation it read was
   * replaced meanwhile or a removal since the read began selects it: a read that raced a purge
   * must not bring the purged entry back into memory.
   */
  private void maybePromote(String key, Entry e, long generation, long ticket) {
    if (!memory.fits(e) || seen.asMap().putIfAbsent(key, Boolean.TRUE) == null) {
      return;
    }
    seen.invalidate(key);
    if (memory.putIfAbsentNow(key, e)
        && (disk.generationOf(key) != generation || removals.removedSince(ticket, key, e.tags()))) {
      memory.removeIfSame(key, e);
    }
  }

  /**
   * Stores {@code entry} in memory if it fits there, and on disk; completes when the disk is done.
   * An entry too large for memory removes any memory copy of the key.
   */
  @Override
  public CompletionStage<Void> put(String key, Entry entry) {
    if (memory.fits(entry)) {
      memory.putNow(key, entry);
    } else {
      memory.removeUnless(key, null);
    }
    seen.invalidate(key);
    return disk.put(key, entry).thenRun(() -> memory.removeUnless(key, entry));
  }

  /**
   * A body streamed to the disk tier only (see {@link DiskStore#openWriter}); the memory copy of
   * the key, if any, is dropped at once and again when the write commits, as for a {@link #put}
   * too large for memory.
   */
  @Override
  public DiskWriter openWriter(String key, byte[] meta, Set<String> tags, long expectedLength) {
    memory.removeUnless(key, null);
    seen.invalidate(key);
    DiskWriter w = disk.openWriter(key, meta, tags, expectedLength);
    if (w != null) {
      w.done().thenAccept(committed -> {
        if (committed) {
          memory.removeUnless(key, null);
        }
      });
    }
    return w;
  }

  /** Removes from both tiers; completes with the distinct keys removed from either. */
  @Override
  public CompletionStage<Map<String, Set<String>>> removeMatching(Selector selector) {
    removals.record(selector);
    if (selector instanceof Selector.All) {
      seen.invalidateAll();
    }
    Map<String, Set<String>> fromMemory = memory.removeMatchingNow(selector);
    return disk.removeMatching(selector).thenApply(fromDisk -> {
      Map<String, Set<String>> all = new HashMap<>(fromDisk);
      all.putAll(fromMemory);
      return all;
    });
  }

  /** Rewrites in both tiers; completes with the distinct keys rewritten in either. */
  @Override
  public CompletionStage<Set<String>> rewriteMatching(Selector selector, UnaryOperator<byte[]> rewrite) {
    removals.record(selector);
    Set<String> inMemory = memory.rewriteMatchingNow(selector, rewrite);
    return disk.rewriteMatching(selector, rewrite).thenApply(onDisk -> union(inMemory, onDisk));
  }

  /** The distinct keys of both tiers the selector matches. */
  @Override
  public CompletionStage<List<String>> keys(Selector selector) {
    List<String> inMemory = memory.keys(selector).toCompletableFuture().getNow(List.of()); // complete on return
    return disk.keys(selector).thenApply(onDisk -> {
      Set<String> all = new LinkedHashSet<>(inMemory);
      all.addAll(onDisk);
      return List.copyOf(all);
    });
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> all = new HashSet<>(a);
    all.addAll(b);
    return all;
  }

  /** The memory tier's stats; see {@link DiskStore#diskStats()} for the disk's. */
  @Override
  public StoreStats stats() {
    return memory.stats();
  }

  /** Closes both tiers; blocks until the disk tier has finished its queued work. */
  @Override
  public void close() {
    memory.close();
    disk.close();
  }
}
