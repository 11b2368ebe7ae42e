package io.edgecache.storage;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How to open a {@link DiskStore}.
 *
 * <p>Limits and defaults:
 *
 * <table>
 *   <caption>disk tier options</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>dir</td><td>(required)</td><td>LevelDB directory; created if missing; one process at a time</td></tr>
 *   <tr><td>maxBytes</td><td>(required)</td><td>bound on stored bytes (keys, records, bodies)</td></tr>
 *   <tr><td>maxObjectBytes</td><td>(required)</td><td>bodies longer than this are refused; at most
 *       {@link #MAX_CHUNKS} chunks</td></tr>
 *   <tr><td>chunkBytes</td><td>512 KiB</td><td>body chunk size, 1 KiB to 64 MiB; the unit of streaming</td></tr>
 *   <tr><td>workerThreads</td><td>2</td><td>threads that make every LevelDB call, 1 to 64</td></tr>
 *   <tr><td>retryAfter</td><td>30 s</td><td>after a failed write, how long to store nothing</td></tr>
 *   <tr><td>minFreeBytes</td><td>64 MiB</td><td>a write is refused (a failed write: back-off) while the
 *     file system of {@code dir} has less than this free; see below</td></tr>
 *   <tr><td>indexMaxBytes</td><td>unbounded</td><td>bound on the heap the in-memory index takes (see
 *       {@link DiskStore}); entries are evicted to stay within it as within maxBytes</td></tr>
 * </table>
 *
 * <p>Why 512 KiB chunks: every chunk a hit reads costs a LevelDB iterator of its own (made, sought
 * through every level and deleted), a check, a hand-off between threads and a socket write, whatever
 * its size; a 1 MiB disk hit cost about a fifth more CPU in 256 KiB chunks than in 512 KiB or 1 MiB
 * ones. Larger chunks cost memory where a chunk is the unit: a client following a fill's disk write
 * holds one chunk of direct memory (over LevelDB's, or pooled), a fill reserves two or more of them
 * out of the write queue's budget and fills them in the heap, and a range of a few bytes is checked
 * over its whole chunk.
 *
 * <p>Why {@code minFreeBytes}: leveldbjni 1.8 writes its log and table files through {@code mmap},
 * so a file system that really fills up does not answer a write with an error: the process dies
 * with SIGBUS (measured on a full tmpfs). Free space must therefore never run out under LevelDB.
 * 64 MiB covers what LevelDB writes on its own once edgecache stops: the rest of its log, one
 * memtable flush (4 MiB) and one compaction step (at most about 50 MiB of output before its inputs
 * are deleted).
 *
 * <p>Immutable; validated on construction with a one-line {@link IllegalArgumentException}.
 */
public record DiskOptions(Path dir, long maxBytes, int chunkBytes, int workerThreads, long maxObjectBytes,
    Duration retryAfter, long minFreeBytes, long indexMaxBytes) {
  public static final int DEFAULT_CHUNK_BYTES = 512 * 1024;
  public static final int DEFAULT_WORKER_THREADS = 2;
  public static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(30);
  public static final long DEFAULT_MIN_FREE_BYTES = 64L << 20;
  /**
   * Chunks one body may have: each costs 4 bytes (its CRC32C) in the metadata record that every
   * disk hit reads, so 65,536 chunks keep that record within 256 KiB (with 512 KiB chunks, bodies
   * up to 32 GiB). Bodies larger than a byte array ({@link DiskStore#put}) can only be written as
   * they arrive ({@link DiskStore#openWriter}).
   */
  public static final int MAX_CHUNKS = 1 << 16;
  /** No bound on the index's heap but the one {@code maxBytes} implies. */
  public static final long UNBOUNDED_INDEX = Long.MAX_VALUE;

  public DiskOptions {
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(retryAfter, "retryAfter");
    check(maxBytes > 0, "maxBytes", maxBytes, "> 0");
    check(chunkBytes >= 1024 && chunkBytes <= 64 * 1024 * 1024, "chunkBytes", chunkBytes, "1024..67108864");
    check(workerThreads >= 1 && workerThreads <= 64, "workerThreads", workerThreads, "1..64");
    check(maxObjectBytes > 0 && maxObjectBytes <= (long) MAX_CHUNKS * chunkBytes, "maxObjectBytes", maxObjectBytes,
        "1.." + (long) MAX_CHUNKS * chunkBytes + ", at most " + MAX_CHUNKS + " chunks of " + chunkBytes + " bytes");
    check(!retryAfter.isNegative(), "retryAfter", retryAfter, ">= 0");
    check(minFreeBytes >= 0, "minFreeBytes", minFreeBytes, ">= 0");
    check(indexMaxBytes > 0, "indexMaxBytes", indexMaxBytes, "> 0");
  }

  /** Options with the default {@code minFreeBytes} and an index heap bounded only through {@code maxBytes}. */
  public DiskOptions(Path dir, long maxBytes, int chunkBytes, int workerThreads, long maxObjectBytes,
      Duration retryAfter) {
    this(dir, maxBytes, chunkBytes, workerThreads, maxObjectBytes, retryAfter, DEFAULT_MIN_FREE_BYTES, UNBOUNDED_INDEX);
  }

  /** Options with the defaults for everything but the directory and the two bounds. */
  public static DiskOptions of(Path dir, long maxBytes, long maxObjectBytes) {
    return new DiskOptions(dir, maxBytes, DEFAULT_CHUNK_BYTES, DEFAULT_WORKER_THREADS, maxObjectBytes,
        DEFAULT_RETRY_AFTER);
  }

  public DiskOptions withMinFreeBytes(long bytes) {
    return new DiskOptions(dir, maxBytes, chunkBytes, workerThreads, maxObjectBytes, retryAfter, bytes, indexMaxBytes);
  }

  public DiskOptions withIndexMaxBytes(long bytes) {
    return new DiskOptions(dir, maxBytes, chunkBytes, workerThreads, maxObjectBytes, retryAfter, minFreeBytes, bytes);
  }

  private static void check(boolean ok, String name, Object value, String expected) {
    if (!ok) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: " + expected + ")");
    }
  }
}
