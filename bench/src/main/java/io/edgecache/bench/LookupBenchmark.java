package io.edgecache.bench;

import io.edgecache.proxy.cache.CacheKey;
import io.edgecache.proxy.cache.HeapLayout;
import io.edgecache.proxy.cache.HttpCache;
import io.edgecache.proxy.cache.Tags;
import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.ResponseView;
import io.edgecache.storage.DiskOptions;
import io.edgecache.storage.DiskStore;
import io.edgecache.storage.MemoryStore;
import io.edgecache.storage.Store;
import io.edgecache.storage.TieredStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Looking a request up in a cache of 100,000 URLs: the {@link Store#lookup} the request path
 * makes, and the {@link HttpCache#lookup} around it that {@code Exchange} calls at LOOKUP (store
 * read, decoded response kept with the entry, Vary spec and secondary key for varying URLs).
 *
 * <p>{@code tiers=memory} is the default configuration ({@code disk.path: null}): the
 * {@link MemoryStore} alone, sized and weighed as the proxy builds it. {@code tiers=tiered} puts a
 * {@link TieredStore} over it with a LevelDB {@link DiskStore} in a temporary folder holding the
 * same entries: a hit is served by the memory tier, a miss also asks the disk tier's in-memory
 * index (neither reaches LevelDB or a worker thread, so every call completes on the caller's
 * thread, as on an event loop).
 *
 * <p>The cache is filled through {@link HttpCache#store} with the realistic origin response of
 * {@link Inputs#originResponse} and a 1 KiB body; every fourth URL varies on Accept-Encoding and
 * is stored for Chrome's {@code gzip, deflate, br, zstd}. Each call takes the next key of a
 * shuffled array of all of them, so lookups walk the whole table rather than one hot entry. The
 * keys are string instances other than the stored ones, so the map compares them in full; unlike
 * a key built per request they keep their hash code after the first pass (building a key is
 * {@link CacheKeyBenchmark}'s part). Setup checks that
 * every hit key hits and every miss key misses, so no benchmark measures the wrong branch.
 *
 * <pre>java -jar bench/target/benchmarks.jar LookupBenchmark -p tiers=memory -prof gc</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class LookupBenchmark {
  static final int URLS = 100_000;
  static final int VARY_EVERY = 4;

  @Param({"memory", "tiered"})
  public String tiers;

  private MemoryStore memory;
  private DiskStore disk;
  private Path diskDir;
  private Store store;
  private HttpCache cache;
  private Headers browser;
  private String[] plainKeys;
  private String[] varyKeys;
  private String[] missKeys;

  /** Where each benchmark thread is in its key array (each benchmark reads one array). */
  @State(Scope.Thread)
  public static class Cursor {
    private int at;

    String next(String[] keys) {
      if (at >= keys.length) {
        at = 0;
      }
      return keys[at++];
    }
  }

  @Setup(Level.Trial)
  public void fill() {
    long now = System.currentTimeMillis();
    // as ProxyServer builds the memory tier, with room for everything stored here
    memory = new MemoryStore(1L << 30, 8L << 20, Runnable::run, HeapLayout.current()::extraBytes);
    store = memory;
    if (tiers.equals("tiered")) {
      try {
        diskDir = Files.createTempDirectory("edgecache-bench-");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      disk = DiskStore.open(DiskOptions.of(diskDir, 4L << 30, 64L << 20));
      store = new TieredStore(memory, disk);
    } else if (!tiers.equals("memory")) {
      throw new IllegalArgumentException("tiers: " + tiers + " (expected: memory or tiered)");
    }
    cache = new HttpCache(store);
    browser = Inputs.browserNavigation();
    ResponseView plain = Inputs.storedResponse(now, 30, false);
    ResponseView varying = Inputs.storedResponse(now, 30, true);
    List<String> targets = Inputs.targets(URLS, 0);
    List<String> plainList = new ArrayList<>();
    List<String> varyList = new ArrayList<>();
    List<CompletableFuture<Boolean>> batch = new ArrayList<>();
    Random bodies = new Random(42);
    for (int i = 0; i < URLS; i++) {
      String key = CacheKey.of("http", Inputs.HOST, -1, targets.get(i));
      boolean vary = i % VARY_EVERY == 0;
      ResponseView view = vary ? varying : plain;
      byte[] body = new byte[Inputs.BODY_BYTES];
      bodies.nextBytes(body);
      batch.add(cache.store(key, browser, view, body, Tags.of(view.headers()), cache.epoch()).toCompletableFuture());
      (vary ? varyList : plainList).add(key);
      if (batch.size() == 256) {
        awaitStored(batch);
      }
    }
    awaitStored(batch);
    plainKeys = copiesShuffled(plainList, 1);
    varyKeys = copiesShuffled(varyList, 2);
    List<String> missList = new ArrayList<>();
    for (String t : Inputs.targets(URLS, 1)) {
      missList.add(CacheKey.of("http", Inputs.HOST, -1, t));
    }
    missKeys = copiesShuffled(missList, 3);
    check();
  }

  private static void awaitStored(List<CompletableFuture<Boolean>> batch) {
    for (CompletableFuture<Boolean> f : batch) {
      if (!f.join()) {
        throw new IllegalStateException("a fill was not stored");
      }
    }
    batch.clear();
  }

  /** New string instances in random order: equal to the stored keys, never the same objects. */
  private static String[] copiesShuffled(List<String> keys, long seed) {
    List<String> out = new ArrayList<>(keys.size());
    for (String k : keys) {
      out.add(new String(k.toCharArray()));
    }
    Collections.shuffle(out, new Random(seed));
    return out.toArray(new String[0]);
  }

  private void check() {
    for (String k : plainKeys) {
      require(lookup(k) != null && cacheLookup(k).response() != null, "stored URL missing: " + k);
    }
    for (String k : varyKeys) {
      HttpCache.Lookup l = cacheLookup(k);
      require(l.response() != null && !l.response().varyNames().isEmpty(), "stored variant missing: " + k);
    }
    for (String k : missKeys) {
      require(lookup(k) == null && cacheLookup(k).response() == null, "unexpected hit: " + k);
    }
    require(memory.stats().entries() == URLS + URLS / VARY_EVERY,
        "memory tier holds " + memory.stats().entries() + " entries (expected: " + (URLS + URLS / VARY_EVERY) + ")");
    if (disk != null) {
      require(disk.stats().entries() == URLS + URLS / VARY_EVERY, "disk tier holds " + disk.stats().entries()
          + " entries (expected: " + (URLS + URLS / VARY_EVERY) + ")");
    }
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalStateException(message);
    }
  }

  private Store.Found lookup(String key) {
    return store.lookup(key).toCompletableFuture().getNow(null);
  }

  private HttpCache.Lookup cacheLookup(String key) {
    return cache.lookup(key, browser).toCompletableFuture().getNow(null);
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    store.close();
    if (diskDir != null) {
      try (Stream<Path> files = Files.walk(diskDir)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }

  /** A stored URL, the store's answer only: the entry and its tier. */
  @Benchmark
  public Store.Found storeHit(Cursor c) {
    return lookup(c.next(plainKeys));
  }

  /** A URL never stored. */
  @Benchmark
  public Store.Found storeMiss(Cursor c) {
    return lookup(c.next(missKeys));
  }

  /** A stored URL without Vary, as {@code Exchange} looks it up: one store read. */
  @Benchmark
  public HttpCache.Lookup httpCacheHit(Cursor c) {
    return cacheLookup(c.next(plainKeys));
  }

  /** A stored URL with {@code Vary: Accept-Encoding}: the spec, the secondary key, the variant. */
  @Benchmark
  public HttpCache.Lookup httpCacheVaryHit(Cursor c) {
    return cacheLookup(c.next(varyKeys));
  }

  /** A URL never stored: {@code fwd=uri-miss}. */
  @Benchmark
  public HttpCache.Lookup httpCacheMiss(Cursor c) {
    return cacheLookup(c.next(missKeys));
  }
}
