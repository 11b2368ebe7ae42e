package io.edgecache.storage;

import io.netty.buffer.ByteBuf;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * The byte layout of the disk tier in LevelDB: metadata records of version 2, chunk records of
 * version 1. Every integer is big-endian.
 *
 * <pre>
 * Keys
 *   metadata   'm' (0x6D) | key (UTF-8)
 *   chunk      'c' (0x63) | generation (8) | chunk index (4)
 *
 *   A generation is unique to one write, in 1..2^62-1, so the chunks of one write sort together
 *   and after the chunks of every earlier write.
 *
 * Metadata record (the commit point of a write)
 *   size   field
 *   1      version = 2
 *   8      generation of the chunks this record refers to
 *   8      body length
 *   4      chunk size (every chunk but the last holds exactly this many bytes)
 *   4      chunk count n = ceil(body length / chunk size), 0 for an empty body
 *   4 × n  CRC32C of each chunk's payload
 *   4      tag count t
 *   t × (4 + len)  tag: length, then UTF-8 bytes
 *   4 + len        entry meta: length, then the opaque bytes the HTTP layer stored
 *   8      storedAt, epoch milliseconds
 *   4      CRC32C of the metadata key followed by every byte of this record before this field
 *
 * Chunk record
 *   1      version = 1
 *   4      CRC32C of the payload
 *   rest   payload
 * </pre>
 *
 * <p>Why the redundancy: the chunk record's own CRC proves the record is intact, the copy in the
 * metadata record proves it belongs to this write; the trailing CRC of the metadata record keeps
 * a damaged header block from being served as response headers, and since it covers the key too,
 * a record whose key was damaged from being indexed under a URL it was never stored for (LevelDB
 * stores this tier's blocks uncompressed and does not check their checksums on reads, see
 * {@link Db}). Version-1 metadata records, whose CRC did not cover the key, decode to {@code null}
 * like any other version: start-up discards them and their chunks. A record whose version is unknown,
 * whose lengths do not add up or whose checksum fails decodes to {@code null}: it is discarded,
 * never misread. A new layout gets a new version byte and the old one stays readable or is dropped
 * at start-up, which for a cache only costs misses.
 *
 * <p>Stateless; every method is safe on any thread.
 */
final class DiskFormat {
  static final byte META_VERSION = 2;
  static final byte CHUNK_VERSION = 1;
  static final byte META_PREFIX = 'm';
  static final byte CHUNK_PREFIX = 'c';
  static final int CHUNK_KEY_LENGTH = 13;
  /** Generations stay below 2^62 so start-up can pack a flag beside one in a long. */
  static final long MAX_GENERATION = (1L << 62) - 1;
  /** Bytes of a chunk record before its payload: version and CRC. */
  static final int CHUNK_HEADER = 5;

  private static final int META_FIXED = 1 + 8 + 8 + 4 + 4 + 4 + 4 + 8 + 4;

  private DiskFormat() {}

  /** A decoded metadata record. Arrays are owned by the record; callers must not modify them. */
  record Meta(long generation, long bodyLength, int chunkSize, int[] chunkCrcs, Set<String> tags,
      byte[] meta, long storedAtMillis) {
    int chunkCount() {
      return chunkCrcs.length;
    }

    /** Payload bytes of chunk {@code index}. */
    int chunkLength(int index) {
      return (int) Math.min(chunkSize, bodyLength - (long) index * chunkSize);
    }
  }

  // ---------------------------------------------------------------- keys

  static byte[] metaKey(String key) {
    byte[] utf8 = key.getBytes(StandardCharsets.UTF_8);
    byte[] k = new byte[utf8.length + 1];
    k[0] = META_PREFIX;
    System.arraycopy(utf8, 0, k, 1, utf8.length);
    return k;
  }

  static boolean isMetaKey(byte[] k) {
    return k.length >= 1 && k[0] == META_PREFIX;
  }

