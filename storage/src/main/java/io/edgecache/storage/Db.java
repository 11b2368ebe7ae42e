package io.edgecache.storage;

import static org.fusesource.leveldbjni.JniDBFactory.factory;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntFunction;
import org.iq80.leveldb.CompressionType;
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
  /** The native database for {@link DirectGet}, or 0 when reads go through leveldbjni's byte arrays. */
  private final long nativeDb;
  private final Probe probe;
  final Path dir;
  /** Set by {@link #close}: the native database is gone, so a direct read must not touch it. */
  private volatile boolean closed;
  /** Buffers over LevelDB's memory that are out ({@link DirectGet#lease}); null when not used. */
  private final Leases leases;

  private Db(DB db, Probe probe, Path dir) {
    this.db = db;
    this.probe = probe;
    this.dir = dir;
    this.nativeDb = DirectGet.AVAILABLE ? DirectGet.handle(db) : 0; // 0: not leveldbjni's, read as before
    this.leases = nativeDb != 0 && DirectGet.LEASES
        ? new Leases(dir, MAX_LEASES, MAX_OLD_LEASES, LEASE_EPOCH_NANOS, System::nanoTime) : null;
  }

  /**
   * Chunk buffers over LevelDB's memory one database lends at a time; past it, chunks are copied.
   * A lease normally lasts one socket write (connections × chunks read ahead); see {@link Leases}.
   */
  static final int MAX_LEASES = 1024;
  /** Of those, how many may be older than one to two {@link #LEASE_EPOCH_NANOS} (stalled readers'). */
  static final int MAX_OLD_LEASES = 16;
  static final long LEASE_EPOCH_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);
  /** How long {@link #close} waits for buffers over LevelDB's memory before leaving the close to the last. */
  static final long CLOSE_WAIT_MILLIS = 5_000;

  /**
   * The database in a directory is damaged (LevelDB reports corruption, or a file it refers to is
   * missing or unreadable as what it should be), as opposed to a directory the process may not
   * use (not writable, locked, out of space), which is a {@link StoreException} of its own.
   */
  static final class Damaged extends StoreException {
    private static final long serialVersionUID = 1L;

    Damaged(Path dir, String what, Throwable cause) {
      super(dir + ": database is damaged: " + what, cause);
    }
  }

  /**
   * Opens (creating if needed) the database in {@code dir}.
   *
   * @throws Damaged when LevelDB finds the files damaged (see {@link DiskStartup})
   * @throws StoreException with one line naming the path and the cause, for every other failure
   */
  static Db open(Path dir, Probe probe) {
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
    ensureRoomToOpen(dir);
    probe.before("open");
    try {
      return new Db(factory.open(dir.toFile(), options().createIfMissing(true)), probe, dir);
    } catch (IOException | DBException e) {
      String message = String.valueOf(e.getMessage());
      if (isDamage(message)) {
        throw new Damaged(dir, message, e);
      }
      throw new StoreException(dir + ": " + explain(message), e);
    }
  }

  /**
   * LevelDB's options for this tier: its defaults, without Snappy block compression. Hits on bodies
   * in table files ran 1.12–1.14× faster without it (bodies that compress paid the decompression
   * on every hit; bodies that do not, such as images, video and gzip, are stored uncompressed by
   * LevelDB either way). The cost is disk space for bodies that would compress.
   *
   * <p>LevelDB does not check a block's checksum on reads, so a byte flipped in an uncompressed
   * block is read as it is. The tier's own checksums cover that ({@link DiskFormat}): every chunk's
   * CRC32C is checked against the one its metadata recorded, and a metadata record's CRC32C covers
   * its key, so a damaged key cannot index an entry under a URL it was never stored for.
   */
  private static Options options() {
    return new Options().compressionType(CompressionType.NONE);
  }

  /**
   * Runs LevelDB's repair on the closed database in {@code dir}: it rebuilds the manifest from the
   * table and log files it can read and moves what it cannot read into {@code dir/lost}.
   *
   * @throws StoreException when the repair fails
   */
  static void repair(Path dir, Probe probe) {
    ensureRoomToOpen(dir);
    try {
      probe.before("repair");
      factory.repair(dir.toFile(), options());
    } catch (IOException | DBException e) {
      throw new StoreException(dir + ": repair failed: " + e.getMessage(), e);
    }
  }

  /**
   * Fails with one line when the file system cannot hold what LevelDB writes while opening (or
   * repairing): it rewrites its log files into a table, then starts a new log and manifest. It
   * writes them through mmap, so running out of space there would kill the process with SIGBUS
   * (measured) instead of failing the open.
   */
  private static void ensureRoomToOpen(Path dir) {
    long logs = 0;
    try (java.util.stream.Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".log")).toList()) {
        logs += Files.size(f);
      }
    } catch (IOException e) {
      return; // LevelDB's own open will say what is wrong with the directory
    }
    long needed = logs + (4L << 20);
    long free = dir.toFile().getUsableSpace();
    if (free < needed) {
      throw new StoreException(dir + ": only " + (free >> 20) + " MiB free on its file system, LevelDB needs about "
          + (needed >> 20) + " MiB to open the database (it rewrites its log into a table): free some space");
    }
  }

  /**
   * Whether an open error means damaged files rather than a directory this process cannot use.
   * The environment's errors (another holder of the lock, permissions, a read-only or full file
   * system, exhausted descriptors or memory) must stop start-up: repairing or moving aside would
   * not help and would throw away a good cache. Anything else LevelDB says at open (corruption,
   * a garbled CURRENT naming a file that does not exist, a bad record) is damage.
   */
  static boolean isDamage(String leveldbMessage) {
    for (String environment : ENVIRONMENT_ERRORS) {
      if (leveldbMessage.contains(environment)) {
        return false;
      }
    }
    return true;
  }

  private static final String[] ENVIRONMENT_ERRORS = {"Resource temporarily unavailable", "already held by process",
      "/LOCK", "Permission denied", "Read-only file system", "No space left on device", "Disk quota exceeded",
      "Too many open files", "Cannot allocate memory"};

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

  /**
   * The value under {@code key} in a buffer the caller owns and releases, or null when absent.
   * When {@code direct} and this JVM allows ({@link DirectGet}), a direct buffer for a socket: over
   * LevelDB's own memory, without a copy, while {@link Leases} allow (never to be written to); else one from {@code alloc} (given its length) filled by one copy out of
   * LevelDB, when {@code alloc} is given. Otherwise a heap buffer over leveldbjni's byte array.
   *
   * @throws OutOfMemoryError when {@code alloc} has no direct memory left for the value
   */
  ByteBuf get(byte[] key, boolean fillCache, boolean direct, IntFunction<ByteBuf> alloc) {
    probe.before("get");
    if (direct && nativeDb != 0) {
      if (closed) {
        throw new DBException("database is closed");
      }
      long stamp = leases == null ? -1 : leases.tryAcquire();
      if (stamp >= 0) {
        ByteBuf leased = null;
        try {
          leased = DirectGet.lease(nativeDb, key, fillCache, () -> leases.returned(stamp));
          return leased;
        } finally {
          if (leased == null) {
            leases.returned(stamp);
          }
        }
      }
      if (alloc != null) {
        return DirectGet.get(nativeDb, key, fillCache, alloc);
      }
    }
    byte[] value = db.get(key, new ReadOptions().fillCache(fillCache));
    return value == null ? null : Unpooled.wrappedBuffer(value);
  }

  /** Buffers over LevelDB's memory out now (0 when none are lent). */
  int leasesOpen() {
    return leases == null ? 0 : leases.open();
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

  /**
   * Closes LevelDB once no buffer over its memory is out: waits up to {@link #CLOSE_WAIT_MILLIS}
   * for them, and when some are still out, the last release closes it ({@link Leases}).
   */
  @Override
  public void close() {
    probe.before("close");
    closed = true;
    if (leases == null) {
      closeQuietly(db);
    } else {
      leases.closeWhenReleased(() -> closeQuietly(db), CLOSE_WAIT_MILLIS);
    }
  }

  private static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException e) {
      // LevelDB's close methods release native memory and do not fail; nothing to report.
    }
  }
}
