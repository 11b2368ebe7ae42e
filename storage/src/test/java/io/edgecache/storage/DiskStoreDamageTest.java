package io.edgecache.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.iq80.leveldb.DBException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Damaged files never stop the disk tier from opening (README, "The disk tier"): LevelDB's repair
 * is tried, and when it cannot help the folder is moved aside and the store starts empty. What
 * opens serves exactly the bytes that were written, and stores again.
 *
 * <p>The seeded cases damage a database left by a real SIGKILL mid-fill ({@link CrashFiller}), as
 * an operator would find it, with 20 byte flips in every LevelDB file (the seed picks offsets and
 * values); the targeted cases damage one file of a cleanly closed database in a known way.
 */
class DiskStoreDamageTest {
  private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-29T20:00:00Z"), ZoneOffset.UTC);

  /** A database left by a SIGKILL mid-fill; each seeded case damages a copy. */
  @TempDir static Path shared;
  private static Path killed;
  private static final Map<DiskStartup.Action, Integer> SEEN = new EnumMap<>(DiskStartup.Action.class);

  @TempDir Path tmp;

  @BeforeAll
  @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  static void fillAndKill() throws Exception {
    killed = shared.resolve("killed");
    String java = ProcessHandle.current().info().command().orElse("java");
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        CrashFiller.class.getName(), killed.toString())
        .redirectError(shared.resolve("child.err").toFile())
        .start();
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(),
        StandardCharsets.UTF_8))) {
      if (!"ready".equals(lines.readLine())) {
        fail("child did not start:\n" + Files.readString(shared.resolve("child.err")));
      }
      long killAt = System.nanoTime() + Duration.ofMillis(1500).toNanos();
      while (System.nanoTime() < killAt) {
        if (lines.readLine() == null) {
          fail("child exited early:\n" + Files.readString(shared.resolve("child.err")));
        }
      }
    } finally {
      child.destroyForcibly();
      assertTrue(child.waitFor(30, TimeUnit.SECONDS), "still running 30 s after SIGKILL");
    }
  }

  @AfterAll
  static void report() {
    System.out.println("damage test: start-up actions over the seeded cases: " + SEEN);
  }

  private static DiskOptions crashOptions(Path dir) {
    return new DiskOptions(dir, CrashFiller.MAX_BYTES, CrashFiller.CHUNK, 2, CrashFiller.MAX_OBJECT,
        Duration.ofSeconds(30));
  }

  private static DiskStore open(DiskOptions options, Db.Probe probe) {
    return DiskStore.open(options, new DiskStore.Hooks(probe, System::nanoTime, CLOCK));
  }

  // ---------------------------------------------------------------- seeded flips after a SIGKILL

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
  void open_afterSigkillAndTwentyFlipsPerFile_opensServesExactBytesAndStores(long seed) throws Exception {
    Path dir = tmp.resolve("db");
    copy(killed, dir);
    flipBytes(dir, seed, 20);

    try (DiskStore store = open(crashOptions(dir), Db.Probe.NONE)) {
      DiskStartup.Action action = actionOf(store);
      synchronized (SEEN) {
        SEEN.merge(action, 1, Integer::sum);
      }
      assertEquals(action == DiskStartup.Action.MOVED_ASIDE, Files.exists(corruptCopy(dir)), "moved-aside copy");
      for (String key : store.keys()) {
        Entry e = store.get(key).toCompletableFuture().join();
        if (e == null) {
          continue; // damaged body found on reading: dropped and counted
        }
        long version = CrashFiller.versionOf(e.meta());
        assertEquals(CrashFiller.keyOf(version), key, "version " + version + " belongs to another key");
        assertArrayEquals(CrashFiller.bodyOf(key, version), e.body(), key + " version " + version);
      }
      assertStoresAgain(store);
    }
  }

  // ---------------------------------------------------------------- targeted damage

  @Test
  void open_manifestTruncated_repairsAndKeepsTheEntries() throws Exception {
    Path dir = filledAndClosed();
    for (Path manifest : files(dir, "MANIFEST-")) {
      try (FileChannel ch = FileChannel.open(manifest, StandardOpenOption.WRITE)) {
        ch.truncate(ch.size() / 3);
      }
    }

    try (DiskStore store = open(options(dir), Db.Probe.NONE)) {
      assertEquals(DiskStartup.Action.REPAIRED, actionOf(store));
      assertEquals(1, store.diskStats().repaired());
      assertEquals(ENTRIES, store.keys().size(), "entries kept by the repair");
      assertEntriesExact(store);
      assertFalse(Files.exists(dir.resolve("lost")), "repair's lost folder is deleted");
      assertStoresAgain(store);
    }
  }

  @Test
  void open_currentNamesAMissingManifest_repairsAndKeepsTheEntries() throws Exception {
    Path dir = filledAndClosed();
    Files.writeString(dir.resolve("CURRENT"), "MANIFEST-424242\n");

    try (DiskStore store = open(options(dir), Db.Probe.NONE)) {
      assertEquals(DiskStartup.Action.REPAIRED, actionOf(store));
      assertEquals(ENTRIES, store.keys().size());
      assertEntriesExact(store);
    }
  }

  @Test
  void open_tableTruncated_opensAndServesOnlyExactBytes() throws Exception {
    Path dir = filledAndClosed();
    List<Path> tables = files(dir, ".sst");
    assertFalse(tables.isEmpty(), "no table file to damage");
    try (FileChannel ch = FileChannel.open(tables.get(0), StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() / 2);
    }

    try (DiskStore store = open(options(dir), Db.Probe.NONE)) {
      assertTrue(actionOf(store) != DiskStartup.Action.NONE, "damage noticed");
      assertEntriesExact(store);
      assertStoresAgain(store);
    }
  }

  @Test
  void open_repairFails_movesTheFolderAsideStartsEmptyAndKeepsOneCopy() throws Exception {
    Path dir = filledAndClosed();
    Db.Probe repairFails = op -> {
      if (op.equals("repair")) {
        throw new DBException("IO error: injected repair failure");
      }
    };
    Path older = dir.resolveSibling(dir.getFileName() + DiskStartup.CORRUPT_SUFFIX + "20260101T000000Z");
    Files.createDirectories(older.resolve("sub"));
    Files.writeString(older.resolve("sub/000001.log"), "an older damaged copy");
    Files.writeString(dir.resolve("CURRENT"), "garbage");

    try (DiskStore store = open(options(dir), repairFails)) {
      assertEquals(DiskStartup.Action.MOVED_ASIDE, actionOf(store));
      assertEquals(1, store.diskStats().movedAside());
      assertEquals(0, store.diskStats().repaired());
      assertEquals(0, store.keys().size(), "starts empty");
      assertStoresAgain(store);
    }
    Path copy = corruptCopy(dir);
    assertEquals(dir.getFileName() + ".corrupt-20261129T200000Z", copy.getFileName().toString());
    assertTrue(Files.exists(copy.resolve("CURRENT")), "the damaged files are kept for a look");
    assertFalse(Files.exists(older), "older copies are deleted");
  }

  @Test
  void open_repairFailsAndTheFolderIsAMountPoint_deletesItsFilesAndStartsEmpty() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("db"));
    Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", dir.toString())
        .redirectErrorStream(true).start();
    boolean exited = mount.waitFor(20, TimeUnit.SECONDS);
    org.junit.jupiter.api.Assumptions.assumeTrue(exited && mount.exitValue() == 0,
        "cannot mount a tmpfs here: " + new String(mount.getInputStream().readAllBytes()).strip());
    try {
      filledAndClosed();
      Files.writeString(dir.resolve("CURRENT"), "garbage");
      Db.Probe repairFails = op -> {
        if (op.equals("repair")) {
          throw new DBException("IO error: injected repair failure");
        }
      };

      try (DiskStore store = open(options(dir), repairFails)) {
        assertEquals(DiskStartup.Action.MOVED_ASIDE, actionOf(store));
        assertEquals(0, store.keys().size(), "starts empty");
        assertStoresAgain(store);
      }
      assertFalse(Files.exists(corruptCopy(dir)), "a mount point cannot be moved: nothing is kept beside it");
    } finally {
      Process umount = new ProcessBuilder("umount", dir.toString()).redirectErrorStream(true).start();
      assertTrue(umount.waitFor(20, TimeUnit.SECONDS) && umount.exitValue() == 0, "umount");
    }
  }

  @Test
  void open_fileSystemFull_failsWithOneLineInsteadOfDyingInLevelDb() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("db"));
    Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", dir.toString())
        .redirectErrorStream(true).start();
    boolean exited = mount.waitFor(20, TimeUnit.SECONDS);
    org.junit.jupiter.api.Assumptions.assumeTrue(exited && mount.exitValue() == 0,
        "cannot mount a tmpfs here: " + new String(mount.getInputStream().readAllBytes()).strip());
    try {
      try (DiskStore store = open(options(dir), Db.Probe.NONE)) {
        for (int i = 0; i < 100; i++) { // about 2 MiB, all in LevelDB's log
          store.put(key(i), DiskFixtures.randomEntry(20_000 + i, i)).toCompletableFuture().join();
        }
      }
      try (FileChannel ballast = FileChannel.open(dir.resolve("ballast"), StandardOpenOption.CREATE,
          StandardOpenOption.WRITE)) {
        ByteBuffer block = ByteBuffer.allocate(1 << 16);
        while (true) {
          try {
            ballast.write(block.clear());
          } catch (IOException full) {
            break;
          }
        }
      }

      // opening would replay the log into a table through mmap: SIGBUS on a full file system
      StoreException e = org.junit.jupiter.api.Assertions.assertThrows(StoreException.class,
          () -> open(options(dir), Db.Probe.NONE));
      assertTrue(e.getMessage().startsWith(dir + ": only 0 MiB free on its file system, LevelDB needs about "),
          e.getMessage());
      assertTrue(Files.exists(dir.resolve("CURRENT")), "the database is left as it was");
    } finally {
      Process umount = new ProcessBuilder("umount", dir.toString()).redirectErrorStream(true).start();
      assertTrue(umount.waitFor(20, TimeUnit.SECONDS) && umount.exitValue() == 0, "umount");
    }
  }

  @Test
  void open_indexRebuildFailsEvenAfterRepair_movesTheFolderAside() throws Exception {
    Path dir = filledAndClosed();
    Db.Probe iterationFails = op -> {
      if (op.equals("iterate")) {
        throw new RuntimeException(new Exception("Corruption: corrupted internal key in DBIter (injected)"));
      }
    };

    // every attempt fails to read, including the one on the new, empty database
    StoreException e = org.junit.jupiter.api.Assertions.assertThrows(StoreException.class,
        () -> open(options(dir), iterationFails));
    assertTrue(e.getMessage().startsWith(dir + ": a new, empty database failed too: "), e.getMessage());
    assertFalse(e.getMessage().contains("\n"));
    assertTrue(Files.exists(corruptCopy(dir)));
  }

  @Test
  void open_undamaged_reportsNoRecovery() throws Exception {
    Path dir = filledAndClosed();

    try (DiskStore store = open(options(dir), Db.Probe.NONE)) {
      assertEquals(DiskStartup.Action.NONE, actionOf(store));
      assertEquals(0, store.diskStats().repaired() + store.diskStats().movedAside());
      assertEquals(ENTRIES, store.keys().size());
    }
  }

  @Test
  void isDamage_environmentErrorsAreNotDamage() {
    assertFalse(Db.isDamage("IO error: lock /x/LOCK: Resource temporarily unavailable"));
    assertFalse(Db.isDamage("IO error: lock /x/LOCK: already held by process"));
    assertFalse(Db.isDamage("IO error: /x/000005.log: No space left on device"));
    assertFalse(Db.isDamage("IO error: /x/CURRENT: Permission denied"));
    assertTrue(Db.isDamage("Corruption: CURRENT file does not end with newline"));
    assertTrue(Db.isDamage("IO error: /x/MANIFEST-000009: No such file or directory"));
    assertTrue(Db.isDamage("Corruption: corrupted compressed block contents"));
  }

  // ---------------------------------------------------------------- helpers

  private static final int ENTRIES = 300;

  private DiskOptions options(Path dir) {
    // a small minFreeBytes: one case runs on a 64 MiB tmpfs
    return new DiskOptions(dir, 64L << 20, 4096, 2, 1L << 20, Duration.ofSeconds(30)).withMinFreeBytes(8L << 20);
  }

  /**
   * A database of {@link #ENTRIES} entries (about 6 MiB, more than LevelDB's 4 MiB write buffer, so
   * there are table files), closed, opened and closed again so the log is replayed into a table too.
   */
  private Path filledAndClosed() {
    Path dir = tmp.resolve("db");
    try (DiskStore store = open(options(dir), Db.Probe.NONE)) {
      for (int i = 0; i < ENTRIES; i++) {
        store.put(key(i), DiskFixtures.randomEntry(20_000 + i, i)).toCompletableFuture().join();
      }
    }
    open(options(dir), Db.Probe.NONE).close();
    return dir;
  }

  private static String key(int i) {
    return "http://edge.test/object/" + i;
  }

  private static void assertEntriesExact(DiskStore store) {
    for (int i = 0; i < ENTRIES; i++) {
      Entry e = store.get(key(i)).toCompletableFuture().join();
      if (e != null) {
        Entry expected = DiskFixtures.randomEntry(20_000 + i, i);
        assertArrayEquals(expected.body(), e.body(), key(i));
        assertArrayEquals(expected.meta(), e.meta(), key(i));
      }
    }
  }

  private static void assertStoresAgain(DiskStore store) {
    Entry fresh = DiskFixtures.randomEntry(50_000, 99);
    store.put("http://edge.test/after-damage", fresh).toCompletableFuture().join();
    Entry back = store.get("http://edge.test/after-damage").toCompletableFuture().join();
    assertNotNull(back, "stores after start-up: " + store.diskStats());
    assertArrayEquals(fresh.body(), back.body());
  }

  private static DiskStartup.Action actionOf(DiskStore store) {
    DiskStats s = store.diskStats();
    return s.movedAside() > 0 ? DiskStartup.Action.MOVED_ASIDE
        : s.repaired() > 0 ? DiskStartup.Action.REPAIRED : DiskStartup.Action.NONE;
  }

  private static Path corruptCopy(Path dir) throws IOException {
    try (Stream<Path> siblings = Files.list(dir.getParent())) {
      List<Path> copies = siblings.filter(p -> p.getFileName().toString()
          .startsWith(dir.getFileName() + DiskStartup.CORRUPT_SUFFIX)).toList();
      assertTrue(copies.size() <= 1, "at most one copy kept: " + copies);
      return copies.isEmpty() ? dir.resolveSibling("none") : copies.get(0);
    }
  }

  private static List<Path> files(Path dir, String part) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().contains(part)).sorted().toList();
    }
  }

  private static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> s = Files.list(from)) {
      for (Path f : s.toList()) {
        if (Files.isRegularFile(f)) {
          Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  /** XORs {@code flips} seeded random bytes with a non-zero value in every LevelDB file. */
  static void flipBytes(Path dir, long seed, int flips) throws IOException {
    SplittableRandom random = new SplittableRandom(seed);
    List<Path> targets = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.sorted().forEach(f -> {
        String n = f.getFileName().toString();
        if (n.endsWith(".sst") || n.endsWith(".ldb") || n.endsWith(".log") || n.startsWith("MANIFEST-")
            || n.equals("CURRENT")) {
          targets.add(f);
        }
      });
    }
    for (Path f : targets) {
      try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        long size = ch.size();
        for (int i = 0; i < flips && size > 0; i++) {
          long at = random.nextLong(size);
          ByteBuffer b = ByteBuffer.allocate(1);
          ch.read(b, at);
          b.put(0, (byte) (b.get(0) ^ (1 + random.nextInt(255))));
          ch.write(b.rewind(), at);
        }
      }
    }
  }
}
