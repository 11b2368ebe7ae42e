package io.edgecache.storage;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import org.iq80.leveldb.DBException;

/**
 * Start-up of the disk tier: rebuilds the index from the metadata records and sweeps orphans.
 *
 * <p>Why a sweep is enough for crash safety: a write puts its chunks first and its metadata record
 * last, in one batch with the deletion of the chunks it replaces, and LevelDB applies batches
 * atomically and in order. So a crash leaves at worst chunks that no metadata record refers to;
 * they are found here and deleted. Metadata records of an unknown version or with a bad checksum
 * are deleted too (their chunks then become orphans of the same sweep).
 *
 * <p>Cost: one pass over the metadata records (values read: they feed the index) and one pass over
 * the chunk keys that steps over single-chunk generations and seeks past multi-chunk ones after
 * their first chunk, so a large body costs one read, not one per chunk. Runs on a disk worker thread, before the store is
 * handed out.
 */
final class DiskRecovery {
  private static final byte[] FIRST_KEY = new byte[0];
  private static final byte[] AFTER_META = {DiskFormat.META_PREFIX + 1};
  private static final byte[] AFTER_CHUNKS = {DiskFormat.CHUNK_PREFIX + 1};
  private static final int DELETE_BATCH = 1000;

  private DiskRecovery() {}

  /**
   * What start-up found.
   *
   * @param entries         metadata records indexed
   * @param bytes           their stored bytes
   * @param discarded       metadata records deleted as unreadable (unknown version, bad checksum)
   * @param orphans         chunk records deleted because no metadata record refers to them
   * @param orphanBytes     their size
   * @param unknown         records with neither prefix, deleted
   * @param maxGeneration   the highest generation seen anywhere, 0 if none
   * @param deleteFailure   why deleting stopped, or {@code null} if every deletion was written
   * @param indexMillis     time spent reading metadata records into the index
   * @param sweepMillis     time spent on the pass over chunk keys
   */
  record Result(long entries, long bytes, long discarded, long orphans, long orphanBytes, long unknown,
      long maxGeneration, String deleteFailure, long indexMillis, long sweepMillis) {}

  /** Rebuilds into {@code index} and sweeps; the caller has exclusive use of {@code db}. */
  static Result run(Db db, BiConsumer<String, DiskIndex.Indexed> index) {
    Deleter deleter = new Deleter(db);
    long start = System.nanoTime();
    long entries = 0;
    long bytes = 0;
    long discarded = 0;
    long maxGeneration = 0;
    long[] generations = new long[1024];
    try (Db.Cursor c = db.cursor()) {
      for (c.seek(new byte[] {DiskFormat.META_PREFIX}); c.valid() && DiskFormat.isMetaKey(c.key()); c.next()) {
        byte[] metaKey = c.key();
        byte[] value = c.value();
        DiskFormat.Meta m = DiskFormat.decodeMeta(metaKey, value);
        if (m == null) {
          discarded++;
          deleter.delete(metaKey);
          continue;
        }
        long weight = DiskFormat.storedBytes(metaKey.length, value.length, m.chunkCount(), m.bodyLength());
        index.accept(DiskFormat.keyOf(metaKey), new DiskIndex.Indexed(m.generation(), m.chunkCount(), weight, m.tags()));
        if (entries == generations.length) {
          generations = Arrays.copyOf(generations, generations.length * 2);
        }
        generations[(int) entries++] = m.generation() << 1 | (m.chunkCount() <= 1 ? 1 : 0);
        bytes += weight;
        maxGeneration = Math.max(maxGeneration, m.generation());
      }
    }
    // Referenced generations, sorted, each shifted left with a low bit telling "one chunk at most".
    long[] referenced = Arrays.copyOf(generations, (int) entries);
    Arrays.sort(referenced);
    long indexed = System.nanoTime();

    long orphans = 0;
    long orphanBytes = 0;
    long unknown = 0;
    try (Db.Cursor c = db.cursor()) {
      c.seek(FIRST_KEY);
      ForwardSweep sweep = new ForwardSweep(c);
      while (c.valid()) {
        byte[] key = sweep.key();
        if (DiskFormat.isMetaKey(key)) {
          sweep.seekBeyond(AFTER_META);
        } else if (DiskFormat.isChunkKey(key)) {
          long generation = DiskFormat.chunkGeneration(key);
          if (generation <= DiskFormat.MAX_GENERATION) {
            // a damaged key can name any generation; one beyond the format's range must not become
            // the next write's, whose metadata record would then never decode
            maxGeneration = Math.max(maxGeneration, generation);
          }
          if (generation > 0 && Arrays.binarySearch(referenced, generation << 1 | 1) >= 0) {
            c.next(); // its only chunk: stepping is cheaper than seeking
          } else if (generation > 0 && Arrays.binarySearch(referenced, generation << 1) >= 0) {
            sweep.seekBeyond(generation == DiskFormat.MAX_GENERATION ? AFTER_CHUNKS : DiskFormat.chunkKey(generation + 1, 0));
          } else {
            orphans++;
            orphanBytes += key.length + c.value().length;
            deleter.delete(key);
            c.next();
          }
        } else {
          unknown++;
          deleter.delete(key);
          c.next();
        }
      }
    }
    deleter.flush();
    return new Result(entries, bytes, discarded, orphans, orphanBytes, unknown, maxGeneration, deleter.failure,
        (indexed - start) / 1_000_000, (System.nanoTime() - indexed) / 1_000_000);
  }

