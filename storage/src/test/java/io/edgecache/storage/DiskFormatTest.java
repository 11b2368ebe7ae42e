package io.edgecache.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Pins the byte layout: metadata records of version 2, chunk records of version 1. The expected
 * arrays were computed outside this code base (CRC32C by a separate implementation), so a change
 * to the encoder that changes bytes on disk fails here and must come with a new version byte.
 */
class DiskFormatTest {
  private static final HexFormat HEX = HexFormat.of();

  /** The metadata key of cache key "k". */
  private static final byte[] PINNED_KEY = HEX.parseHex("6d6b");

  /**
   * Stored under {@link #PINNED_KEY}: generation 258, body 5 bytes in chunks of 4, two chunk CRCs,
   * tag "t", meta 0x7F, storedAt 1000.
   */
  private static final byte[] PINNED_META = HEX.parseHex(
      "02"                                   // version
      + pinnedFields()
      + "F2A17925");                         // CRC32C of the key "6d6b", then all the above

  /** The pinned record's fields, after its version byte and before its CRC (the same in version 1). */
  private static String pinnedFields() {
    return "0000000000000102"                  // generation 258
        + "0000000000000005"                   // body length 5
        + "00000004"                           // chunk size 4
        + "00000002"                           // chunk count 2
        + "01020304" + "A0B0C0D0"              // chunk CRC32Cs
        + "00000001" + "00000001" + "74"       // 1 tag: length 1, "t"
        + "00000001" + "7F"                    // meta: length 1, 0x7F
        + "00000000000003E8";                  // storedAt 1000
  }

  private static DiskFormat.Meta pinnedRecord() {
    return new DiskFormat.Meta(258, 5, 4, new int[] {0x01020304, 0xA0B0C0D0}, Set.of("t"), new byte[] {0x7F}, 1000);
  }

  @Test
  void encodeMeta_fixedRecord_matchesPinnedBytes() {
    assertEquals(HEX.formatHex(PINNED_META), HEX.formatHex(DiskFormat.encodeMeta(PINNED_KEY, pinnedRecord())));
  }

  @Test
  void decodeMeta_pinnedBytes_yieldsEveryField() {
    DiskFormat.Meta m = DiskFormat.decodeMeta(PINNED_KEY, PINNED_META);

    assertNotNull(m);
    assertEquals(258, m.generation());
    assertEquals(5, m.bodyLength());
    assertEquals(4, m.chunkSize());
    assertArrayEquals(new int[] {0x01020304, 0xA0B0C0D0}, m.chunkCrcs());
    assertEquals(Set.of("t"), m.tags());
    assertArrayEquals(new byte[] {0x7F}, m.meta());
    assertEquals(1000, m.storedAtMillis());
    assertEquals(4, m.chunkLength(0));
    assertEquals(1, m.chunkLength(1));
  }

  @Test
  void encodeChunk_abc_matchesPinnedBytes() {
    byte[] abc = "abc".getBytes(StandardCharsets.US_ASCII);
    int crc = DiskFormat.crc(abc, 0, 3);

    assertEquals(0x364B3FB7, crc); // CRC32C("abc"), RFC 3720 polynomial
    assertEquals("01" + "364b3fb7" + "616263", HEX.formatHex(DiskFormat.encodeChunk(abc, 0, 3, crc)));
  }

  @Test
  void keys_pinnedLayout() {
    assertEquals("63" + "0000000000000102" + "00000003", HEX.formatHex(DiskFormat.chunkKey(258, 3)));
    assertEquals("6d" + "c3a9", HEX.formatHex(DiskFormat.metaKey("é")));
    assertEquals("é", DiskFormat.keyOf(DiskFormat.metaKey("é")));
    assertEquals(258, DiskFormat.chunkGeneration(DiskFormat.chunkKey(258, 3)));
  }

  @Test
  void chunkKeys_sortByGenerationThenIndex_soOneWriteIsContiguous() {
    byte[][] keys = {
        DiskFormat.chunkKey(1, 0), DiskFormat.chunkKey(1, 1), DiskFormat.chunkKey(1, 256),
        DiskFormat.chunkKey(2, 0), DiskFormat.chunkKey(256, 0), DiskFormat.chunkKey(Long.MAX_VALUE, 0)};
    for (int i = 1; i < keys.length; i++) {
      assertTrue(Arrays.compareUnsigned(keys[i - 1], keys[i]) < 0, "key " + i);
    }
  }

  @Test
  void decodeMeta_unknownVersion_returnsNull() {
    byte[] v3 = PINNED_META.clone();
    v3[0] = 3;
    resealWithCrc(PINNED_KEY, v3); // a well-formed record of another version, not a damaged one

    assertNull(DiskFormat.decodeMeta(PINNED_KEY, v3));
  }

  @Test
  void decodeMeta_version1Record_returnsNull() {
    // Version 1 had this layout, but its CRC covered the record only, not the key.
    byte[] v1 = HEX.parseHex("01" + pinnedFields() + "2F887494");

    assertNull(DiskFormat.decodeMeta(PINNED_KEY, v1));
  }

  @Test
  void decodeMeta_underAKeyWithAnySingleFlippedBit_returnsNull() {
    // A flipped bit in a stored key must not index the entry under a URL it was never stored for.
    byte[] key = DiskFormat.metaKey("/object/386");
    byte[] record = DiskFormat.encodeMeta(key, pinnedRecord());
    assertNotNull(DiskFormat.decodeMeta(key, record), "under its own key");

    for (byte[] damagedKey : singleBitFlips(key)) {
      assertNull(DiskFormat.decodeMeta(damagedKey, record), HEX.formatHex(damagedKey));
    }
    assertNull(DiskFormat.decodeMeta(DiskFormat.metaKey("/object/3860"), record), "longer key");
    assertNull(DiskFormat.decodeMeta(DiskFormat.metaKey("/object/38"), record), "shorter key");
  }

