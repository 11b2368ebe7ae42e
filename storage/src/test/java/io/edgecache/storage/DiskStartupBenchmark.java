package io.edgecache.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Semaphore;
import java.util.stream.Stream;

/**
 * How long the disk tier takes to start with many entries: index rebuild plus orphan sweep.
 *
 * <p>Not run by the tests. Run after {@code mvn -pl storage test-compile} with
 * {@code java -cp storage/target/classes:storage/target/test-classes:<deps> 
 * io.edgecache.storage.DiskStartupBenchmark [entries=1000000] [bodyBytes=512] [dir]}. It fills a
 * fresh directory (deleted afterwards unless given), closes, reopens three times and prints the
 * times. The first reopen reads from the page cache too: drop caches before it for a cold figure.
 */
public final class DiskStartupBenchmark {
  private DiskStartupBenchmark() {}

  public static void main(String[] args) throws Exception {
    int entries = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    int bodyBytes = args.length > 1 ? Integer.parseInt(args[1]) : 512;
    boolean keep = args.length > 2;
    Path dir = keep ? Path.of(args[2]) : Files.createTempDirectory("edgecache-bench");
    DiskOptions options = DiskOptions.of(dir, (long) entries * (bodyBytes + 256) * 2, 1 << 20);
    try {
      long t0 = System.nanoTime();
      try (DiskStore store = DiskStore.open(options)) {
        Semaphore inFlight = new Semaphore(256);
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < entries; i++) {
          byte[] body = new byte[bodyBytes];
          random.nextBytes(body);
          inFlight.acquireUninterruptibly();
          store.put(key(i), new Entry(new byte[64], body, Set.of())).whenComplete((x, t) -> inFlight.release());
        }
        inFlight.acquireUninterruptibly(256);
        store.awaitIdle();
        System.out.printf("fill: %d entries of %d B in %.1f s; %d indexed, %d MiB on disk%n", entries, bodyBytes,
            seconds(t0), store.stats().entries(), DiskFixtures.directorySize(dir) >> 20);
      }
      for (int run = 1; run <= 3; run++) {
        Runtime.getRuntime().gc();
        long heapBefore = usedHeap();
        long t1 = System.nanoTime();
        try (DiskStore store = DiskStore.open(options)) {
          double opened = seconds(t1);
          Runtime.getRuntime().gc();
          System.out.printf("reopen %d: %.2f s for %d entries (%.1f µs/entry); index heap ≈ %d MiB%n", run, opened,
              store.stats().entries(), opened * 1e6 / store.stats().entries(), (usedHeap() - heapBefore) >> 20);
        }
      }
    } finally {
      if (!keep) {
        deleteRecursively(dir);
      }
    }
  }

  private static String key(int i) {
    return "http://bench.example/assets/" + i + "/image.png";
  }

  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }

  private static long usedHeap() {
    Runtime r = Runtime.getRuntime();
    return r.totalMemory() - r.freeMemory();
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