  /** The cache key of a metadata key. */
  static String keyOf(byte[] metaKey) {
    return new String(metaKey, 1, metaKey.length - 1, StandardCharsets.UTF_8);
  }

  static byte[] chunkKey(long generation, int index) {
    return ByteBuffer.allocate(CHUNK_KEY_LENGTH).put(CHUNK_PREFIX).putLong(generation).putInt(index).array();
  }

  static boolean isChunkKey(byte[] k) {
    return k.length == CHUNK_KEY_LENGTH && k[0] == CHUNK_PREFIX;
  }

  /** The generation of a chunk key; the caller has checked {@link #isChunkKey}. */
  static long chunkGeneration(byte[] chunkKey) {
    return ByteBuffer.wrap(chunkKey, 1, 8).getLong();
  }

  // ---------------------------------------------------------------- sizes

  static int chunkCount(long bodyLength, int chunkSize) {
    return (int) ((bodyLength + chunkSize - 1) / chunkSize);
  }

  static int metaRecordLength(int chunkCount, Set<String> tags, int metaLength) {
    int n = META_FIXED + 4 * chunkCount + metaLength;
    for (String tag : tags) {
      n += 4 + utf8Length(tag);
    }
    return n;
  }

  /**
   * Bytes one entry occupies in LevelDB, keys included: what the index weighs. LevelDB's own
   * per-record overhead and compression are not counted.
   */
  static long storedBytes(int metaKeyLength, int metaRecordLength, int chunkCount, long bodyLength) {
    return (long) metaKeyLength + metaRecordLength
        + (long) chunkCount * (CHUNK_KEY_LENGTH + CHUNK_HEADER) + bodyLength;
  }

  /** {@link #storedBytes} of {@code entry} stored under {@code key} with this chunk size. */
  static long storedBytes(String key, Entry entry, int chunkSize) {
    int chunks = chunkCount(entry.body().length, chunkSize);
    return storedBytes(utf8Length(key) + 1, metaRecordLength(chunks, entry.tags(), entry.meta().length),
        chunks, entry.body().length);
  }

  private static int utf8Length(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }

  // ---------------------------------------------------------------- metadata record

  /** The metadata record of {@code m}, to be stored under {@code metaKey}: its CRC covers the key. */
  static byte[] encodeMeta(byte[] metaKey, Meta m) {
    byte[][] tags = new byte[m.tags().size()][];
    int i = 0;
    for (String tag : m.tags()) {
      tags[i++] = tag.getBytes(StandardCharsets.UTF_8);
    }
    int length = META_FIXED + 4 * m.chunkCount() + m.meta().length;
    for (byte[] tag : tags) {
      length += 4 + tag.length;
    }
    ByteBuffer b = ByteBuffer.allocate(length);
    b.put(META_VERSION).putLong(m.generation()).putLong(m.bodyLength()).putInt(m.chunkSize()).putInt(m.chunkCount());
    for (int crc : m.chunkCrcs()) {
      b.putInt(crc);
    }
    b.putInt(tags.length);
    for (byte[] tag : tags) {
      b.putInt(tag.length).put(tag);
    }
    b.putInt(m.meta().length).put(m.meta());
    b.putLong(m.storedAtMillis());
    b.putInt(metaCrc(metaKey, b.array(), b.position()));
    return b.array();
  }

