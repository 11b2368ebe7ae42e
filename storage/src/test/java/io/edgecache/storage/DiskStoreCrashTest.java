package io.edgecache.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety with a real crash: a child JVM ({@link CrashFiller}) fills a store and is killed
 * with SIGKILL mid-fill; the store reopened here must serve exactly the bytes that were written
 * for every entry it shows, and hold no orphan chunk after start-up.
 */
class DiskStoreCrashTest {
  @TempDir Path tmp;

  /** Every child JVM the test started: {@link #killChildren} ends them whatever the test did. */
  private final List<Process> children = new ArrayList<>();

  /**
   * Kills (SIGKILL) and reaps every child JVM, after a pass, a failed assertion or a timeout alike,
   * so none outlives the test holding the store's lock; runs before the temporary directory is deleted.
   */
  @AfterEach
  void killChildren() throws InterruptedException {
    for (Process p : children) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    List<Long> survivors = new ArrayList<>();
    for (Process p : children) {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        survivors.add(p.pid());
      }
    }
    children.clear();
    assertEquals(List.of(), survivors, "child JVMs still running after SIGKILL");
  }

  private DiskOptions options(Path dir) {
    return new DiskOptions(dir, CrashFiller.MAX_BYTES, CrashFiller.CHUNK, 2, CrashFiller.MAX_OBJECT,
        Duration.ofSeconds(30));
  }

  @Test
  // a separate thread, so that a child that stops writing cannot hold the test in readLine() past the
  // timeout: the test fails and killChildren() ends the child
  @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void sigkillMidFill_everyVisibleEntryIsExactAndOrphansAreSwept() throws Exception {
    Path dir = tmp.resolve("db");
    Path childErr = tmp.resolve("child.err");
    String java = ProcessHandle.current().info().command().orElse("java");
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        CrashFiller.class.getName(), dir.toString())
        .redirectError(childErr.toFile())
        .start();
    children.add(child);
    long committedAtKill;
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(child.getInputStream(),
        StandardCharsets.UTF_8))) {
      String first = lines.readLine();
      if (!"ready".equals(first)) {
        child.waitFor(10, TimeUnit.SECONDS); // let it finish writing its error
        fail("child did not start: " + first + "\n" + Files.readString(childErr));
      }

      StoreException locked = assertThrows(StoreException.class, () -> DiskStore.open(options(dir)));
      assertEquals(dir + ": database is locked by another process", locked.getMessage());

      // Let it fill for about 1.5 s (reading its progress keeps its stdout from blocking), then kill.
      long killAt = System.nanoTime() + Duration.ofMillis(1500).toNanos();
      String last = first;
      while (System.nanoTime() < killAt || last.equals("ready")) {
        last = lines.readLine();
        if (last == null) {
          fail("child exited early:\n" + Files.readString(childErr));
        }
      }
      child.destroyForcibly();
      assertTrue(child.waitFor(30, TimeUnit.SECONDS), "still running 30 s after SIGKILL");
      assertEquals(137, child.exitValue(), "killed by SIGKILL");
      committedAtKill = Long.parseLong(last.substring("committed ".length()));
    }

    try (DiskStore store = DiskStore.open(options(dir))) {
      var keys = store.keys();
      assertFalse(keys.isEmpty());
      for (String key : keys) {
        Entry e = store.get(key).toCompletableFuture().join();
        assertNotNull(e, key);
        long version = CrashFiller.versionOf(e.meta());
        assertEquals(CrashFiller.keyOf(version), key, "version " + version + " belongs to another key");
        assertArrayEquals(CrashFiller.bodyOf(key, version), e.body(), key + " version " + version);
        assertEquals(CrashFiller.entryOf(key, version).tags(), e.tags());
      }
      DiskStats stats = store.diskStats();
      assertEquals(0, stats.checksumFailures());
      DiskRecovery.Audit audit = store.audit();
      assertEquals(0, audit.orphanChunks(), audit::toString);
      assertEquals(0, audit.missingChunks(), audit::toString);
      assertEquals(0, audit.indexMismatches(), audit::toString);
      System.out.printf("crash test: ~%d puts before SIGKILL; %d entries verified; %d orphan chunks swept%n",
          committedAtKill, keys.size(), stats.orphansSwept());
    }
  }
}
