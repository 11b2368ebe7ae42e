package io.edgecache.storage;

import static io.edgecache.storage.DiskFixtures.bytesOf;
import static io.edgecache.storage.DiskFixtures.randomBytes;
import static io.edgecache.storage.DiskFixtures.randomEntry;
import static io.edgecache.storage.DiskFixtures.rawMeta;
import static io.edgecache.storage.DiskFixtures.withRawDb;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk tier: the shared store contract, then persistence, integrity, bounds and failures.
 *
 * <p>Every test runs with a probe on every LevelDB call; after each test the database is audited
 * (no orphan or missing chunk, index equals metadata records) and the probe must have seen no call
 * off the disk threads.
 */
class DiskStoreTest extends StoreContractTest {
  private static final int CHUNK = 1024;
  private static final long MAX_BYTES = 256 * 1024;
  private static final long MAX_OBJECT = 64 * 1024;
  private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-27T00:00:00Z"), ZoneOffset.UTC);

  @TempDir Path tmp;
  private final DiskFixtures.Probe probe = new DiskFixtures.Probe();
  private final AtomicLong nanos = new AtomicLong();

  private Path dir() {
    return tmp.resolve("db");
  }

  private DiskOptions options() {
    return new DiskOptions(dir(), MAX_BYTES, CHUNK, 2, MAX_OBJECT, Duration.ofSeconds(30));
  }

  private DiskStore open(DiskOptions options) {
    return DiskStore.open(options, new DiskStore.Hooks(probe, nanos::get, CLOCK));
  }

  @Override
  protected Store newStore() {
    return open(options());
  }

  @Override
  protected long expectedWeight(String key, Entry entry) {
    return DiskFormat.storedBytes(key, entry, CHUNK);
  }

  private DiskStore disk() {
    return (DiskStore) store;
  }

  private void reopen() {
    store.close();
    store = newStore();
  }

  @Override
  protected boolean streamsToDisk() {
    return true;
  }

  @Override
  protected void awaitIdle() {
    disk().awaitIdle();
  }

  @Override
  protected void restart() {
    reopen();
  }

  @Override
  protected boolean persistent() {
    return true;
  }

  @AfterEach
  void databaseMatchesIndexAndOnlyDiskThreadsCalledLevelDb() {
    DiskRecovery.Audit audit = disk().audit();
    assertEquals(0, audit.orphanChunks(), () -> "orphan chunks: " + audit);
    assertEquals(0, audit.missingChunks(), () -> "missing chunks: " + audit);
    assertEquals(0, audit.indexMismatches(), () -> "index mismatches: " + audit);
    assertEquals(0, probe.offPool.get(), () -> "LevelDB called off the disk threads: " + probe.firstOffPool.get());
    assertTrue(probe.calls.get() > 0);
  }

  private static void assertSameEntry(Entry expected, Entry actual) {
    assertNotNull(actual);
    assertArrayEquals(expected.meta(), actual.meta());
    assertArrayEquals(expected.body(), actual.body());
    assertEquals(expected.tags(), actual.tags());
  }

  private static Throwable failureOf(CompletableFuture<?> f) {
    CompletionException e = assertThrows(CompletionException.class, f::join);
    return e.getCause();
  }

  // ---------------------------------------------------------------- bytes in, same bytes out

  @Test
  void get_multiChunkBody_returnsIdenticalBytes() {
    Entry e = randomEntry(3 * CHUNK + 17, 1, "a", "b");
    put("k", e);

    assertSameEntry(e, get("k"));
  }

  @Test
  void reopen_afterClose_returnsIdenticalBytesForAllEntries() {
    Map<String, Entry> entries = new LinkedHashMap<>();
    int[] sizes = {0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK, 5 * CHUNK + 3, 40_000};
    for (int i = 0; i < sizes.length; i++) {
      entries.put("k" + i, randomEntry(sizes[i], i, "tag" + (i % 3)));
    }
    entries.forEach(this::put);
    StoreStats before = store.stats();

    reopen();

    entries.forEach((k, e) -> assertSameEntry(e, get(k)));
    assertEquals(before.entries(), store.stats().entries());
    assertEquals(before.bytes(), store.stats().bytes());
  }

