package io.edgecache.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The direct read finds exactly the key asked for: a value from the memtable and from a table
 * file, and nothing for a key that is absent (before, between or after the stored ones) or deleted.
 */
class DirectGetTest {
  @TempDir
  Path dir;

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] read(Db db, String key) {
    ByteBuf b = db.get(bytes(key), false, true, Unpooled::directBuffer);
    if (b == null) {
      return null;
    }
    try {
      assertTrue(b.hasMemoryAddress(), "a direct buffer");
      return ByteBufUtil.getBytes(b);
    } finally {
      b.release();
    }
  }

  @Test
  void exactKeysOnly_fromTheMemtableAndFromTableFiles() {
    assertTrue(DirectGet.AVAILABLE, "leveldbjni's internals as expected in this build");
    byte[] big = new byte[300 * 1024];
    new Random(7).nextBytes(big);
    try (Db db = Db.open(dir.resolve("db"), Db.Probe.NONE)) {
      db.write(b -> {
        b.put(bytes("k1"), bytes("one"));
        b.put(bytes("k3"), big);
        b.put(bytes("k5"), bytes("five"));
        b.put(bytes("k7"), new byte[0]);
      });
      db.write(b -> b.delete(bytes("k5")));
      for (int pass = 0; pass < 2; pass++) { // pass 1 reads from the table file the compaction wrote
        String where = pass == 0 ? "memtable" : "table file";
        assertArrayEquals(bytes("one"), read(db, "k1"), where);
        assertArrayEquals(big, read(db, "k3"), where);
        assertArrayEquals(new byte[0], read(db, "k7"), where);
        assertNull(read(db, "k0"), "before the first key, " + where);
        assertNull(read(db, "k2"), "between two keys, " + where);
        assertNull(read(db, "k1x"), "a longer key sharing a prefix, " + where);
        assertNull(read(db, "k"), "a shorter key that is a prefix, " + where);
        assertNull(read(db, "k5"), "deleted, " + where);
        assertNull(read(db, "k9"), "after the last key, " + where);
        db.compactRange(null, null);
      }
    }
  }
}
