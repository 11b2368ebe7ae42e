package io.edgecache.storage;

import static org.fusesource.leveldbjni.JniDBFactory.factory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.iq80.leveldb.CompressionType;
import org.iq80.leveldb.DB;
import org.iq80.leveldb.DBException;
import org.iq80.leveldb.Options;

/** Helpers for disk-tier tests: a probe on every LevelDB call, raw database access, test bodies. */
final class DiskFixtures {
  private DiskFixtures() {}

  /**
   * Counts LevelDB calls and those made off the disk threads; can fail writes and hold one
   * operation until released, to observe which thread completes a stage.
   */
  static final class Probe implements Db.Probe {
    final AtomicLong calls = new AtomicLong();
    final AtomicLong offPool = new AtomicLong();
    final AtomicReference<String> firstOffPool = new AtomicReference<>();
    volatile String failWrites;
    volatile String holdOp;
    volatile CountDownLatch release;

    @Override
    public void before(String op) {
      calls.incrementAndGet();
      String thread = Thread.currentThread().getName();
      if (!thread.startsWith("edgecache-disk")) {
        offPool.incrementAndGet();
        firstOffPool.compareAndSet(null, op + " on " + thread);
      }
      if (op.equals(holdOp)) {
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      String failure = failWrites;
      if (failure != null && op.equals("write")) {
        throw new DBException(failure);
      }
    }
  }

  /** Opens the closed database in {@code dir} directly, bypassing the store, and closes it again. */
  static void withRawDb(Path dir, Consumer<DB> action) {
    try (DB db = factory.open(dir.toFile(), new Options().compressionType(CompressionType.NONE))) {
      action.accept(db);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The metadata record of {@code key} in a raw database. */
  static DiskFormat.Meta rawMeta(DB db, String key) {
    byte[] metaKey = DiskFormat.metaKey(key);
    return DiskFormat.decodeMeta(metaKey, db.get(metaKey));
  }

  /** The bytes from {@code b}'s position to its limit, which stay as they were. */
  static byte[] bytesOf(java.nio.ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  static byte[] randomBytes(int n, long seed) {
    byte[] b = new byte[n];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  static Entry randomEntry(int bodyBytes, long seed, String... tags) {
    return new Entry(("meta-" + seed).getBytes(StandardCharsets.UTF_8), randomBytes(bodyBytes, seed), Set.of(tags));
  }

  static long directorySize(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      return files.mapToLong(p -> p.toFile().length()).sum();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
