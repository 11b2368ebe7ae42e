package io.edgecache.storage;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opening a disk tier whose files may be damaged: a cache can always be refilled from the origin,
 * so damage must never keep the proxy from starting.
 *
 * <p>How. An attempt opens LevelDB and rebuilds the store's index from it. If LevelDB reports
 * damage at open ({@link Db.Damaged}), or the index rebuild fails (LevelDB iterators report a
 * damaged table or key only when they reach it), the database is closed and LevelDB's repair is
 * run, then a second attempt is made; what repair could not read is lost, and its {@code lost}
 * folder is deleted (it would only grow, and nothing reads it). If the repair or that attempt
 * fails too, the folder is moved aside to {@code <path>.corrupt-<UTC time>} (older such copies are
 * deleted first, so at most one is kept; it is on the same file system and costs its size until
 * deleted) and the store starts empty. When the folder cannot be moved (it is a mount point, or
 * its parent is not writable) its files are deleted instead. One WARN line says what happened.
 *
 * <p>What still fails start-up, with one line: a directory that cannot be created or written, a
 * database locked by another process (or already open in this one), and the file system's own
 * errors (permissions, read-only, full): configuration problems, not damage, and moving the
 * folder aside would throw away a good cache.
 *
 * <p>Threads: runs on the caller's thread, which it blocks; every LevelDB call is made on the
 * store's disk workers.
 */
final class DiskStartup {
  private static final Logger LOG = LoggerFactory.getLogger(DiskStore.class);
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);
  static final String CORRUPT_SUFFIX = ".corrupt-";

  private DiskStartup() {}

  /** What start-up had to do about damage. */
  enum Action { NONE, REPAIRED, MOVED_ASIDE }

  /**
   * Builds a store over an open database and rebuilds its index; runs on a disk worker. A failure
   * means the database is damaged; the store must then make its queued work harmless (it is
   * abandoned, and the database closed once that work has run).
   */
  @FunctionalInterface
  interface Indexer {
    DiskStore index(Db db);
  }

  /** The opened store and what it took. */
  record Opened(DiskStore store, Action action) {}

  static Opened open(Path dir, Db.Probe probe, Clock clock, DiskWorkers workers, Indexer indexer) {
    String damage;
    try {
      return new Opened(attempt(dir, probe, workers, indexer), Action.NONE);
    } catch (Db.Damaged e) {
      damage = what(dir, e);
    }
    String repairFailure;
    try {
      run(workers, () -> {
        Db.repair(dir, probe);
        return null;
      });
      DiskStore store = attempt(dir, probe, workers, indexer);
      try {
        deleteTree(dir.resolve("lost"));
      } catch (IOException e) {
        // left behind: it costs space, nothing else
      }
      LOG.warn("disk tier {}: database is damaged ({}); LevelDB's repair fixed it (what it could not read is dropped)",
          dir, damage);
      return new Opened(store, Action.REPAIRED);
    } catch (Db.Damaged e) {
      repairFailure = "still damaged after LevelDB's repair: " + what(dir, e);
    } catch (StoreException e) {
      if (!e.getMessage().startsWith(dir + ": repair failed")) {
        throw e; // not damage: locked meanwhile, or the file system refuses
      }
      repairFailure = printable(e.getMessage().substring(dir.toString().length() + 2));
    }
    String where = moveAside(dir, clock);
    DiskStore store;
    try {
      store = attempt(dir, probe, workers, indexer);
    } catch (Db.Damaged e) {
      throw new StoreException(dir + ": a new, empty database failed too: " + e.getMessage(), e);
    }
    LOG.warn("disk tier {}: database is damaged ({}); {}; {}, starting empty", dir, damage, repairFailure, where);
    return new Opened(store, Action.MOVED_ASIDE);
  }

  /** Opens LevelDB and rebuilds the index; closes the database again if the rebuild fails. */
  private static DiskStore attempt(Path dir, Db.Probe probe, DiskWorkers workers, Indexer indexer) {
    Db db = run(workers, () -> Db.open(dir, probe));
    try {
      return run(workers, () -> indexer.index(db));
    } catch (RuntimeException e) {
      workers.awaitIdle(); // what the abandoned store queued (evictions) has run, so nothing races close()
      run(workers, () -> {
        db.close();
        return null;
      });
      throw new Db.Damaged(dir, "reading it failed: " + rootMessage(e), e);
    }
  }

  /**
   * Deletes older {@code <name>.corrupt-*} siblings, then moves {@code dir} to a new one; returns
   * what was done, for the log line.
   */
  private static String moveAside(Path dir, Clock clock) {
    Path absolute = dir.toAbsolutePath();
    Path parent = absolute.getParent();
    String prefix = absolute.getFileName() + CORRUPT_SUFFIX;
    if (parent != null) {
      try (Stream<Path> siblings = Files.list(parent)) {
        for (Path old : siblings.filter(p -> p.getFileName().toString().startsWith(prefix)).toList()) {
          deleteTree(old);
        }
      } catch (IOException e) {
        // an older copy stays; the move below still keeps the newest one
      }
      Path aside = parent.resolve(prefix + STAMP.format(clock.instant()));
      try {
        Files.move(absolute, aside, StandardCopyOption.ATOMIC_MOVE);
        return "moved the damaged folder to " + aside;
      } catch (IOException e) {
        // a mount point (EBUSY) or a parent this process may not write: empty the folder in place
        try {
          deleteContents(absolute);
          return "could not move the folder aside (" + reason(e) + "), deleted its files";
        } catch (IOException again) {
          throw new StoreException(dir + ": database is damaged and could neither be moved aside (" + reason(e)
              + ") nor deleted (" + reason(again) + ")", again);
        }
      }
    }
    throw new StoreException(dir + ": database is damaged and has no parent folder to move it aside in");
  }

  private static void deleteContents(Path dir) throws IOException {
    try (Stream<Path> children = Files.list(dir)) {
      for (Path child : children.toList()) {
        deleteTree(child);
      }
    }
  }

  /** Deletes a file or a folder with everything in it; absent is fine. */
  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    List<Path> all;
    try (Stream<Path> walk = Files.walk(root)) {
      all = walk.sorted(Comparator.reverseOrder()).toList();
    }
    for (Path p : all) {
      Files.deleteIfExists(p);
    }
  }

  private static String reason(IOException e) {
    if (e instanceof FileSystemException fs && fs.getReason() != null) {
      return fs.getReason();
    }
    return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
  }

  /** The cause of a {@link Db.Damaged}, without the path, fit for one log line. */
  private static String what(Path dir, Db.Damaged e) {
    String prefix = dir + ": database is damaged: ";
    String m = e.getMessage();
    return printable(m.startsWith(prefix) ? m.substring(prefix.length()) : m);
  }

  /** A garbled CURRENT file names garbage: keep log lines to printable ASCII. */
  private static String printable(String s) {
    StringBuilder b = new StringBuilder(s.length());
    s.codePoints().forEach(c -> b.append(c >= 0x20 && c < 0x7F ? (char) c : '?'));
    return b.toString();
  }

  private static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return String.valueOf(c.getMessage());
  }

  /** Runs {@code work} on a disk worker and waits; a failure is rethrown as it was raised. */
  private static <T> T run(DiskWorkers workers, Supplier<T> work) {
    CompletableFuture<T> f = workers.submit(false, work, null);
    try {
      return f.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw e;
    }
  }
}
