package io.edgecache.storage;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A child process for {@link DiskStoreCrashTest}: fills a disk store until it is killed.
 *
 * <p>Run as {@code java -cp <test classpath> io.edgecache.storage.CrashFiller <dir>}. Prints
 * {@code ready} once the store is open, then {@code committed N} every 50 commits. Keeps up to 16
 * writes in flight over 400 keys, so replacements and (with a 16 MiB bound) evictions race with new
 * writes. One write in eight is 1 to 3 MiB of 1 KiB chunks, written in several batches before its
 * commit, so a kill between a write's first batch and its commit (which leaves orphans) is likely;
 * every other one of those is written as it would arrive from an origin, through a
 * {@link DiskWriter}. Every body is a pure function of key and version, and the version is the entry's meta, so a
 * reader can check every byte.
 */
public final class CrashFiller {
  static final int CHUNK = 1024;
  static final long MAX_BYTES = 16L << 20;
  static final long MAX_OBJECT = 4L << 20;
  static final int KEYS = 400;

  private CrashFiller() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = System.out;
    DiskStore store = DiskStore.open(new DiskOptions(Path.of(args[0]), MAX_BYTES, CHUNK, 2, MAX_OBJECT,
        Duration.ofSeconds(30)));
    out.println("ready");
    out.flush();
    Semaphore inFlight = new Semaphore(16);
    AtomicLong committed = new AtomicLong();
    for (long version = 1; ; version++) {
      inFlight.acquire();
      String key = keyOf(version);
      Entry entry = entryOf(key, version);
      CompletionStage<?> written = version % 16 == 0 ? stream(store, key, entry) : store.put(key, entry);
      written.whenComplete((x, t) -> {
        inFlight.release();
        long n = committed.incrementAndGet();
        if (n % 50 == 0) {
          synchronized (out) {
            out.println("committed " + n);
            out.flush();
          }
        }
      });
    }
  }

  /**
   * Writes {@code entry} as a body that arrives in 16 KiB pieces ({@link DiskStore#openWriter}),
   * pausing while the writer asks to; a refused write completes at once.
   */
  private static CompletionStage<?> stream(DiskStore store, String key, Entry entry) throws InterruptedException {
    DiskWriter w = store.openWriter(key, entry.meta(), entry.tags(), entry.body().length);
    if (w == null) {
      return CompletableFuture.completedFuture(null);
    }
    byte[] body = entry.body();
    for (int at = 0; at < body.length; at += 16 * 1024) {
      if (!w.write(body, at, Math.min(16 * 1024, body.length - at))) {
        CountDownLatch room = new CountDownLatch(1);
        w.whenRoom(room::countDown);
        room.await();
      }
    }
    return w.commit();
  }

  static String keyOf(long version) {
    return "http://example.test/object/" + (version * 7919 % KEYS);
  }

  static Entry entryOf(String key, long version) {
    return new Entry(metaOf(version), bodyOf(key, version), Set.of("v" + version % 3));
  }

  static byte[] metaOf(long version) {
    return ("version=" + version).getBytes(StandardCharsets.UTF_8);
  }

  /** The version recorded in {@code meta}. */
  static long versionOf(byte[] meta) {
    return Long.parseLong(new String(meta, StandardCharsets.UTF_8).substring("version=".length()));
  }

  /** Between 0 and 100 KiB, or for one version in eight 1 to 3 MiB; seeded by key and version. */
  static byte[] bodyOf(String key, long version) {
    SplittableRandom random = new SplittableRandom(key.hashCode() * 31L + version);
    int size = version % 8 == 0 ? (1 << 20) + random.nextInt(2 << 20) : random.nextInt(100 * 1024 + 1);
    byte[] body = new byte[size];
    random.nextBytes(body);
    return body;
  }
}