  @Test
  void reopen_withAnotherChunkSize_readsEntriesInTheChunksTheyWereWrittenIn() {
    Entry old = randomEntry(5 * CHUNK + 3, 1, "a");
    put("old", old);
    store.close();

    store = open(new DiskOptions(dir(), MAX_BYTES, 4 * CHUNK, 2, MAX_OBJECT, Duration.ofSeconds(30)));
    Entry fresh = randomEntry(5 * CHUNK + 3, 2, "a");
    put("new", fresh);

    assertSameEntry(old, get("old"));
    assertSameEntry(fresh, get("new"));
    assertEquals(DiskFormat.storedBytes("new", fresh, 4 * CHUNK) + DiskFormat.storedBytes("old", old, CHUNK),
        store.stats().bytes());

    reopen(); // back to CHUNK
    assertSameEntry(old, get("old"));
    assertSameEntry(fresh, get("new"));
    assertTrue(store.remove("new").toCompletableFuture().join()); // the contract's check weighs in CHUNK
  }

  @Test
  void reopen_withSmallerMaxBytes_evictsDownToTheNewBound() {
    for (int i = 0; i < 40; i++) {
      put("k" + i, randomEntry(4000, i));
    }
    store.close();
    long smaller = 64 * 1024;

    store = open(new DiskOptions(dir(), smaller, CHUNK, 2, MAX_OBJECT, Duration.ofSeconds(30)));

    assertTrue(store.stats().bytes() <= smaller, () -> "bytes " + store.stats().bytes());
    assertTrue(store.stats().evictions() > 0);
  }

  @Test
  void put_manySmallEntriesUnderAnIndexHeapBound_evictsToKeepTheIndexWithinIt() {
    long indexMax = 16 * 1024;
    try (DiskStore small = open(new DiskOptions(tmp.resolve("small"), MAX_BYTES, CHUNK, 2, MAX_OBJECT,
        Duration.ofSeconds(30)).withIndexMaxBytes(indexMax))) {
      for (int i = 0; i < 400; i++) {
        join(small.put("key-" + i, entry("x")));
      }
      small.awaitIdle();
      long heap = 0;
      for (String k : small.keys()) {
        heap += DiskStore.INDEX_ENTRY_BYTES + Entry.keyBytes(k);
      }
      long indexHeap = heap;
      assertTrue(indexHeap <= indexMax, () -> "index heap " + indexHeap + " (expected: <= " + indexMax + ")");
      assertTrue(small.stats().evictions() > 0, "the index bound, not the disk bound, evicted");
      assertTrue(small.keys().size() > 40, () -> "kept " + small.keys().size());
    }
  }

  // ---------------------------------------------------------------- integrity

  @Test
  void get_chunkWithOneFlippedByte_returnsMissCountsAndRemovesTheEntry() {
    put("k", randomEntry(3 * CHUNK, 7));
    put("other", randomEntry(2 * CHUNK, 8));
    store.close();
    withRawDb(dir(), db -> {
      byte[] chunkKey = DiskFormat.chunkKey(rawMeta(db, "k").generation(), 1);
      byte[] record = db.get(chunkKey);
      record[DiskFormat.CHUNK_HEADER + 100] ^= 0x01;
      db.put(chunkKey, record);
    });
    store = newStore();

    assertNull(get("k"));
    assertEquals(1, disk().diskStats().checksumFailures());
    assertFalse(disk().keys().contains("k"));
    assertNotNull(get("other"));
  }

  @Test
  void get_chunkMissing_returnsMissCountsAndRemovesTheEntry() {
    put("k", randomEntry(3 * CHUNK, 7));
    store.close();
    withRawDb(dir(), db -> db.delete(DiskFormat.chunkKey(rawMeta(db, "k").generation(), 2)));
    store = newStore();

    assertNull(get("k"));
    assertEquals(1, disk().diskStats().checksumFailures());
    assertEquals(0, store.stats().entries());
  }

