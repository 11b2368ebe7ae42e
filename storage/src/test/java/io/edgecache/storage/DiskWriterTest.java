package io.edgecache.storage;

import static io.edgecache.storage.DiskFixtures.randomBytes;
import static io.edgecache.storage.DiskFixtures.randomEntry;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bodies written to the disk tier as they arrive ({@link DiskWriter}): visible only once complete,
 * nothing left behind when abandoned, refused, removed or cut short by a restart, and readable
 * chunk by chunk while still being written.
 *
 * <p>After every test the database is audited (no orphan or missing chunk, index equals metadata
 * records) and LevelDB must have been called from the disk threads only.
 */
class DiskWriterTest {
  private static final int CHUNK = 1024;
  private static final long MAX_BYTES = 16L << 20;
  /** Larger than a writer's window (1 MiB), so that a write can be asked to pause before it is too long. */
  private static final long MAX_OBJECT = 4L << 20;
  private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-30T00:00:00Z"), ZoneOffset.UTC);
  private static final byte[] META = "meta".getBytes(StandardCharsets.UTF_8);

  @TempDir Path tmp;
  private final DiskFixtures.Probe probe = new DiskFixtures.Probe();
  private DiskStore store;

  @BeforeEach
  void open() {
    store = open(MAX_BYTES);
  }

  private DiskStore open(long maxBytes) {
    return DiskStore.open(new DiskOptions(tmp.resolve("db"), maxBytes, CHUNK, 2, MAX_OBJECT, Duration.ofSeconds(30)),
        new DiskStore.Hooks(probe, new AtomicLong()::get, CLOCK));
  }

  @AfterEach
  void databaseMatchesIndexAndOnlyDiskThreadsCalledLevelDb() {
    try {
      probe.failWrites = null;
      DiskRecovery.Audit audit = store.audit();
      assertEquals(0, audit.orphanChunks(), () -> "orphan chunks: " + audit);
      assertEquals(0, audit.missingChunks(), () -> "missing chunks: " + audit);
      assertEquals(0, audit.indexMismatches(), () -> "index mismatches: " + audit);
      assertEquals(0, probe.offPool.get(), () -> "LevelDB called off the disk threads: " + probe.firstOffPool.get());
    } finally {
      store.close();
    }
  }

  private static <T> T join(CompletionStage<T> stage) {
    return stage.toCompletableFuture().join();
  }

  /** Writes {@code body} in pieces of {@code piece} bytes (the last one shorter). */
  private static void writeInPieces(DiskWriter w, byte[] body, int piece) {
    for (int at = 0; at < body.length; at += piece) {
      w.write(body, at, Math.min(piece, body.length - at));
    }
  }

  private DiskWriter writer(String key, long expected, String... tags) {
    DiskWriter w = store.openWriter(key, META, Set.of(tags), expected);
    assertNotNull(w, "writer refused");
    return w;
  }

  private long chunkRecords() {
    return store.audit().chunkRecords();
  }

  @Test
  void commit_completeBody_makesTheEntryVisibleWithIdenticalBytes() {
    byte[] body = randomBytes(10 * CHUNK + 333, 1);
    DiskWriter w = writer("k", body.length, "t");
    writeInPieces(w, body, 700);
    store.awaitIdle();
    assertNull(join(store.get("k")), "not visible before the commit");

    assertTrue(join(w.commit()));

    Entry e = join(store.get("k"));
    assertNotNull(e);
    assertArrayEquals(body, e.body());
    assertArrayEquals(META, e.meta());
    assertEquals(Set.of("t"), e.tags());
    assertEquals(DiskWriter.State.COMMITTED, w.state());
    assertEquals(DiskFormat.storedBytes("k", e, CHUNK), store.stats().bytes());
  }

  @Test
  void commit_unknownLength_storesWhateverArrived() {
    byte[] body = randomBytes(3 * CHUNK, 2);
    DiskWriter w = writer("k", -1);
    writeInPieces(w, body, 512);

    assertTrue(join(w.commit()));

    assertArrayEquals(body, join(store.get("k")).body());
  }

  @Test
  void commit_emptyBody_storesAnEmptyEntry() {
    DiskWriter w = writer("k", 0);

    assertTrue(join(w.commit()));

    assertArrayEquals(new byte[0], join(store.get("k")).body());
  }

