package io.edgecache.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A disk tier with damaged files does not stop the jar from starting (README, "Security and failure
 * behaviour"): LevelDB's repair is tried; when it cannot help, the folder is moved aside to
 * {@code <disk.path>.corrupt-<time>} and the tier starts empty. Either way the proxy starts, serves
 * exact bytes, stores again, and reports the recovery in {@code /stats}, in
 * {@code edgecache_disk_recoveries_total} and in one WARN line.
 */
class DiskDamageJarIT {
  private static final String HOST = "edge.test";
  private static final int CHUNK = 64 * 1024;
  private static final int OBJECTS = 24;

  @TempDir
  Path dir;
  private CountingOrigin origin;
  private final List<JarProxy> started = new ArrayList<>();

  @BeforeEach
  void startOrigin() throws Exception {
    origin = new CountingOrigin(r -> r.response()
        .putHeader("Cache-Control", "public, max-age=3600")
        .end(Buffer.buffer(body(r.path()))));
  }

  @AfterEach
  void stopEverything() throws Exception {
    try {
      for (JarProxy p : started) {
        p.close();
      }
    } finally {
      origin.close();
    }
  }

  /** Bodies of 4 to 6 chunks (above memory.maxObjectBytes, so on disk only), a function of the path. */
  static byte[] body(String path) {
    SplittableRandom random = new SplittableRandom(path.hashCode());
    byte[] b = new byte[4 * CHUNK + random.nextInt(2 * CHUNK)];
    random.nextBytes(b);
    return b;
  }

  private Path cache() {
    return dir.resolve("cache");
  }

  private JarProxy start(String name) throws IOException {
    JsonObject config = new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("eventLoops", 2))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "origin").put("url", origin.url())
            .put("hosts", new JsonArray().add(HOST))))
        .put("memory", new JsonObject().put("maxBytes", "16MiB").put("maxObjectBytes", "64KiB"))
        .put("disk", new JsonObject().put("path", cache().toString()).put("maxBytes", "256MiB")
            .put("maxObjectBytes", "8MiB").put("chunkBytes", "64KiB"))
        .put("accessLog", new JsonObject().put("enabled", false))
        .put("shutdown", new JsonObject().put("drainTimeout", "5s"));
    JarProxy p = JarProxy.start(dir, name, config);
    started.add(p);
    return p;
  }

  /** Fills the disk tier with {@link #OBJECTS} bodies (about 8 MiB: LevelDB has table files too). */
  private void fill(JarProxy proxy) throws Exception {
    for (int i = 0; i < OBJECTS; i++) {
      Http1.Response r = Http1.once(proxy.port(), "GET", "/o" + i, HOST);
      assertEquals(200, r.status());
    }
    org.awaitility.Awaitility.await("disk writes").atMost(java.time.Duration.ofSeconds(20))
        .until(() -> proxy.stats().getJsonObject("disk").getLong("entries") == OBJECTS);
  }

  private static JsonObject recoveries(JarProxy proxy) throws Exception {
    return proxy.stats().getJsonObject("disk").getJsonObject("recoveries");
  }

  /**
   * Every object is served with exact bytes, from the disk tier or the origin. A body whose damage
   * is found after its head was sent ends as a truncated transfer, never with wrong bytes; the
   * entry is dropped then, so the next request for it gets the whole body.
   */
  private static int assertServesExactBytes(JarProxy proxy) throws Exception {
    int hits = 0;
    for (int i = 0; i < OBJECTS; i++) {
      Http1.Response r;
      try {
        r = Http1.once(proxy.port(), "GET", "/o" + i, HOST);
      } catch (IOException truncated) {
        r = Http1.once(proxy.port(), "GET", "/o" + i, HOST);
        assertFalse(r.isHit(), "/o" + i + " after a truncated transfer: " + r.cacheStatus());
      }
      assertEquals(200, r.status(), "/o" + i);
      assertArrayEquals(body("/o" + i), r.body(), "/o" + i + " (" + r.cacheStatus() + ")");
      hits += r.isHit() ? 1 : 0;
    }
    return hits;
  }

  /** A new object is stored on the disk tier again: its second request is a hit. */
  private static void assertStoresAgain(JarProxy proxy) throws Exception {
    assertEquals(200, Http1.once(proxy.port(), "GET", "/after", HOST).status());
    org.awaitility.Awaitility.await("stored again").atMost(java.time.Duration.ofSeconds(10))
        .until(() -> Http1.once(proxy.port(), "GET", "/after", HOST).isHit());
  }

  private long warnLines(String name) throws IOException {
    try (Stream<String> lines = Files.lines(dir.resolve(name + ".out.log"), StandardCharsets.UTF_8)) {
      return lines.filter(l -> l.contains("WARN") && l.contains("database is damaged")).count();
    }
  }

  @Test
  void start_manifestTruncated_repairsKeepsTheEntriesAndReportsIt() throws Exception {
    JarProxy first = start("first");
    fill(first);
    assertEquals(0, first.stop(), first.logTail());
    for (Path m : list(cache(), "MANIFEST-")) {
      try (FileChannel ch = FileChannel.open(m, StandardOpenOption.WRITE)) {
        ch.truncate(ch.size() / 3);
      }
    }

    JarProxy second = start("second");
    assertEquals(new JsonObject().put("repaired", 1).put("movedAside", 0), recoveries(second));
    assertEquals(OBJECTS, assertServesExactBytes(second), "the repair kept every entry: all hits");
    for (int i = 0; i < OBJECTS; i++) {
      assertEquals(1, origin.count("GET", "/o" + i), "/o" + i + " fetched once only");
    }
    assertEquals(1, warnLines("second"), second.logTail());
    String metrics = second.admin("GET", "/metrics", null).body();
    assertTrue(metrics.contains("edgecache_disk_recoveries_total{action=\"repaired\",tier=\"disk\"} 1.0"), metrics);
    assertStoresAgain(second);
  }

  @Test
  void start_afterSigkillAndTwentyFlipsPerFile_startsServesExactBytesAndReportsIt() throws Exception {
    JarProxy first = start("first");
    fill(first);
    first.close(); // SIGKILL
    flipBytes(cache(), 0xDA3A6EL, 20);

    JarProxy second = start("second");
    JsonObject r = recoveries(second);
    assertEquals(1, r.getLong("repaired") + r.getLong("movedAside"), "CURRENT is always damaged: " + r);
    assertEquals(r.getLong("movedAside") == 1, Files.exists(corruptCopy()), "moved-aside copy: " + r);
    assertServesExactBytes(second);
    assertEquals(1, warnLines("second"), second.logTail());
    assertStoresAgain(second);
  }

  @Test
  void start_tableKeyUnparsable_repairCannotHelp_movesTheFolderAsideAndStartsEmpty() throws Exception {
    JarProxy first = start("first");
    fill(first);
    assertEquals(0, first.stop(), first.logTail());
    JarProxy replay = start("replay"); // replays LevelDB's log into a table file, so every chunk is in one
    assertEquals(0, replay.stop(), replay.logTail());
    assertTrue(breakOneChunkKey(cache()), "no chunk record found in a table file");

    JarProxy second = start("second");
    assertEquals(new JsonObject().put("repaired", 0).put("movedAside", 1), recoveries(second));
    assertTrue(Files.exists(corruptCopy().resolve("CURRENT")), "the damaged folder is kept beside disk.path");
    assertEquals(0, second.stats().getJsonObject("disk").getLong("entries"), "starts empty");
    assertEquals(0, assertServesExactBytes(second), "everything comes from the origin again");
    assertEquals(1, warnLines("second"), second.logTail());
    assertStoresAgain(second);
  }

  /**
   * Makes the internal key of one full chunk record in a table file unparsable (its type byte
   * 0x7F): LevelDB's iterator then fails with "corrupted internal key", and its repair keeps the
   * table (it skips the key when it scans), so the database stays unreadable.
   *
   * <p>Layout of such a record at the start of a data block (random bodies do not compress):
   * varint shared = 0, varint key length = 21, varint value length = 5 + 65536, then the key
   * ('c', generation 8, index 4, then the 8-byte tag whose first byte is the type).
   */
  private static boolean breakOneChunkKey(Path db) throws IOException {
    byte[] pattern = {0x00, 0x15, (byte) 0x85, (byte) 0x80, 0x04, 'c'};
    for (Path table : list(db, ".sst")) {
      byte[] bytes = Files.readAllBytes(table);
      for (int i = 0; i + pattern.length + 12 < bytes.length; i++) {
        if (matches(bytes, i, pattern)) {
          int type = i + pattern.length + 12;
          try (FileChannel ch = FileChannel.open(table, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {0x7F}), type);
          }
          return true;
        }
      }
    }
    return false;
  }

  private static boolean matches(byte[] bytes, int at, byte[] pattern) {
    for (int j = 0; j < pattern.length; j++) {
      if (bytes[at + j] != pattern[j]) {
        return false;
      }
    }
    return true;
  }

  private Path corruptCopy() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      List<Path> copies = s.filter(p -> p.getFileName().toString().startsWith("cache.corrupt-")).toList();
      assertTrue(copies.size() <= 1, "at most one copy: " + copies);
      return copies.isEmpty() ? dir.resolve("no-copy") : copies.get(0);
    }
  }

  private static List<Path> list(Path dir, String part) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      List<Path> found = s.filter(p -> p.getFileName().toString().contains(part)).sorted().toList();
      assertFalse(found.isEmpty(), "no " + part + " file in " + dir);
      return found;
    }
  }

  /** XORs {@code flips} seeded random bytes with a non-zero value in every LevelDB file. */
  private static void flipBytes(Path db, long seed, int flips) throws IOException {
    SplittableRandom random = new SplittableRandom(seed);
    List<Path> targets;
    try (Stream<Path> s = Files.list(db)) {
      targets = s.filter(f -> {
        String n = f.getFileName().toString();
        return n.endsWith(".sst") || n.endsWith(".ldb") || n.endsWith(".log") || n.startsWith("MANIFEST-")
            || n.equals("CURRENT");
      }).sorted().toList();
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
