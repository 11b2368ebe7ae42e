package io.edgecache.storage;

/**
 * Decides when deleted chunks are worth a LevelDB range compaction, and over which range.
 *
 * <p>Why: chunk keys grow with the generation, so LevelDB moves their files down the levels without
 * merging them, and the tombstones of evicted chunks can sit above the data they delete for a long
 * time; the files on disk then stay far larger than what the index counts. Compacting the range of
 * generations deleted since the last compaction, once that is a sizeable fraction of the bound,
 * keeps the on-disk size near the logical size at a bounded cost (each compaction rewrites at most
 * the live data in that range). At most one compaction is queued or running at a time.
 *
 * <p>Measured (64 KiB bodies, 8× the bound written, LevelDB's default 4 MiB write buffer): without
 * these compactions the files grew to 3.5× the bound; with a compaction per quarter of the bound
 * deleted they peaked at 1.4–2.2× and settled at 1.1–1.2×. LevelDB's own overhead (log, level-0
 * files) is some tens of MiB whatever the bound, so small bounds look worse in proportion.
 *
 * <p>Thread-safe.
 */
final class DiskCompaction {
  private final long threshold;
  private long deletedBytes;
  private long minGeneration = Long.MAX_VALUE;
  private long maxGeneration = Long.MIN_VALUE;
  private boolean running;

  DiskCompaction(long maxBytes) {
    this.threshold = Math.max(1L << 20, Math.min(1L << 30, maxBytes / 4));
  }

  /**
   * Records {@code bytes} deleted at {@code generation}; returns the inclusive generation range to
   * compact now, or {@code null}. A non-null answer must be followed by {@link #done()}.
   */
  synchronized long[] deleted(long bytes, long generation) {
    deletedBytes += bytes;
    minGeneration = Math.min(minGeneration, generation);
    maxGeneration = Math.max(maxGeneration, generation);
    if (running || deletedBytes < threshold) {
      return null;
    }
    long[] range = {minGeneration, maxGeneration};
    deletedBytes = 0;
    minGeneration = Long.MAX_VALUE;
    maxGeneration = Long.MIN_VALUE;
    running = true;
    return range;
  }

  synchronized void done() {
    running = false;
  }
}