  @Test
  void commit_replacingAnOlderEntry_deletesItsChunks() {
    assertTrue(join(writeWhole("k", randomBytes(5 * CHUNK, 3))));
    byte[] newer = randomBytes(2 * CHUNK + 1, 4);

    assertTrue(join(writeWhole("k", newer)));

    assertArrayEquals(newer, join(store.get("k")).body());
    assertEquals(3, chunkRecords());
  }

  private CompletionStage<Boolean> writeWhole(String key, byte[] body) {
    DiskWriter w = writer(key, body.length);
    writeInPieces(w, body, 4096);
    return w.commit();
  }

  @Test
  void commit_shorterThanAnnounced_isRefusedAndLeavesNoChunk() {
    byte[] body = randomBytes(4 * CHUNK, 5);
    DiskWriter w = writer("k", body.length + 1);
    writeInPieces(w, body, 1000);

    assertFalse(join(w.commit()));

    assertNull(join(store.get("k")));
    assertEquals(DiskWriter.State.FAILED, w.state());
    assertEquals(0, chunkRecords());
  }

  @Test
  void write_longerThanAnnounced_failsTheWriteAndLeavesNoChunk() {
    DiskWriter w = writer("k", 2 * CHUNK);
    w.write(randomBytes(3 * CHUNK, 6), 0, 3 * CHUNK);

    assertFalse(join(w.commit()));

    assertNull(join(store.get("k")));
    assertEquals(0, chunkRecords());
    assertEquals(1, store.diskStats().rejected());
  }

  @Test
  void write_pastMaxObjectBytes_failsTheWriteAndLeavesNoChunk() {
    DiskWriter w = writer("k", -1);
    byte[] piece = randomBytes(64 * 1024, 7);
    for (long written = 0; written <= MAX_OBJECT; written += piece.length) {
      assertFalse(w.failing(), "not before the limit is passed");
      w.write(piece, 0, piece.length);
    }
    // the producer learns it at once, before the worker has deleted the chunks: a request that
    // arrives meanwhile must not be made to follow a write that cannot commit
    assertTrue(w.failing());

    assertFalse(join(w.done()));
    assertFalse(join(w.commit()));
    assertEquals(0, chunkRecords());
  }

  @Test
  void openWriter_announcedLongerThanMaxObjectBytes_isRefusedAndRemovesTheOlderEntry() {
    assertTrue(join(writeWhole("k", randomBytes(CHUNK, 8))));

    assertNull(store.openWriter("k", META, Set.of(), MAX_OBJECT + 1));

    store.awaitIdle();
    assertNull(join(store.get("k")), "the older entry no longer matches the origin");
    assertEquals(1, store.diskStats().rejected());
  }

  @Test
  void abort_midway_leavesNoEntryAndNoChunkAndKeepsTheOlderEntry() {
    byte[] older = randomBytes(CHUNK + 5, 9);
    assertTrue(join(writeWhole("k", older)));
    DiskWriter w = writer("k", 8 * CHUNK);
    w.write(randomBytes(5 * CHUNK, 10), 0, 5 * CHUNK);
    store.awaitIdle();
    assertTrue(w.writtenChunks() > 0);

    w.abort();

    assertFalse(join(w.done()));
    assertFalse(join(w.commit()), "a commit after the abort changes nothing");
    assertArrayEquals(older, join(store.get("k")).body());
    assertEquals(2, chunkRecords(), "only the older entry's chunks remain");
  }

  @Test
  void removal_whileWriting_winsOverTheCommit() {
    DiskWriter w = writer("k", 4 * CHUNK, "tag");
    w.write(randomBytes(2 * CHUNK, 11), 0, 2 * CHUNK);

    join(store.removeMatching(Selector.tagged("tag")));
    w.write(randomBytes(2 * CHUNK, 12), 0, 2 * CHUNK);

    assertFalse(join(w.commit()));
    assertNull(join(store.get("k")));
    assertEquals(0, chunkRecords());
    assertEquals(1, store.diskStats().droppedByRemoval());
  }

  @Test
  void removal_beforeTheWriteWasOpened_doesNotStopIt() {
    join(store.removeMatching(Selector.key("k")));

    assertTrue(join(writeWhole("k", randomBytes(3 * CHUNK, 13))));
  }