  /**
   * The record stored under {@code metaKey}, or {@code null} when the version is unknown, the bytes
   * are inconsistent or the checksum over key and record fails.
   */
  static Meta decodeMeta(byte[] metaKey, byte[] record) {
    if (record == null || record.length < META_FIXED || record[0] != META_VERSION) {
      return null;
    }
    int end = record.length - 4;
    if (metaCrc(metaKey, record, end) != ByteBuffer.wrap(record, end, 4).getInt()) {
      return null;
    }
    try {
      ByteBuffer b = ByteBuffer.wrap(record, 1, end - 1);
      long generation = b.getLong();
      long bodyLength = b.getLong();
      int chunkSize = b.getInt();
      int chunkCount = b.getInt();
      if (generation <= 0 || generation > MAX_GENERATION || bodyLength < 0 || chunkSize <= 0 || chunkCount < 0
          || chunkCount > b.remaining() / 4 || chunkCount != chunkCount(bodyLength, chunkSize)) {
        return null;
      }
      int[] crcs = new int[chunkCount];
      for (int i = 0; i < chunkCount; i++) {
        crcs[i] = b.getInt();
      }
      int tagCount = b.getInt();
      if (tagCount < 0 || tagCount > b.remaining() / 4) {
        return null;
      }
      Set<String> tags = new LinkedHashSet<>();
      for (int i = 0; i < tagCount; i++) {
        tags.add(utf8(b));
      }
      int metaLength = b.getInt();
      if (metaLength < 0 || metaLength > b.remaining()) {
        return null;
      }
      byte[] meta = new byte[metaLength];
      b.get(meta);
      long storedAt = b.getLong();
      if (b.hasRemaining()) {
        return null;
      }
      return new Meta(generation, bodyLength, chunkSize, crcs, Set.copyOf(tags), meta, storedAt);
    } catch (BufferUnderflowException | IllegalArgumentException e) {
      return null;
    }
  }

  private static int metaCrc(byte[] metaKey, byte[] record, int length) {
    CRC32C c = new CRC32C();
    c.update(metaKey, 0, metaKey.length);
    c.update(record, 0, length);
    return (int) c.getValue();
  }

  private static String utf8(ByteBuffer b) {
    int n = b.getInt();
    if (n < 0 || n > b.remaining()) {
      throw new IllegalArgumentException("tag length " + n);
    }
    String s = new String(b.array(), b.arrayOffset() + b.position(), n, StandardCharsets.UTF_8);
    b.position(b.position() + n);
    return s;
  }

  // ---------------------------------------------------------------- chunk record

  /** The chunk record of {@code length} payload bytes of {@code body} from {@code offset}. */
  static byte[] encodeChunk(byte[] body, int offset, int length, int crc) {
    byte[] record = new byte[CHUNK_HEADER + length];
    record[0] = CHUNK_VERSION;
    ByteBuffer.wrap(record, 1, 4).putInt(crc);
    System.arraycopy(body, offset, record, CHUNK_HEADER, length);
    return record;
  }

  /**
   * Whether {@code record} is a version-1 chunk of exactly {@code expectedLength} payload bytes
   * whose stored and computed CRCs both equal {@code expectedCrc}, the one the metadata recorded.
   */
  static boolean chunkIntact(byte[] record, int expectedCrc, int expectedLength) {
    return record != null
        && record.length == CHUNK_HEADER + expectedLength
        && record[0] == CHUNK_VERSION
        && ByteBuffer.wrap(record, 1, 4).getInt() == expectedCrc
        && crc(record, CHUNK_HEADER, expectedLength) == expectedCrc;
  }

  /** {@link #chunkIntact(byte[], int, int)} for a record in the readable bytes of a buffer. */
  static boolean chunkIntact(ByteBuf record, int expectedCrc, int expectedLength) {
    if (record == null || record.readableBytes() != CHUNK_HEADER + expectedLength) {
      return false;
    }
    int at = record.readerIndex();
    if (record.getByte(at) != CHUNK_VERSION || record.getInt(at + 1) != expectedCrc) {
      return false;
    }
    CRC32C c = new CRC32C();
    c.update(record.nioBuffer(at + CHUNK_HEADER, expectedLength));
    return (int) c.getValue() == expectedCrc;
  }

  static int crc(byte[] bytes, int offset, int length) {
    CRC32C c = new CRC32C();
    c.update(bytes, offset, length);
    return (int) c.getValue();
  }
}