  @Test
  void readChunk_flippedByte_failsWithCorruptEntryAfterTheIntactChunks() {
    Entry e = randomEntry(3 * CHUNK, 9);
    put("k", e);
    store.close();
    withRawDb(dir(), db -> {
      byte[] chunkKey = DiskFormat.chunkKey(rawMeta(db, "k").generation(), 1);
      byte[] record = db.get(chunkKey);
      record[record.length - 1] ^= (byte) 0x80;
      db.put(chunkKey, record);
    });
    store = newStore();
    DiskBody body = join(disk().openBody("k"));

    assertArrayEquals(java.util.Arrays.copyOf(e.body(), CHUNK), bytesOf(join(body.readChunk(0))));
    assertInstanceOf(CorruptEntryException.class, failureOf(body.readChunk(1).toCompletableFuture()));
    assertNull(get("k"));
    assertEquals(1, disk().diskStats().checksumFailures());
  }

  @Test
  void open_metadataRecordOfUnknownVersion_isTreatedAsAbsentAndRemoved() {
    put("kept", entry("x"));
    store.close();
    byte[] otherVersion = DiskFormat.encodeMeta(DiskFormat.metaKey("ghost"),
        new DiskFormat.Meta(5, 0, CHUNK, new int[0], Set.of(), new byte[0], 0));
    otherVersion[0] = 9;
    withRawDb(dir(), db -> db.put(DiskFormat.metaKey("ghost"), otherVersion));

    store = newStore();

    assertNull(get("ghost"));
    assertEquals(1, disk().diskStats().discardedRecords());
    assertNotNull(get("kept"));
    store.close();
    withRawDb(dir(), db -> assertNull(db.get(DiskFormat.metaKey("ghost"))));
    store = newStore();
  }

  @Test
  void open_metadataRecordUnderADamagedKey_isNotIndexedUnderThatKey() {
    // What a flipped byte in a stored key looks like: the record of "object/386" under "object@386".
    put("object/386", entry("x"));
    put("kept", entry("y"));
    store.close();
    withRawDb(dir(), db -> {
      db.put(DiskFormat.metaKey("object@386"), db.get(DiskFormat.metaKey("object/386")));
      db.delete(DiskFormat.metaKey("object/386"));
    });

    store = newStore();

    assertNull(get("object@386"));
    assertNull(get("object/386"));
    assertEquals(1, disk().diskStats().discardedRecords());
    assertNotNull(get("kept"));
  }

  @Test
  void open_orphanChunksFromAnUnfinishedWrite_areSweptAndCounted() {
    Entry e = randomEntry(2 * CHUNK, 3);
    put("k", e);
    store.close();
    withRawDb(dir(), db -> {
      for (int i = 0; i < 3; i++) {
        db.put(DiskFormat.chunkKey(1_000_000, i), DiskFormat.encodeChunk(new byte[10], 0, 10, 0));
      }
      db.put(DiskFormat.chunkKey(0, 0), new byte[] {1}); // below every generation
    });

    store = newStore();

    assertEquals(4, disk().diskStats().orphansSwept());
    assertSameEntry(e, get("k"));
    put("after", randomEntry(2 * CHUNK, 4)); // generations continue past the swept ones
    assertNotNull(get("after"));
  }

  @Test
  void open_orphanChunkKeyBeyondTheGenerationRange_doesNotBecomeTheNextGeneration() {
    put("k", entry("x"));
    store.close();
    withRawDb(dir(), db -> db.put(DiskFormat.chunkKey(DiskFormat.MAX_GENERATION + 7, 0), new byte[] {1}));

    store = newStore();

    Entry after = randomEntry(2 * CHUNK, 5);
    put("after", after); // a generation past the range would make its metadata record undecodable
    assertSameEntry(after, get("after"));
    assertEquals(0, disk().diskStats().checksumFailures());
  }

  // ---------------------------------------------------------------- bounds