  @Test
  void writeFails_midway_failsTheWriteStopsStoringAndLeavesNoEntry() {
    DiskWriter w = writer("k", 6 * CHUNK);
    w.write(randomBytes(3 * CHUNK, 14), 0, 3 * CHUNK);
    store.awaitIdle();
    probe.failWrites = "IO error: No space left on device";
    w.write(randomBytes(3 * CHUNK, 15), 0, 3 * CHUNK);

    assertFalse(join(w.commit()));

    assertNull(join(store.get("k")));
    assertFalse(store.diskStats().storing());
    assertTrue(store.diskStats().storeErrors() >= 1);
    probe.failWrites = null;
    assertNull(store.openWriter("other", META, Set.of(), 10), "nothing is stored during the back-off");
    // the failing disk may also have refused to delete the chunks written: the next start sweeps them
    store.close();
    store = open(MAX_BYTES);
    assertNull(join(store.get("k")));
  }

  @Test
  void restart_midWrite_exposesNoPartialEntryAndSweepsItsChunks() {
    DiskWriter w = writer("k", 10 * CHUNK);
    w.write(randomBytes(6 * CHUNK, 16), 0, 6 * CHUNK);
    store.awaitIdle();
    assertEquals(6, w.writtenChunks());

    store.close(); // the process ends here as in a crash: chunks written, no metadata record
    store = open(MAX_BYTES);

    assertNull(join(store.get("k")));
    assertEquals(0, store.stats().entries());
    assertEquals(6, store.diskStats().orphansSwept());
  }

  @Test
  void write_diskBehind_asksToPauseAndRunsWhenRoomOnceItCaughtUp() throws Exception {
    DiskWriter w = writer("k", -1);
    probe.release = new CountDownLatch(1);
    probe.holdOp = "write"; // the first batch a worker writes waits until released
    byte[] chunk = randomBytes(CHUNK, 17);
    int accepted = 0;
    while (w.write(chunk, 0, CHUNK)) {
      accepted++;
      assertTrue(accepted <= w.windowChunks() + 1, "never asked to pause");
    }
    AtomicBoolean room = new AtomicBoolean();
    w.whenRoom(() -> room.set(true));
    assertFalse(room.get(), "room before the disk caught up");

    probe.holdOp = null;
    probe.release.countDown();

    await().atMost(Duration.ofSeconds(10)).untilTrue(room);
    assertTrue(join(w.commit()));
    assertEquals((accepted + 1) * CHUNK, join(store.get("k")).body().length);
  }

  @Test
  void readChunk_whileWriting_returnsTheWrittenChunksAndWhenChunkTellsOfTheNext() {
    byte[] body = randomBytes(5 * CHUNK + 100, 18);
    DiskWriter w = writer("k", body.length);
    w.write(body, 0, 2 * CHUNK);
    CountDownLatch second = new CountDownLatch(1);
    w.whenChunk(1, second::countDown);
    store.awaitIdle();
    assertEquals(0, second.getCount(), "told once chunk 1 was written");

    assertArrayEquals(Arrays.copyOfRange(body, 0, CHUNK), chunk(w, 0));
    assertArrayEquals(Arrays.copyOfRange(body, CHUNK, 2 * CHUNK), chunk(w, 1));
    assertInstanceOf(IllegalStateException.class, failure(w.readChunk(2)));

    w.write(body, 2 * CHUNK, body.length - 2 * CHUNK);
    assertTrue(join(w.commit()));
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (int i = 0; i < w.chunkCount(); i++) {
      all.writeBytes(chunk(w, i));
    }
    assertArrayEquals(body, all.toByteArray());
    assertEquals(body.length, w.finalLength());
  }

