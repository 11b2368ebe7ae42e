package io.edgecache.proxy.e2e;

import static org.awaitility.Awaitility.await;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk tier on a real file system that runs out of space (a tmpfs of its own, mounted by the
 * test; skipped where mounting is not permitted): the proxy keeps serving from memory, from the
 * disk tier and from the origin, counts the refused writes in {@code edgecache_disk_store_errors_total},
 * and stores again after {@code disk.retryAfter} once there is room.
 *
 * <p>Why the proxy must stop before the file system is full: leveldbjni writes through mmap, and a
 * write into a full file system kills the process with SIGBUS (measured). So writes are refused
 * while less than {@code disk.minFreeBytes} is free.
 */
class DiskFullJarIT {
  private static final String HOST = "edge.test";
  private static final Pattern STORE_ERRORS =
      Pattern.compile("edgecache_disk_store_errors_total\\{tier=\"disk\"} ([0-9.]+)");

  @TempDir
  Path dir;
  private Path volume;
  private boolean mounted;
  private CountingOrigin origin;
  private JarProxy proxy;

  @BeforeEach
  void mountAndStart() throws Exception {
    volume = Files.createDirectories(dir.resolve("volume"));
    Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=160m", "tmpfs", volume.toString())
        .redirectErrorStream(true).start();
    boolean exited = mount.waitFor(20, TimeUnit.SECONDS);
    String output = new String(mount.getInputStream().readAllBytes());
    Assumptions.assumeTrue(exited && mount.exitValue() == 0, "cannot mount a tmpfs here: " + output.strip());
    mounted = true;

    origin = new CountingOrigin(r -> r.response()
        .putHeader("Cache-Control", "public, max-age=3600")
        .end(Buffer.buffer(body(r.path()))));
    JsonObject config = new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("eventLoops", 2))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "origin").put("url", origin.url())
            .put("hosts", new JsonArray().add(HOST))))
        .put("memory", new JsonObject().put("maxBytes", "32MiB").put("maxObjectBytes", "64KiB"))
        .put("disk", new JsonObject().put("path", volume.resolve("cache").toString()).put("maxBytes", "1GiB")
            .put("maxObjectBytes", "4MiB").put("chunkBytes", "64KiB").put("minFreeBytes", "48MiB")
            .put("retryAfter", "1s"))
        .put("accessLog", new JsonObject().put("enabled", false))
        .put("shutdown", new JsonObject().put("drainTimeout", "5s"));
    proxy = JarProxy.start(dir, "proxy", config);
  }

  @AfterEach
  void stopAndUnmount() throws Exception {
    try {
      if (proxy != null) {
        proxy.close();
      }
      if (origin != null) {
        origin.close();
      }
    } finally {
      if (mounted) {
        Process umount = new ProcessBuilder("umount", volume.toString()).redirectErrorStream(true).start();
        assertTrue(umount.waitFor(20, TimeUnit.SECONDS) && umount.exitValue() == 0,
            "umount: " + new String(umount.getInputStream().readAllBytes()));
      }
    }
  }

  /** {@code /s*}: 1 KiB (memory and disk); {@code /b*}: 1 MiB (disk only); a function of the path. */
  static byte[] body(String path) {
    byte[] b = new byte[path.startsWith("/s") ? 1024 : 1 << 20];
    new SplittableRandom(path.hashCode()).nextBytes(b);
    return b;
  }

  private Http1.Response get(String path) throws IOException {
    Http1.Response r = Http1.once(proxy.port(), "GET", path, HOST);
    assertEquals(200, r.status(), path);
    assertArrayEquals(body(path), r.body(), path + " (" + r.cacheStatus() + ")");
    return r;
  }

  private JsonObject disk() throws Exception {
    return proxy.stats().getJsonObject("disk");
  }

  private double storeErrorsMetric() throws Exception {
    Matcher m = STORE_ERRORS.matcher(proxy.admin("GET", "/metrics", null).body());
    assertTrue(m.find(), "no edgecache_disk_store_errors_total");
    return Double.parseDouble(m.group(1));
  }

  /** Writes a file on the volume that leaves {@code leave} bytes free. */
  private Path ballast(long leave) throws IOException {
    Path file = volume.resolve("ballast");
    long size = Files.getFileStore(volume).getUsableSpace() - leave;
    ByteBuffer block = ByteBuffer.allocate(1 << 20);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      for (long written = 0; written < size; written += block.capacity()) {
        block.clear().limit((int) Math.min(block.capacity(), size - written));
        ch.write(block);
      }
    }
    return file;
  }

  @Test
  void volumeShortOfSpace_keepsServingCountsTheErrorAndStoresAgainOnceThereIsRoom() throws Exception {
    get("/s1");
    get("/b1");
    await("stored on disk").atMost(Duration.ofSeconds(10)).until(() -> disk().getLong("entries") == 2);
    assertEquals(0.0, storeErrorsMetric());

    Path ballast = ballast(16L << 20); // 16 MiB left: below disk.minFreeBytes (48 MiB)
    get("/b2");
    get("/s2");
    await("write refused").atMost(Duration.ofSeconds(10)).until(() -> disk().getLong("storeErrors") >= 1);
    assertFalse(disk().getBoolean("storing"), disk().encode());
    assertTrue(storeErrorsMetric() >= 1, "edgecache_disk_store_errors_total");
    assertEquals(2, disk().getLong("entries"), "nothing stored while the volume is short of space");

    assertTrue(get("/s1").isHit(), "the memory tier still serves");
    assertTrue(get("/b1").isHit(), "the disk tier still serves what it holds");
    assertTrue(get("/s2").isHit(), "a small response is still kept in memory");
    assertFalse(get("/b2").isHit(), "a large response is served from the origin");
    assertEquals(2, origin.count("GET", "/b2"));

    Files.delete(ballast);
    // after disk.retryAfter (1 s), writes are tried again and succeed
    await("storing again").atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(300))
        .until(() -> {
          get("/b3");
          return disk().getBoolean("storing") && disk().getLong("entries") >= 3;
        });
    assertTrue(get("/b3").isHit(), "stored again: " + disk().encode());
    assertTrue(proxy.admin("GET", "/healthz", null).statusCode() == 200);
  }

  @Test
  void fillingTheVolume_stopsStoringBeforeItIsFullAndKeepsServing() throws Exception {
    int i = 0;
    while (disk().getLong("storeErrors") == 0) {
      assertTrue(i < 200, "never stopped storing: " + disk().encode());
      get("/b-fill" + i++);
    }
    long free = Files.getFileStore(volume).getUsableSpace();
    assertTrue(free > 16L << 20, "the volume was not filled to the end: " + (free >> 20) + " MiB free");
    assertTrue(storeErrorsMetric() >= 1);
    for (int j = 0; j < 5; j++) {
      get("/b-after" + j); // served from the origin, nothing written
      get("/b-fill" + j);
    }
    assertTrue(proxy.admin("GET", "/healthz", null).statusCode() == 200, "still alive: " + proxy.logTail());
  }
}
