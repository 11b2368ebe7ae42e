package io.edgecache.storage;

import static org.fusesource.leveldbjni.JniDBFactory.factory;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.function.Function;
import org.iq80.leveldb.DB;
import org.iq80.leveldb.DBException;
import org.iq80.leveldb.DBIterator;
import org.iq80.leveldb.Options;
import org.iq80.leveldb.ReadOptions;
import org.iq80.leveldb.Snapshot;
import org.iq80.leveldb.WriteBatch;

/**
 * The one door to LevelDB: every native call of the disk tier goes through here.
 *
 * <p>Each call first tells the {@link Probe}, which is how tests prove that no LevelDB call runs
 * off the worker pool and how they inject write failures. Native resources (batches, snapshots,
 * iterators) never escape a method unclosed. Not thread-confined: LevelDB is thread-safe, and the
 * callers decide which threads call.
 */
final class Db implements AutoCloseable {

  /** Sees every LevelDB call before it is made; may throw a {@link DBException} to fail it. */
  @FunctionalInterface
  interface Probe {
    Probe NONE = op -> {};

    void before(String op);
  }

  /** A forward cursor over keys; closes its native iterator. */
  interface Cursor extends AutoCloseable {
    void seek(byte[] key);

    boolean valid();

    byte[] key();

    byte[] value();

    void next();

    @Override
    void close();
  }

  private final DB db;
  private final Probe probe;
  final Path dir;

  private Db(DB db, Probe probe, Path dir) {
    this.db = db;
    this.probe = probe;
    this.dir = dir;
  }

  /**
   * Opens (creating if needed) the database in {@code dir}.
   *
   * @throws StoreException with one line naming the path and the cause
   */
  static Db open(Path dir, Probe probe, org.slf4j.Logger log) {
    try {
      Files.createDirectories(dir);
    } catch (FileAlreadyExistsException e) {
      throw new StoreException(dir + ": exists and is not a directory", e);
    } catch (FileSystemException e) {
      String reason = e.getReason() != null ? e.getReason() : e.getClass().getSimpleName();
      throw new StoreException(dir + ": cannot create directory: " + reason
          + (e.getFile() != null && !e.getFile().equals(dir.toString()) ? " (" + e.getFile() + ")" : ""), e);
    } catch (IOException e) {
      throw new StoreException(dir + ": cannot create directory: " + e.getMessage(), e);
    }
    if (!Files.isWritable(dir)) {
      throw new StoreException(dir + ": directory is not writable");
    }
    probe.before("open");
    Options options = new Options().createIfMissing(true);
    try {
      return new Db(factory.open(dir.toFile(), options), probe, dir);
    } catch (IOException | DBException e) {
      String message = String.valueOf(e.getMessage());
      if (!message.startsWith("Corruption")) {
        throw new StoreException(dir + ": " + explain(message), e);
      }
      log.warn("disk tier {}: {}; repairing", dir, message);
      try {
        factory.repair(dir.toFile(), options);
        return new Db(factory.open(dir.toFile(), options), probe, dir);
      } catch (IOException | DBException again) {
        throw new StoreException(dir + ": database is corrupt and repair failed: " + again.getMessage(), again);
      }
    }
  }

  /** LevelDB's open error in the words an operator needs. */
  static String explain(String leveldbMessage) {
    if (leveldbMessage.contains("Resource temporarily unavailable")) {
      return "database is locked by another process";
    }
    if (leveldbMessage.contains("already held by process")) {
      return "database is already open in this process";
    }
    if (leveldbMessage.startsWith("IO error: ")) {
      return "cannot open database: " + leveldbMessage.substring("IO error: ".length());
    }
    return "cannot open database: " + leveldbMessage;
  }

  byte[] get(byte[] key) {
    probe.before("get");
    return db.get(key);
  }

  /** Runs {@code reads} against one consistent snapshot, released afterwards. */
  <T> T withSnapshot(Function<ReadOptions, T> reads) {
    probe.before("snapshot");
    Snapshot snapshot = db.getSnapshot();
    try {
      return reads.apply(new ReadOptions().snapshot(snapshot));
    } finally {
      closeQuietly(snapshot);
    }
  }

  byte[] get(byte[] key, ReadOptions options) {
    probe.before("get");
    return db.get(key, options);
  }

  /** Fills a fresh batch and writes it atomically. */
  void write(Consumer<WriteBatch> fill) {
    probe.before("batch");
    WriteBatch batch = db.createWriteBatch();
    try {
      fill.accept(batch);
      probe.before("write");
      db.write(batch);
    } finally {
      closeQuietly(batch);
    }
  }

  Cursor cursor() {
    probe.before("iterate");
    DBIterator it = db.iterator();
    return new Cursor() {
      private java.util.Map.Entry<byte[], byte[]> current;

      @Override
      public void seek(byte[] key) {
        it.seek(key);
        advance();
      }

      @Override
      public boolean valid() {
        return current != null;
      }

      @Override
      public byte[] key() {
        return current.getKey();
      }

      @Override
      public byte[] value() {
        return current.getValue();
      }

      @Override
      public void next() {
        advance();
      }

      // leveldbjni copies key and value on every peekNext and next, so each is read exactly once.
      private void advance() {
        current = it.hasNext() ? it.next() : null;
      }

      @Override
      public void close() {
        closeQuietly(it);
      }
    };
  }

  void compactRange(byte[] from, byte[] to) {
    probe.before("compact");
    db.compactRange(from, to);
  }

  @Override
  public void close() {
    probe.before("close");
    closeQuietly(db);
  }

  private static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException e) {
      // LevelDB's close methods release native memory and do not fail; nothing to report.
    }
  }
}