  @Test
  void readChunk_payloadIsDirectAndHeldUntilTheReaderReleasesIt() {
    byte[] body = randomBytes(3 * CHUNK, 30);
    DiskWriter w = writer("k", body.length);
    w.write(body, 0, 2 * CHUNK);
    store.awaitIdle();
    long heldBefore = ChunkBuffers.held();

    io.netty.buffer.ByteBuf first = join(w.readChunk(0));
    io.netty.buffer.ByteBuf second = join(w.readChunk(1));

    assertTrue(first.isDirect() && second.isDirect(), "for a socket write without a copy");
    assertEquals(heldBefore + 2, ChunkBuffers.held());
    assertEquals(CHUNK, first.readableBytes(), "the payload, without the record's header");
    first.release();
    assertEquals(heldBefore + 1, ChunkBuffers.held());
    byte[] bytes = io.netty.buffer.ByteBufUtil.getBytes(second);
    second.release();
    assertArrayEquals(Arrays.copyOfRange(body, CHUNK, 2 * CHUNK), bytes);
    assertEquals(heldBefore, ChunkBuffers.held());
    w.write(body, 2 * CHUNK, CHUNK);
    assertTrue(join(w.commit()));
  }

  @Test
  void write_manyChunks_reusesTheRecordsLevelDbWroteAndStoresEveryByte() {
    // the producer fills records the workers have written (it waits for them now and then, so that
    // there are some); a record reused before LevelDB copied it would store another chunk's bytes
    byte[] body = randomBytes(200 * CHUNK + 7, 31);
    DiskWriter w = writer("k", body.length);
    int writes = 0;
    for (int at = 0; at < body.length; writes++) {
      int n = Math.min(3 * CHUNK / 2, body.length - at);
      w.write(body, at, n);
      at += n;
      if (writes % 8 == 7) {
        store.awaitIdle();
      }
    }
    assertTrue(join(w.commit()));
    Entry stored = join(store.get("k"));
    assertNotNull(stored, "read back intact (a chunk that fails its CRC32C removes the entry)");
    assertArrayEquals(body, stored.body());
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (int i = 0; i < w.chunkCount(); i++) {
      all.writeBytes(chunk(w, i));
    }
    assertArrayEquals(body, all.toByteArray());
  }

  @Test
  void readChunk_afterAbort_failsAsGoneAndWhenChunkRuns() {
    DiskWriter w = writer("k", 4 * CHUNK);
    w.write(randomBytes(2 * CHUNK, 19), 0, 2 * CHUNK);
    store.awaitIdle();
    CountDownLatch told = new CountDownLatch(1);
    w.whenChunk(3, told::countDown);

    w.abort();
    join(w.done());

    assertEquals(0, told.getCount());
    assertInstanceOf(EntryGoneException.class, failure(w.readChunk(0)));
  }

  @Test
  void readChunk_ofACommittedWriteReplacedSince_failsAsGone() {
    DiskWriter w = writer("k", 3 * CHUNK);
    w.write(randomBytes(3 * CHUNK, 20), 0, 3 * CHUNK);
    assertTrue(join(w.commit()));

    store.put("k", randomEntry(10, 21));
    store.awaitIdle();

    assertInstanceOf(EntryGoneException.class, failure(w.readChunk(1)));
  }

  @Test
  void tieredStore_openWriter_dropsTheMemoryCopyAndServesTheDiskBodyAfterTheCommit() {
    MemoryStore memory = new MemoryStore(1L << 20, 64 * 1024, Runnable::run);
    TieredStore tiered = new TieredStore(memory, store);
    Entry small = randomEntry(100, 22);
    join(tiered.put("k", small));
    byte[] body = randomBytes(100 * CHUNK, 23);

    DiskWriter w = tiered.openWriter("k", META, Set.of(), body.length);
    assertNull(memory.getNow("k"), "the older copy is out of date");
    writeInPieces(w, body, 8192);
    assertTrue(join(w.commit()));

    Store.Found found = join(tiered.lookup("k"));
    assertEquals(Store.Tier.DISK, found.tier());
    assertEquals(body.length, found.body().length());
  }

  /** Chunk {@code i} of {@code w} read back, its buffer released. */
  private static byte[] chunk(DiskWriter w, int i) {
    io.netty.buffer.ByteBuf b = join(w.readChunk(i));
    try {
      return io.netty.buffer.ByteBufUtil.getBytes(b);
    } finally {
      b.release();
    }
  }

  private static Throwable failure(CompletionStage<?> stage) {
    try {
      stage.toCompletableFuture().join();
    } catch (CompletionException e) {
      return e.getCause();
    }
    throw new AssertionError("expected a failure");
  }
}