  /**
   * The start-up sweep's way through the keys: it only ever seeks beyond the furthest key it has
   * seen or sought, and steps otherwise. LevelDB trusts the order of the keys in its files, so with
   * damaged ones a seek can land before its target, and the next seek, computed from that key, can
   * aim at the same place again, without end (it did, with bytes flipped in uncompressed blocks).
   * Seeking only forward always ends.
   */
  private static final class ForwardSweep {
    private final Db.Cursor cursor;
    private byte[] reached = new byte[0];

    ForwardSweep(Db.Cursor cursor) {
      this.cursor = cursor;
    }

    /** The key the cursor is on, which counts as reached. */
    byte[] key() {
      byte[] key = cursor.key();
      if (Arrays.compareUnsigned(key, reached) > 0) {
        reached = key;
      }
      return key;
    }

    /** Seeks to {@code target} when it lies beyond what was reached (every key before it then was); else steps. */
    void seekBeyond(byte[] target) {
      if (Arrays.compareUnsigned(target, reached) > 0) {
        reached = target;
        cursor.seek(target);
      } else {
        cursor.next();
      }
    }
  }

  /**
   * A consistency check of the whole database against {@code index}, for tests and diagnostics.
   *
   * @param metaRecords     metadata records present
   * @param chunkRecords    chunk records present
   * @param orphanChunks    chunk records no decodable metadata record refers to
   * @param missingChunks   chunk records a metadata record refers to that are absent
   * @param indexMismatches keys in the index without a metadata record of the same generation, plus
   *                        metadata records of keys not in the index
   */
  record Audit(long metaRecords, long chunkRecords, long orphanChunks, long missingChunks, long indexMismatches) {}

  static Audit audit(Db db, Map<String, DiskIndex.Indexed> index) {
    Map<Long, Integer> expected = new HashMap<>();
    long metas = 0;
    long mismatches = 0;
    Set<String> seen = new HashSet<>();
    try (Db.Cursor c = db.cursor()) {
      for (c.seek(new byte[] {DiskFormat.META_PREFIX}); c.valid() && DiskFormat.isMetaKey(c.key()); c.next()) {
        metas++;
        DiskFormat.Meta m = DiskFormat.decodeMeta(c.key(), c.value());
        String key = DiskFormat.keyOf(c.key());
        seen.add(key);
        DiskIndex.Indexed slot = index.get(key);
        if (m == null || slot == null || slot.generation() != m.generation()) {
          mismatches++;
        }
        if (m != null) {
          expected.put(m.generation(), m.chunkCount());
        }
      }
    }
    for (String key : index.keySet()) {
      if (!seen.contains(key)) {
        mismatches++;
      }
    }
    long chunks = 0;
    long orphans = 0;
    Map<Long, Integer> found = new HashMap<>();
    try (Db.Cursor c = db.cursor()) {
      for (c.seek(new byte[] {DiskFormat.CHUNK_PREFIX}); c.valid() && DiskFormat.isChunkKey(c.key()); c.next()) {
        chunks++;
        long generation = DiskFormat.chunkGeneration(c.key());
        if (expected.containsKey(generation)) {
          found.merge(generation, 1, Integer::sum);
        } else {
          orphans++;
        }
      }
    }
    long missing = 0;
    for (Map.Entry<Long, Integer> e : expected.entrySet()) {
      missing += e.getValue() - found.getOrDefault(e.getKey(), 0);
    }
    return new Audit(metas, chunks, orphans, missing, mismatches);
  }

  /** Deletes in batches; after the first failed write it stops trying and remembers why. */
  private static final class Deleter {
    private final Db db;
    private final List<byte[]> keys = new ArrayList<>();
    String failure;

    Deleter(Db db) {
      this.db = db;
    }

    void delete(byte[] key) {
      if (failure != null) {
        return;
      }
      keys.add(key);
      if (keys.size() >= DELETE_BATCH) {
        flush();
      }
    }

    void flush() {
      if (keys.isEmpty() || failure != null) {
        return;
      }
      try {
        db.write(b -> keys.forEach(b::delete));
      } catch (DBException e) {
        failure = e.getMessage();
      }
      keys.clear();
    }
  }
}