  @Test
  void put_farPastMaxBytes_staysWithinFivePercentEvictsAndCompacts() {
    int puts = 600; // about 9 × maxBytes
    for (int i = 0; i < puts; i++) {
      put("k" + i, randomEntry(3000 + (i % 7) * 200, i));
      assertTrue(store.stats().bytes() <= MAX_BYTES * 1.05, () -> "bytes " + store.stats().bytes());
    }
    disk().awaitIdle();

    DiskStats stats = disk().diskStats();
    assertTrue(stats.evictions() > 0);
    assertEquals(puts - stats.entries(), stats.evictions());
    assertTrue(stats.compactions() > 0, "deleting ~2 MiB must have compacted at least once");
  }

  /** Fills the tier with 1 KiB entries ("h0" ...) and reads each 4 times, as a warm cache's are; returns their count. */
  private int fillWithEntriesReadFourTimes() {
    int n = (int) (MAX_BYTES / 1000); // a little more than the tier holds: it is full
    for (int i = 0; i < n; i++) {
      put("h" + i, randomEntry(1024, i));
    }
    for (int r = 0; r < 4; r++) {
      for (int i = 0; i < n; i++) {
        get("h" + i);
      }
    }
    disk().awaitIdle();
    return n;
  }

  private int present(String prefix, int count) {
    int found = 0;
    for (int i = 0; i < count; i++) {
      found += join(store.metadata(prefix + i)) != null ? 1 : 0; // a purge's look, not a use
    }
    return found;
  }

  @Test
  void put_largeNewEntry_inAFullTierOfEntriesReadSeveralTimes_isKept() {
    fillWithEntriesReadFourTimes();
    long evictedBefore = disk().diskStats().evictions();

    Entry large = randomEntry(16 * 1024, 99); // over 1% of maxBytes: more than Caffeine's first admission window
    put("new", large);
    disk().awaitIdle();

    // Judged at once with one use against entries read 4 times, it was evicted as it was
    // committed: written whole, deleted, and fetched and written again at the next request
    assertSameEntry(large, get("new"));
    assertTrue(store.stats().bytes() <= MAX_BYTES, () -> "bytes " + store.stats().bytes());
    assertTrue(disk().diskStats().evictions() > evictedBefore, "room is made by evicting the tier's coldest");
  }

  @Test
  void put_scanOfLargeEntriesReadOnce_dropsTheScanAndKeepsTheEntriesInUse() {
    int n = fillWithEntriesReadFourTimes();
    int hot = present("h", n);

    int scan = 40; // 640 KiB of large bodies through a 256 KiB tier, each stored once and never read
    for (int i = 0; i < scan; i++) {
      put("scan" + i, randomEntry(16 * 1024, 1000 + i));
      assertTrue(store.stats().bytes() <= MAX_BYTES, () -> "bytes " + store.stats().bytes());
    }
    disk().awaitIdle();

    assertTrue(present("scan", scan) <= 2, () -> present("scan", scan) + " of the scan kept");
    int hotAfter = present("h", n);
    assertTrue(hotAfter >= hot * 8 / 10, () -> hotAfter + " of " + hot + " entries in use kept");
  }

  @Test
  void put_bodyOverMaxObjectBytes_isRejectedCountedAndRemovesTheOlderEntry() {
    put("k", entry("small"));
    put("k", new Entry(new byte[0], new byte[(int) MAX_OBJECT + 1], Set.of()));

    assertNull(get("k"));
    assertEquals(1, store.stats().rejected());
  }

  // ---------------------------------------------------------------- streaming

  @Test
  void openBody_fiveMiBInQuarterMiBChunks_streamsTheOriginalBytes() {
    try (DiskStore big = open(new DiskOptions(tmp.resolve("big"), 64L << 20, 256 * 1024, 2, 16L << 20,
        Duration.ofSeconds(30)))) {
      byte[] body = randomBytes(5 << 20, 42);
      join(big.put("large", new Entry(new byte[] {9}, body, Set.of("t"))));

      DiskBody opened = join(big.openBody("large"));
      assertEquals(body.length, opened.length());
      assertEquals(20, opened.chunkCount());
      assertEquals(Set.of("t"), opened.tags());
      assertEquals(CLOCK.millis(), opened.storedAtMillis());
      ByteArrayOutputStream streamed = new ByteArrayOutputStream();
      for (int i = 0; i < opened.chunkCount(); i++) {
        streamed.writeBytes(bytesOf(join(opened.readChunk(i))));
      }
      assertArrayEquals(body, streamed.toByteArray());
    }
  }

