package io.edgecache.storage;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.iq80.leveldb.DBException;
import org.iq80.leveldb.ReadOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The read side of the disk tier: whole entries, metadata records and single chunks, every chunk
 * checked against its CRC32C before a byte of it is returned.
 *
 * <p>Damage (an unreadable metadata record, a chunk missing or failing its check while the entry
 * still refers to it) is reported to {@link Damage}, which removes the entry; the read then answers
 * as a miss (whole reads) or fails (chunk reads), never with wrong bytes. A LevelDB read error is
 * counted and answers as a miss.
 *
 * <p>Threads: called only from the disk tier's worker tasks; holds no state of its own but counters.
 */
final class DiskReader {
  private static final Logger LOG = LoggerFactory.getLogger(DiskStore.class);

  /** Told of an entry found damaged at {@code generation}; {@code chunkCount} -1 when unknown. */
  interface Damage {
    void found(String key, long generation, int chunkCount);
  }

  /** A whole read: the entry and its generation, or damage to report, or neither (absent). */
  private record Outcome(DiskStore.Versioned found, long damagedGeneration, int damagedChunks) {
    static final Outcome ABSENT = new Outcome(null, 0, 0);

    static Outcome damaged(long generation, int chunks) {
      return new Outcome(null, generation, chunks);
    }
  }

  /** The longest body a whole read returns (the largest byte array a JVM allocates). */
  static final long MAX_WHOLE_BYTES = Integer.MAX_VALUE - 16;

  private final Db db;
  private final Path dir;
  private final Damage damage;
  private final LongAdder readErrors = new LongAdder();
  private final LongAdder bodyBytesRead = new LongAdder();

  DiskReader(Db db, Path dir, Damage damage) {
    this.db = db;
    this.dir = dir;
    this.damage = damage;
  }

  long readErrors() {
    return readErrors.sum();
  }

  long bodyBytesRead() {
    return bodyBytesRead.sum();
  }

  /** The whole entry under {@code key} from one LevelDB snapshot, or null; {@code hit} is its index entry. */
  DiskStore.Versioned readWhole(String key, DiskIndex.Indexed hit) {
    byte[] metaKey = DiskFormat.metaKey(key);
    Outcome outcome;
    try {
      outcome = db.withSnapshot(snapshot -> readWhole(metaKey, hit, snapshot));
    } catch (DBException e) {
      failed(key, e);
      return null;
    }
    if (outcome.damagedGeneration() != 0) {
      damage.found(key, outcome.damagedGeneration(), outcome.damagedChunks());
    }
    return outcome.found();
  }

  private Outcome readWhole(byte[] metaKey, DiskIndex.Indexed hit, ReadOptions snapshot) {
    byte[] record = db.get(metaKey, snapshot);
    if (record == null) {
      return Outcome.ABSENT;
    }
    DiskFormat.Meta m = DiskFormat.decodeMeta(metaKey, record);
    if (m == null) {
      return Outcome.damaged(hit.generation(), hit.chunkCount());
    }
    if (m.bodyLength() > MAX_WHOLE_BYTES) {
      return Outcome.ABSENT; // only a streaming write stores a body this long; it can only be streamed
    }
    byte[] body = new byte[(int) m.bodyLength()];
    for (int i = 0; i < m.chunkCount(); i++) {
      byte[] chunk = db.get(DiskFormat.chunkKey(m.generation(), i), snapshot);
      int length = m.chunkLength(i);
      if (!DiskFormat.chunkIntact(chunk, m.chunkCrcs()[i], length)) {
        return Outcome.damaged(m.generation(), m.chunkCount());
      }
      System.arraycopy(chunk, DiskFormat.CHUNK_HEADER, body, i * m.chunkSize(), length);
    }
    bodyBytesRead.add(body.length);
    return new Outcome(new DiskStore.Versioned(new Entry(m.meta(), body, m.tags()), m.generation()), 0, 0);
  }

  /** The decoded metadata record under {@code key}, or null (absent, unreadable, or damaged and reported). */
  DiskFormat.Meta readMeta(String key, DiskIndex.Indexed hit) {
    byte[] metaKey = DiskFormat.metaKey(key);
    byte[] record;
    try {
      record = db.get(metaKey);
    } catch (DBException e) {
      failed(key, e);
      return null;
    }
    if (record == null) {
      return null;
    }
    DiskFormat.Meta m = DiskFormat.decodeMeta(metaKey, record);
    if (m == null && hit != null) {
      damage.found(key, hit.generation(), hit.chunkCount());
    }
    return m;
  }

  /**
   * The payload of chunk {@code i} of {@code body} in a heap buffer; fails as {@link #readChunkBuf} does.
   */
  ByteBuffer readChunk(DiskBody body, int i) {
    return readChunkBuf(body, i, false).nioBuffer();
  }

