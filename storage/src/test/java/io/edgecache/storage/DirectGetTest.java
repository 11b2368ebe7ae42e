package io.edgecache.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The direct read finds exactly the key asked for: a value from the memtable and from a table
 * file, and nothing for a key that is absent (before, between or after the stored ones) or deleted.
 * A leased value (no copy) keeps its bytes until released, whatever LevelDB does meanwhile, and
 * LevelDB is not closed under it.
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

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void leasedValues_keepTheirBytesAfterDeletesNewWritesAndCompactionsReplaceWhereTheyWere() {
    assertTrue(DirectGet.LEASES, "leases usable in this build");
    byte[] inMemtable = random(300 * 1024, 1);
    byte[] inTable = random(200 * 1024, 2);
    long heldBefore = ChunkBuffers.held();
    try (Db db = Db.open(dir.resolve("db"), Db.Probe.NONE)) {
      db.write(b -> b.put(bytes("t"), inTable));
      db.compactRange(null, null); // "t" now in a table file
      db.write(b -> b.put(bytes("m"), inMemtable)); // "m" in the memtable
      ByteBuf fromTable = db.get(bytes("t"), false, true, null);
      ByteBuf fromMemtable = db.get(bytes("m"), false, true, null);
      assertNotNull(fromTable);
      assertNotNull(fromMemtable);
      assertEquals(2, db.leasesOpen(), "both read without a copy");
      assertEquals(heldBefore + 2, ChunkBuffers.held(), "counted as chunk buffers held");
      assertTrue(fromTable.hasMemoryAddress() && fromMemtable.hasMemoryAddress(), "direct, for a socket");

      // Everything the two values were read from is replaced: the keys are deleted, the memtable
      // is flushed, new data is written and every table file is compacted into new ones.
      db.write(b -> {
        b.delete(bytes("t"));
        b.delete(bytes("m"));
      });
      for (int i = 0; i < 24; i++) {
        byte[] filler = random(256 * 1024, 100 + i);
        byte[] key = bytes("filler" + (i % 6));
        db.write(b -> b.put(key, filler));
      }
      db.compactRange(null, null);
      assertNull(read(db, "t"), "deleted");
      assertNull(read(db, "m"), "deleted");

      assertArrayEquals(inTable, ByteBufUtil.getBytes(fromTable), "the table file's bytes, as read");
      assertArrayEquals(inMemtable, ByteBufUtil.getBytes(fromMemtable), "the memtable's bytes, as read");
      fromTable.release();
      fromMemtable.release();
      assertEquals(0, db.leasesOpen());
      assertEquals(heldBefore, ChunkBuffers.held());
    }
  }

  @Test
  void pastTheBoundOfLeases_valuesAreCopied_andAbsentKeysTakeNoLease() {
    assertTrue(DirectGet.LEASES);
    List<ByteBuf> out = new ArrayList<>();
    try (Db db = Db.open(dir.resolve("db"), Db.Probe.NONE)) {
      db.write(b -> b.put(bytes("k"), bytes("value")));
      assertNull(db.get(bytes("absent"), false, true, null));
      assertEquals(0, db.leasesOpen(), "a miss gives its lease back");
      try {
        for (int i = 0; i < Db.MAX_LEASES; i++) {
          out.add(db.get(bytes("k"), false, true, null));
        }
        assertEquals(Db.MAX_LEASES, db.leasesOpen());
        ByteBuf copied = db.get(bytes("k"), false, true, Unpooled::directBuffer);
        out.add(copied);
        assertEquals(Db.MAX_LEASES, db.leasesOpen(), "no lease past the bound");
        assertArrayEquals(bytes("value"), ByteBufUtil.getBytes(copied));
        assertArrayEquals(bytes("value"), ByteBufUtil.getBytes(out.get(0)));
      } finally {
        out.forEach(ByteBuf::release);
      }
      assertEquals(0, db.leasesOpen());
    }
  }

  @Test
  void close_waitsForLeasedBuffers_thenLevelDbIsClosedAndTheDirectoryCanBeOpenedAgain() throws Exception {
    assertTrue(DirectGet.LEASES);
    byte[] value = random(64 * 1024, 3);
    Db db = Db.open(dir.resolve("db"), Db.Probe.NONE);
    db.write(b -> b.put(bytes("k"), value));
    ByteBuf leased = db.get(bytes("k"), false, true, null);
    CountDownLatch closed = new CountDownLatch(1);
    Thread closer = new Thread(() -> {
      db.close();
      closed.countDown();
    });
    closer.start();
    assertFalse(closed.await(300, TimeUnit.MILLISECONDS), "close waits while a buffer is out");
    assertArrayEquals(value, ByteBufUtil.getBytes(leased), "and the buffer's bytes are intact meanwhile");
    leased.release();
    assertTrue(closed.await(5, TimeUnit.SECONDS), "the release lets close finish");
    try (Db again = Db.open(dir.resolve("db"), Db.Probe.NONE)) {
      assertArrayEquals(value, read(again, "k"), "closed cleanly: the lock is free and the data there");
    }
  }

  @Test
  void leases_closeLeftToTheLastRelease_whenBuffersOutliveTheWait() throws Exception {
    Leases leases = new Leases(dir, 2, 2, TimeUnit.SECONDS.toNanos(1), System::nanoTime);
    long a = leases.tryAcquire();
    long b = leases.tryAcquire();
    assertTrue(a >= 0 && b >= 0);
    assertEquals(-1, leases.tryAcquire(), "at most 2");
    AtomicBoolean closedEarly = new AtomicBoolean();
    CountDownLatch closed = new CountDownLatch(1);
    leases.closeWhenReleased(() -> {
      closedEarly.set(leases.open() > 0);
      closed.countDown();
    }, 50);
    assertEquals(1, closed.getCount(), "not closed while 2 are out");
    leases.returned(a);
    assertEquals(-1, leases.tryAcquire(), "no new lease once closing");
    assertFalse(closed.await(100, TimeUnit.MILLISECONDS), "1 still out");
    leases.returned(b);
    assertTrue(closed.await(5, TimeUnit.SECONDS), "the last release closes");
    assertFalse(closedEarly.get());
  }

  @Test
  void leases_stuckOnesBeyondTheOldBound_makeNewReadsCopyUntilOneIsReleased() {
    long[] now = {0};
    long second = TimeUnit.SECONDS.toNanos(1);
    Leases leases = new Leases(dir, 100, 3, second, () -> now[0]);
    long[] stuck = {leases.tryAcquire(), leases.tryAcquire(), leases.tryAcquire()};
    now[0] += second;
    long young = leases.tryAcquire();
    assertTrue(young >= 0, "one epoch on, the three are not old yet");
    now[0] += second;
    assertEquals(-1, leases.tryAcquire(), "two epochs on, 3 old leases are out: new reads are copied");
    leases.returned(young);
    assertEquals(-1, leases.tryAcquire(), "a young one's release does not free the old bound");
    leases.returned(stuck[1]);
    long next = leases.tryAcquire();
    assertTrue(next >= 0, "one stuck lease released: leases again");
    now[0] += 10 * second;
    assertEquals(-1, leases.tryAcquire(), "after a long gap every lease out is old: 3 again");
    leases.returned(next);
    long again = leases.tryAcquire();
    assertTrue(again >= 0, "2 old: leases again");
    leases.returned(again);
    leases.returned(stuck[0]);
    leases.returned(stuck[2]);
    assertEquals(0, leases.open());
  }
}