  @Test
  void readChunks_runEndingOnAPartialLastChunk_holdsExactlyTheBodyBytesFromItsFirstChunk() {
    Entry e = randomEntry(3 * CHUNK + CHUNK / 2, 11);
    put("k", e);
    DiskBody body = join(disk().openBody("k"));

    long heldBefore = ChunkBuffers.held();
    ChunkRun run = join(body.readChunks(1, 10)); // asks past the end: clamped to the last chunk
    assertEquals(1, run.first());
    assertEquals(4, run.next());
    assertNull(run.stoppedBy());
    if (DirectGet.AVAILABLE) {
      assertEquals(heldBefore + 3, ChunkBuffers.held(), "each chunk in a direct buffer of the disk tier's pool");
    }
    java.util.List<byte[]> payloads = run.copyAndRelease();
    assertEquals(heldBefore, ChunkBuffers.held(), "released with the run");
    assertEquals(CHUNK / 2, payloads.get(2).length, "the last chunk holds only what remains of the body");
    ByteArrayOutputStream joined = new ByteArrayOutputStream();
    payloads.forEach(joined::writeBytes);
    assertArrayEquals(java.util.Arrays.copyOfRange(e.body(), CHUNK, e.body().length), joined.toByteArray());
  }

  @Test
  void readChunks_payloadsAreDirectAndOwnedByTheRunUntilTaken() {
    Entry e = randomEntry(2 * CHUNK, 13);
    put("k", e);
    DiskBody body = join(disk().openBody("k"));
    long heldBefore = ChunkBuffers.held();

    assertTrue(DirectGet.AVAILABLE, "leveldbjni's internals are reachable");

    ChunkRun run = join(body.readChunks(0, 2));
    io.netty.buffer.ByteBuf taken = run.take(0);
    assertTrue(taken.isDirect());
    assertThrows(IllegalStateException.class, () -> run.take(0), "a chunk is taken once");
    run.release(); // frees chunk 1, not the taken chunk 0
    run.release();
    assertEquals(heldBefore + 1, ChunkBuffers.held());
    byte[] bytes = io.netty.buffer.ByteBufUtil.getBytes(taken);
    assertArrayEquals(java.util.Arrays.copyOf(e.body(), CHUNK), bytes);
    taken.release();
    assertEquals(heldBefore, ChunkBuffers.held());
    assertThrows(IllegalStateException.class, () -> run.take(1), "released");
  }

  @Test
  void readChunks_damagedChunkInsideTheRun_holdsTheIntactChunksBeforeItSaysWhyAndRemovesTheEntry() {
    Entry e = randomEntry(5 * CHUNK, 12);
    put("k", e);
    store.close();
    withRawDb(dir(), db -> {
      byte[] chunkKey = DiskFormat.chunkKey(rawMeta(db, "k").generation(), 3);
      byte[] record = db.get(chunkKey);
      record[DiskFormat.CHUNK_HEADER] ^= 0x10;
      db.put(chunkKey, record);
    });
    store = newStore();
    DiskBody body = join(disk().openBody("k"));

    long heldBefore = ChunkBuffers.held();
    ChunkRun run = join(body.readChunks(1, 4));
    assertEquals(3, run.next(), "chunks 1 and 2, not the damaged 3 nor the intact 4 after it");
    java.util.List<byte[]> payloads = run.copyAndRelease();
    assertEquals(heldBefore, ChunkBuffers.held(), "the damaged chunk's buffer was freed too");
    assertArrayEquals(java.util.Arrays.copyOfRange(e.body(), CHUNK, 2 * CHUNK), payloads.get(0));
    assertArrayEquals(java.util.Arrays.copyOfRange(e.body(), 2 * CHUNK, 3 * CHUNK), payloads.get(1));
    assertInstanceOf(CorruptEntryException.class, run.stoppedBy());
    assertEquals(1, disk().diskStats().checksumFailures());
    assertNull(get("k"));
  }

