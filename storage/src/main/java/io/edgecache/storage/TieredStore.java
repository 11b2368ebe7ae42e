package io.edgecache.storage;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiPredicate;
import java.util.function.Predicate;

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
 * <p>Limits: {@link #stats()} are the memory tier's (the disk's are at {@link #disk()}); the counts
 * that purges return are of distinct keys removed from either tier. A purge does not stop a write
 * that began before it from completing afterwards: callers that must not resurrect purged content
 * check their own purge epoch before writing.
 *
 * <p>Threads: memory operations run on the caller's thread; stages that needed the disk complete
 * on a disk worker thread (see {@link DiskStore}).
 */
public final class TieredStore implements Store {
  static final int SEEN_KEYS = 100_000;

  private final MemoryStore memory;
  private final DiskStore disk;
  private final Cache<String, Boolean> seen;

  public TieredStore(MemoryStore memory, DiskStore disk) {
    this.memory = memory;
    this.disk = disk;
    this.seen = Caffeine.newBuilder().maximumSize(SEEN_KEYS).executor(Runnable::run).build();
  }

  /**
   * Where a lookup found its entry: {@code entry} holds the whole body (memory, or a disk entry
   * small enough for memory), or {@code body} streams a larger one from disk. Exactly one is set.
   */
  public record Hit(Entry entry, DiskBody body) {
    public Hit {
      if ((entry == null) == (body == null)) {
        throw new IllegalArgumentException("exactly one of entry and body");
      }
    }
  }

  public MemoryStore memory() {
    return memory;
  }

  public DiskStore disk() {
    return disk;
  }

  /**
   * The entry under {@code key}, whole when it fits memory's per-object limit and as a streamable
   * {@link DiskBody} otherwise; {@code null} on a miss. This is what a server should call: unlike
   * {@link #get}, it never reads a large body into memory.
   */
  public CompletionStage<Hit> lookup(String key) {
    Entry hot = memory.getNow(key);
    if (hot != null) {
      return CompletableFuture.completedFuture(new Hit(hot, null));
    }
    return disk.openBody(key).thenCompose(body -> {
      if (body == null) {
        return CompletableFuture.completedFuture(null);
      }
      if (body.length() > memory.maxObjectBytes()) {
        return CompletableFuture.completedFuture(new Hit(null, body));
      }
      return body.readAll().handle((bytes, failure) -> {
        if (failure != null) {
          return null; // replaced, purged or corrupt while being read: a miss
        }
        Entry e = new Entry(body.meta(), bytes, body.tags());
        maybePromote(key, e, body.generation());
        return new Hit(e, null);
      });
    });
  }

  /** The whole entry under {@code key}, from memory or disk; reads large bodies whole. */
  @Override
  public CompletionStage<Entry> get(String key) {
    Entry hot = memory.getNow(key);
    if (hot != null) {
      return CompletableFuture.completedFuture(hot);
    }
    return disk.getVersioned(key).thenApply(v -> {
      if (v == null) {
        return null;
      }
      maybePromote(key, v.entry(), v.generation());
      return v.entry();
    });
  }

  private void maybePromote(String key, Entry e, long generation) {
    if (!memory.fits(e) || seen.asMap().putIfAbsent(key, Boolean.TRUE) == null) {
      return;
    }
    seen.invalidate(key);
    if (memory.putIfAbsentNow(key, e) && disk.generationOf(key) != generation) {
      memory.removeIfSame(key, e); // a newer write committed while we read: do not keep the old one
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

  @Override
  public CompletionStage<Boolean> remove(String key) {
    boolean inMemory = memory.remove(key).toCompletableFuture().join(); // complete on return
    return disk.remove(key).thenApply(onDisk -> inMemory || onDisk);
  }

  @Override
  public CompletionStage<Integer> removeByPrefix(String prefix) {
    return removeMatching((k, tags) -> k.startsWith(prefix));
  }

  @Override
  public CompletionStage<Integer> removeIf(Predicate<String> keyMatches) {
    return removeMatching((k, tags) -> keyMatches.test(k));
  }

  @Override
  public CompletionStage<Integer> removeByTag(String tag) {
    return removeMatching((k, tags) -> tags.contains(tag));
  }

  @Override
  public CompletionStage<Integer> clear() {
    seen.invalidateAll();
    return removeMatching((k, tags) -> true);
  }

  /** The distinct keys of both tiers matching {@code keyMatches} and {@code tag} (each ignored when null). */
  @Override
  public CompletionStage<List<String>> keys(Predicate<String> keyMatches, String tag) {
    List<String> inMemory = memory.keys(keyMatches, tag).toCompletableFuture().join(); // complete on return
    return disk.keys(keyMatches, tag).thenApply(onDisk -> {
      Set<String> all = new LinkedHashSet<>(inMemory);
      all.addAll(onDisk);
      return List.copyOf(all);
    });
  }

  private CompletionStage<Integer> removeMatching(BiPredicate<String, Set<String>> keyAndTags) {
    Set<String> fromMemory = memory.removeMatching(keyAndTags);
    return disk.removeMatching(keyAndTags).thenApply(fromDisk -> {
      Set<String> all = new HashSet<>(fromMemory);
      all.addAll(fromDisk);
      return all.size();
    });
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