  /**
   * The payload of chunk {@code i} of {@code body}: the readable bytes of a buffer the caller owns
   * (when {@code direct}, over LevelDB's own memory, or else a copy in direct memory while that is
   * not {@linkplain ChunkBuffers#directMemoryTight tight}, see {@link Db#get(byte[], boolean,
   * boolean, java.util.function.IntFunction)}); fails with {@link CorruptEntryException}
   * (the entry is reported and removed), {@link EntryGoneException} (replaced or removed since it
   * was opened) or {@link StoreException} (LevelDB failed).
   */
  private ByteBuf readChunkBuf(DiskBody body, int i, boolean direct) {
    DiskFormat.Meta m = body.format();
    byte[] chunkKey = DiskFormat.chunkKey(m.generation(), i);
    ByteBuf record;
    DiskFormat.Meta current;
    try {
      record = readRecord(chunkKey, direct);
      if (DiskFormat.chunkIntact(record, m.chunkCrcs()[i], m.chunkLength(i))) {
        bodyBytesRead.add(m.chunkLength(i));
        return record.skipBytes(DiskFormat.CHUNK_HEADER);
      }
      if (record != null) {
        record.release();
      }
      // Missing or damaged. If the entry still refers to this generation it is damaged; otherwise
      // a newer write, a purge or an eviction deleted the chunks after this body was opened.
      byte[] metaKey = DiskFormat.metaKey(body.key());
      current = DiskFormat.decodeMeta(metaKey, db.get(metaKey));
    } catch (DBException e) {
      failed(body.key(), e);
      throw new StoreException(dir + ": " + body.key() + ": reading chunk " + i + " failed: " + e.getMessage(), e);
    }
    if (current != null && current.generation() == m.generation()) {
      damage.found(body.key(), m.generation(), m.chunkCount());
      throw new CorruptEntryException(dir + ": " + body.key() + ": chunk " + i + " of " + m.chunkCount()
          + (record == null ? " is missing" : " failed its checksum") + "; entry removed");
    }
    throw new EntryGoneException(body.key() + ": replaced or removed while being read");
  }

  /**
   * A chunk record, direct if asked (over LevelDB's memory, or copied into the pool's direct memory
   * while that is not tight), else on the heap; null when absent.
   */
  private ByteBuf readRecord(byte[] chunkKey, boolean direct) {
    if (direct) {
      try {
        return db.get(chunkKey, false, true, ChunkBuffers.directMemoryTight() ? null : ChunkBuffers::allocate);
      } catch (OutOfMemoryError e) {
        // no direct memory for it just now: this chunk goes through the heap
      }
    }
    return db.get(chunkKey, false, false, null);
  }

  /**
   * Chunk {@code i} of a streaming write of {@code generation}, checked against {@code crc}: its
   * payload in a buffer the caller owns and releases, direct as for {@link #readChunks} (over
   * LevelDB's memory, or a copy in the pool's direct memory; on the heap only when that is tight).
   * Fails with {@link EntryGoneException} when it is missing or does not match (the write was
   * abandoned, or its entry replaced or removed since), or with {@link StoreException} when
   * LevelDB failed.
   */
  ByteBuf readStreamChunk(String key, long generation, int i, int crc, int length) {
    ByteBuf record;
    try {
      record = readRecord(DiskFormat.chunkKey(generation, i), true);
    } catch (DBException e) {
      failed(key, e);
      throw new StoreException(dir + ": " + key + ": reading chunk " + i + " failed: " + e.getMessage(), e);
    }
    if (!DiskFormat.chunkIntact(record, crc, length)) {
      if (record != null) {
        record.release();
      }
      throw new EntryGoneException(key + ": chunk " + i + " of a streamed write is gone");
    }
    bodyBytesRead.add(length);
    return record.skipBytes(DiskFormat.CHUNK_HEADER);
  }

  /**
   * Chunks {@code first .. first + count - 1} of {@code body} (the caller has checked the bounds),
   * stopping at the first one that cannot be served; fails as {@link #readChunk} does when that
   * is chunk {@code first}.
   */
  ChunkRun readChunks(DiskBody body, int first, int count) {
    List<ByteBuf> payloads = new ArrayList<>(count);
    for (int i = first; i < first + count; i++) {
      try {
        payloads.add(readChunkBuf(body, i, true));
      } catch (StoreException e) {
        if (payloads.isEmpty()) {
          throw e;
        }
        return new ChunkRun(first, payloads, e);
      } catch (RuntimeException | Error e) {
        payloads.forEach(ByteBuf::release);
        throw e;
      }
    }
    return new ChunkRun(first, payloads, null);
  }

  /** Every chunk of {@code body} in one array; fails as {@link #readChunk} does. */
  byte[] readAll(DiskBody body) {
    byte[] all = new byte[(int) body.length()];
    for (int i = 0; i < body.chunkCount(); i++) {
      ByteBuffer chunk = readChunk(body, i);
      chunk.get(all, i * body.format().chunkSize(), chunk.remaining());
    }
    return all;
  }

  private void failed(String key, DBException e) {
    readErrors.increment();
    LOG.debug("disk tier {}: read of {} failed: {}", dir, key, e.getMessage());
  }
}