  @Test
  void readChunks_firstChunkDamaged_failsWithCorruptEntryAndReturnsNoBytes() {
    put("k", randomEntry(3 * CHUNK, 13));
    store.close();
    withRawDb(dir(), db -> db.delete(DiskFormat.chunkKey(rawMeta(db, "k").generation(), 0)));
    store = newStore();
    DiskBody body = join(disk().openBody("k"));

    assertInstanceOf(CorruptEntryException.class, failureOf(body.readChunks(0, 3).toCompletableFuture()));
    assertEquals(1, disk().diskStats().checksumFailures());
  }

  @Test
  void readChunks_outsideTheBody_failsWithIndexOutOfBounds() {
    put("k", randomEntry(2 * CHUNK, 14));
    DiskBody body = join(disk().openBody("k"));

    assertInstanceOf(IndexOutOfBoundsException.class, failureOf(body.readChunks(2, 1).toCompletableFuture()));
    assertInstanceOf(IndexOutOfBoundsException.class, failureOf(body.readChunks(-1, 1).toCompletableFuture()));
    assertInstanceOf(IndexOutOfBoundsException.class, failureOf(body.readChunks(0, 0).toCompletableFuture()));
  }

  @Test
  void openBody_ofAnUnchangedEntry_reusesTheOpenedBodyWithoutTouchingLevelDb() {
    put("k", randomEntry(3 * CHUNK, 16));
    DiskBody first = join(disk().openBody("k"));
    long calls = probe.calls.get();

    CompletableFuture<DiskBody> again = disk().openBody("k").toCompletableFuture();
    assertTrue(again.isDone(), "a reused body is there at once, without a hand-off to a disk thread");
    assertSame(first, again.join());
    assertEquals(calls, probe.calls.get(), "no LevelDB call");
  }

  @Test
  void openBody_afterSoftPurgeRewroteTheMetadata_handsOutTheNewMetadataOverTheSameChunks() {
    Entry e = randomEntry(3 * CHUNK, 17);
    put("k", e);
    DiskBody before = join(disk().openBody("k"));
    join(store.rewriteMatching(Selector.keys(Set.of("k")), meta -> new byte[] {42}));

    DiskBody after = join(disk().openBody("k"));
    assertArrayEquals(new byte[] {42}, after.meta());
    assertArrayEquals(java.util.Arrays.copyOf(e.body(), CHUNK), bytesOf(join(after.readChunk(0))));
    assertArrayEquals(e.meta(), before.meta(), "a body opened before keeps what it was opened with");
  }

  @Test
  void openBody_afterTheEntryWasReplacedOrRemoved_neverHandsOutTheOldBody() {
    put("k", randomEntry(3 * CHUNK, 18));
    DiskBody old = join(disk().openBody("k"));
    Entry newer = randomEntry(2 * CHUNK, 19);
    put("k", newer);

    DiskBody current = join(disk().openBody("k"));
    assertNotSame(old, current);
    assertArrayEquals(newer.meta(), current.meta());
    assertEquals(newer.body().length, current.length());
    join(store.removeMatching(Selector.keys(Set.of("k"))));
    assertNull(join(disk().openBody("k")));
  }

  @Test
  void openBody_absentKey_returnsNull() {
    assertNull(join(disk().openBody("nope")));
  }

  @Test
  void readChunk_entryReplacedAfterOpen_failsWithEntryGoneAndCountsNothing() {
    put("k", randomEntry(3 * CHUNK, 1));
    DiskBody opened = join(disk().openBody("k"));
    Entry newer = randomEntry(3 * CHUNK, 2);
    put("k", newer);

    assertInstanceOf(EntryGoneException.class, failureOf(opened.readChunk(0).toCompletableFuture()));
    assertEquals(0, disk().diskStats().checksumFailures());
    assertSameEntry(newer, get("k"));
  }