  @Test
  void decodeMeta_anySingleFlippedBit_returnsNull() {
    for (byte[] damaged : singleBitFlips(PINNED_META)) {
      assertNull(DiskFormat.decodeMeta(PINNED_KEY, damaged), HEX.formatHex(damaged));
    }
  }

  /** Every copy of {@code bytes} with exactly one bit flipped. */
  private static List<byte[]> singleBitFlips(byte[] bytes) {
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < bytes.length; i++) {
      for (int bit = 0; bit < 8; bit++) {
        byte[] flipped = bytes.clone();
        flipped[i] ^= (byte) (1 << bit);
        out.add(flipped);
      }
    }
    return out;
  }

  @Test
  void decodeMeta_truncatedOrExtended_returnsNull() {
    for (int n = 0; n < PINNED_META.length; n++) {
      assertNull(DiskFormat.decodeMeta(PINNED_KEY, Arrays.copyOf(PINNED_META, n)), "length " + n);
    }
    assertNull(DiskFormat.decodeMeta(PINNED_KEY, Arrays.copyOf(PINNED_META, PINNED_META.length + 1)));
  }

  @Test
  void decodeMeta_lengthsThatDoNotAddUp_returnNull() {
    byte[] wrongCount = PINNED_META.clone();
    wrongCount[24] = 3; // chunk count 3 for 5 bytes in chunks of 4
    resealWithCrc(PINNED_KEY, wrongCount);

    assertNull(DiskFormat.decodeMeta(PINNED_KEY, wrongCount));
  }

  @Test
  void chunkIntact_onlyForTheExactRecord() {
    byte[] body = "hello".getBytes(StandardCharsets.US_ASCII);
    int crc = DiskFormat.crc(body, 0, 5);
    byte[] record = DiskFormat.encodeChunk(body, 0, 5, crc);

    assertTrue(DiskFormat.chunkIntact(record, crc, 5));
    assertFalse(DiskFormat.chunkIntact(record, crc + 1, 5), "CRC the metadata recorded differs");
    assertFalse(DiskFormat.chunkIntact(record, crc, 4), "length differs");
    assertFalse(DiskFormat.chunkIntact((byte[]) null, crc, 5), "missing");
    byte[] flipped = record.clone();
    flipped[DiskFormat.CHUNK_HEADER + 2] ^= 1;
    assertFalse(DiskFormat.chunkIntact(flipped, crc, 5), "payload damaged");
    byte[] otherVersion = record.clone();
    otherVersion[0] = 9;
    assertFalse(DiskFormat.chunkIntact(otherVersion, crc, 5), "unknown version");
  }

  @Test
  void chunkIntact_inADirectBuffer_checksTheSameAsInAnArray() {
    byte[] body = "xxhelloyy".getBytes(StandardCharsets.US_ASCII);
    int crc = DiskFormat.crc(body, 2, 5);
    byte[] record = DiskFormat.encodeChunk(body, 2, 5, crc);
    io.netty.buffer.ByteBuf direct = io.netty.buffer.Unpooled.directBuffer(record.length + 3);
    try {
      direct.writeBytes(new byte[] {7, 7, 7}).readerIndex(3); // a record that does not start at index 0
      direct.writeBytes(record);

      assertTrue(DiskFormat.chunkIntact(direct, crc, 5));
      assertEquals(3, direct.readerIndex(), "looks without reading");
      assertFalse(DiskFormat.chunkIntact(direct, crc + 1, 5), "CRC the metadata recorded differs");
      assertFalse(DiskFormat.chunkIntact(direct, crc, 4), "length differs");
      assertFalse(DiskFormat.chunkIntact((io.netty.buffer.ByteBuf) null, crc, 5), "missing");
      direct.setByte(3 + DiskFormat.CHUNK_HEADER + 4, 'X');
      assertFalse(DiskFormat.chunkIntact(direct, crc, 5), "payload damaged");
    } finally {
      direct.release();
    }
  }

  @Test
  void storedBytes_equalsTheKeyAndValueBytesOfEveryRecord() {
    Entry e = new Entry(new byte[] {1, 2, 3}, new byte[2500], Set.of("a", "bb"));
    int chunkSize = 1024;
    DiskFormat.Meta m = new DiskFormat.Meta(7, 2500, chunkSize, new int[3], e.tags(), e.meta(), 0);

    long written = DiskFormat.metaKey("key").length + DiskFormat.encodeMeta(DiskFormat.metaKey("key"), m).length;
    for (int i = 0; i < 3; i++) {
      written += DiskFormat.chunkKey(7, i).length + DiskFormat.encodeChunk(e.body(), 0, m.chunkLength(i), 0).length;
    }
    assertEquals(written, DiskFormat.storedBytes("key", e, chunkSize));
  }

  private static void resealWithCrc(byte[] metaKey, byte[] record) {
    int end = record.length - 4;
    byte[] covered = Arrays.copyOf(metaKey, metaKey.length + end);
    System.arraycopy(record, 0, covered, metaKey.length, end);
    ByteBuffer.wrap(record, end, 4).putInt(DiskFormat.crc(covered, 0, covered.length));
  }
}