  /**
   * A body being sent when its entry is replaced, purged or evicted keeps being readable to its
   * holder, as an unlinked file that is open: the index lets go at once, the chunks stay until
   * the last hold is released and are deleted then (the audit after each test finds no orphan).
   */
  @Test
  void hold_entryReplacedRemovedOrEvictedWhileRead_staysReadableUntilReleasedThenItsChunksGo() {
    Entry first = randomEntry(3 * CHUNK, 21);
    put("k", first);
    DiskBody opened = join(disk().openBody("k"));
    Store.Pin hold = opened.hold();
    Store.Pin second = opened.hold();
    Entry newer = randomEntry(3 * CHUNK, 22);
    put("k", newer); // replaced while read

    assertArrayEquals(java.util.Arrays.copyOfRange(first.body(), 2 * CHUNK, 3 * CHUNK), bytesOf(join(opened.readChunk(2))));
    assertSameEntry(newer, get("k"));
    assertTrue(disk().bytesHeldForReaders() > 0, "the replaced chunks wait for their readers");
    assertSame(Store.Pin.NONE, opened.hold(), "no new hold on a replaced body");
    hold.release();
    hold.release(); // a second release of the same hold does nothing
    awaitIdle();
    assertArrayEquals(java.util.Arrays.copyOf(first.body(), CHUNK), bytesOf(join(opened.readChunk(0))),
        "another holder still reads it");
    second.release();
    awaitIdle();
    assertInstanceOf(EntryGoneException.class, failureOf(opened.readChunk(0).toCompletableFuture()));
    assertEquals(0, disk().bytesHeldForReaders());

    DiskBody current = join(disk().openBody("k"));
    Store.Pin onRemoved = current.hold();
    assertTrue(join(disk().remove("k"))); // purged while read
    assertNull(get("k"));
    assertArrayEquals(java.util.Arrays.copyOf(newer.body(), CHUNK), bytesOf(join(current.readChunk(0))));
    onRemoved.release();
    awaitIdle();
    assertInstanceOf(EntryGoneException.class, failureOf(current.readChunk(0).toCompletableFuture()));
    assertEquals(0, disk().bytesHeldForReaders());
  }

  @Test
  void concurrentWritesReadsAndRemovals_neverServeWrongBytesAndLeaveNoOrphans() throws Exception {
    int threads = 4;
    int opsPerThread = 400;
    java.util.concurrent.ExecutorService callers = java.util.concurrent.Executors.newFixedThreadPool(threads);
    java.util.concurrent.atomic.AtomicLong versions = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicLong verifiedReads = new java.util.concurrent.atomic.AtomicLong();
    List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
    for (int t = 0; t < threads; t++) {
      long seed = t;
      done.add(callers.submit(() -> {
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        for (int i = 0; i < opsPerThread; i++) {
          String key = "k" + random.nextInt(24); // ~1.4 × maxBytes: evictions race too
          int op = random.nextInt(10);
          if (op < 5) {
            long v = versions.incrementAndGet();
            join(store.put(key, versioned(key, v)));
          } else if (op < 9) {
            Entry e = join(store.get(key));
            if (e != null) {
              long v = Long.parseLong(new String(e.meta(), java.nio.charset.StandardCharsets.UTF_8));
              assertArrayEquals(versioned(key, v).body(), e.body(), key + " v" + v);
              verifiedReads.incrementAndGet();
            }
          } else {
            join(store.remove(key));
          }
        }
        return null;
      }));
    }
    for (java.util.concurrent.Future<?> f : done) {
      f.get();
    }
    callers.shutdown();

    assertTrue(verifiedReads.get() > 0);
    assertTrue(disk().diskStats().evictions() > 0);
    long entries = 0;
    long bytes = 0;
    DiskRecovery.Audit audit = disk().audit();
    assertEquals(0, audit.orphanChunks() + audit.missingChunks() + audit.indexMismatches(), audit::toString);
    for (int k = 0; k < 24; k++) {
      Entry e = get("k" + k);
      if (e != null) {
        entries++;
        bytes += expectedWeight("k" + k, e);
      }
    }
    assertEquals(entries, store.stats().entries());
    assertEquals(bytes, store.stats().bytes());
    assertTrue(bytes <= MAX_BYTES);
    join(store.clear()); // these keys were not written through put(), which the contract's check follows
  }

  /** Up to 30 chunks, a pure function of key and version; the version is the meta. */
  private static Entry versioned(String key, long version) {
    int size = (int) ((version * 7919 + key.hashCode()) % (30 * CHUNK));
    return new Entry(Long.toString(version).getBytes(java.nio.charset.StandardCharsets.UTF_8),
        randomBytes(Math.abs(size), key.hashCode() * 31L + version), Set.of());
  }

  // ---------------------------------------------------------------- threads

  @Test
  void everyOperation_callsLevelDbOnlyOnDiskThreadsAndCompletesThere() throws Exception {
    put("a/1", randomEntry(2 * CHUNK, 1, "t"));
    put("a/2", entry("two", "t"));
    join(disk().openBody("a/1").thenCompose(b -> b.readChunk(1)));
    join(store.keys(Selector.tagged("t")));
    join(store.removeMatching(Selector.tagged("t")));
    put("b", entry("b"));

    // Hold the worker inside LevelDB so the continuation is attached before the stage completes.
    probe.release = new CountDownLatch(1);
    probe.holdOp = "snapshot";
    CompletableFuture<String> thread =
        store.get("b").thenApply(e -> Thread.currentThread().getName()).toCompletableFuture();
    probe.release.countDown();

    assertTrue(thread.get().startsWith("edgecache-disk-"), thread.get());
    probe.holdOp = null;
    assertEquals(0, probe.offPool.get(), () -> probe.firstOffPool.get());
  }

  // ---------------------------------------------------------------- failures

  @Test
  void put_whenWritesFail_storesNothingCountsKeepsReadingAndRetriesAfterBackOff() {
    Entry before = entry("before");
    put("before", before);
    probe.failWrites = "IO error: " + dir() + "/000012.log: No space left on device";

    put("during", entry("during"));

    assertNull(get("during"));
    assertEquals(1, disk().diskStats().storeErrors());
    assertFalse(disk().diskStats().storing());
    assertSameEntry(before, get("before"));

    probe.failWrites = null;
    nanos.addAndGet(Duration.ofSeconds(29).toNanos());
    put("still-backing-off", entry("x"));
    assertNull(get("still-backing-off"));

    nanos.addAndGet(Duration.ofSeconds(2).toNanos());
    put("after", entry("after"));
    assertNotNull(get("after"));
    assertTrue(disk().diskStats().storing());
    assertEquals(1, disk().diskStats().storeErrors());
  }

  @Test
  void open_sameDirectoryTwice_failsWithOneLineNamingPathAndCause() {
    StoreException e = assertThrows(StoreException.class, () -> DiskStore.open(options()));

    assertEquals(dir() + ": database is already open in this process", e.getMessage());
  }

  @Test
  void open_pathUnderARegularFile_failsWithOneLineNamingPathAndCause() throws Exception {
    Path file = Files.createFile(tmp.resolve("plain-file"));
    Path below = file.resolve("cache");

    StoreException e = assertThrows(StoreException.class,
        () -> DiskStore.open(DiskOptions.of(below, MAX_BYTES, MAX_OBJECT)));

    assertEquals(below + ": cannot create directory: Not a directory", e.getMessage());
  }

  @Test
  void open_pathIsARegularFile_failsWithOneLineNamingPathAndCause() throws Exception {
    Path file = Files.createFile(tmp.resolve("plain-file"));

    StoreException e = assertThrows(StoreException.class,
        () -> DiskStore.open(DiskOptions.of(file, MAX_BYTES, MAX_OBJECT)));

    assertEquals(file + ": exists and is not a directory", e.getMessage());
  }

  @Test
  void closedStore_readsMissWritesAreSkippedRemovalsFail() {
    put("k", entry("x"));
    DiskStore closed = disk();
    closed.close();
    store = newStore(); // a fresh store for the invariants

    assertNull(join(closed.get("k")));
    join(closed.put("k2", entry("y")));
    assertInstanceOf(StoreException.class, failureOf(closed.removeMatching(Selector.prefix("")).toCompletableFuture()));
  }
}
