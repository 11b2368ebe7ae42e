package io.edgecache.proxy.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A purge sent the moment a large body was served must win over the disk write of that body, which
 * may still be under way on a disk worker: the purged response must come back neither while the
 * proxy runs nor after a restart (README, "Purges are applied to both tiers and persist").
 *
 * <p>The body (48 MiB) is above {@code memory.maxObjectBytes}, so it lives on disk only and is
 * written there as it arrives. Its last chunks and its commit may still wait for a disk worker
 * when the purge arrives (then the write is dropped at its commit point, or voided because the
 * URL was purged since the fill began), or the commit may already be done (then the purge removes
 * the entry): every outcome must leave nothing behind, without any hook in the proxy.
 */
class PurgeRaceJarIT {
  private static final String HOST = "edge.test";
  private static final String PATH = "/big.bin";
  private static final int SIZE = 48 << 20;
  private static final byte[] BODY = pseudoRandom(SIZE, 0x5EED_CAFEL);
  private static final String BODY_SHA256 = sha256(BODY);
  /** Disk files and /stats unchanged this long: no write of a large body is in progress. */
  private static final Duration QUIET = Duration.ofMillis(750);

  @TempDir
  Path dir;
  private CountingOrigin origin;
  private final List<JarProxy> started = new ArrayList<>();

  /** How the purge is sent: on the traffic port, or to the admin purge API. */
  enum PurgeForm {
    TRAFFIC_PURGE {
      @Override
      Http1 connect(JarProxy proxy) throws IOException {
        return new Http1(proxy.port());
      }

      @Override
      Http1.Response purge(Http1 connection) throws IOException {
        return connection.request("PURGE", PATH, HOST, null);
      }
    },
    ADMIN_PURGE_URLS {
      @Override
      Http1 connect(JarProxy proxy) throws IOException {
        return new Http1(proxy.adminPort());
      }

      @Override
      Http1.Response purge(Http1 connection) throws IOException {
        String body = new JsonObject().put("urls", new JsonArray().add("http://" + HOST + PATH)).encode();
        return connection.request("POST", "/purge", "127.0.0.1", body, "Content-Type", "application/json");
      }
    };

    /** Opens the connection the purge will be sent on (before the GET, so no time is lost after it). */
    abstract Http1 connect(JarProxy proxy) throws IOException;

    abstract Http1.Response purge(Http1 connection) throws IOException;
  }

  @BeforeEach
  void startOrigin() throws Exception {
    origin = new CountingOrigin(r -> r.response()
        .putHeader("Cache-Control", "public, max-age=3600")
        .putHeader("Content-Type", "application/octet-stream")
        .end(Buffer.buffer(BODY)));
  }

  @AfterEach
  void stopEverything() throws Exception {
    try {
      for (JarProxy p : started) {
        p.close();
      }
    } finally {
      if (origin != null) {
        origin.close();
      }
    }
  }

  private JarProxy startProxy(String name) throws IOException {
    JsonObject config = new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("eventLoops", 2))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "origin").put("url", origin.url())
            .put("hosts", new JsonArray().add(HOST))))
        .put("memory", new JsonObject().put("maxBytes", "64MiB").put("maxObjectBytes", "1MiB")
            .put("fillBufferBytes", "128MiB"))
        .put("disk", new JsonObject().put("path", dir.resolve("cache").toString()).put("maxBytes", "1GiB")
            .put("maxObjectBytes", "64MiB"))
        .put("purge", new JsonObject().put("allow", new JsonArray().add("127.0.0.0/8")))
        .put("shutdown", new JsonObject().put("drainTimeout", "10s"));
    JarProxy p = JarProxy.start(dir, name, config);
    started.add(p);
    return p;
  }

  /**
   * Steps 1 and 2: the body is served (a miss that fills the disk tier), then purged at once;
   * returns the purge's answer, for messages.
   */
  private String getThenPurgeAtOnce(JarProxy proxy, PurgeForm form) throws IOException {
    Http1.Response served;
    Http1.Response purged;
    try (Http1 purger = form.connect(proxy); Http1 client = new Http1(proxy.port())) {
      served = client.request("GET", PATH, HOST, null);
      purged = form.purge(purger); // no wait: the disk write of the body is still queued or running
    }
    assertEquals(200, served.status(), "first GET");
    assertEquals(BODY_SHA256, sha256(served.body()), "first GET: body differs from the origin's");
    assertEquals(1, origin.count("GET", PATH), "first GET reaches the origin once");
    assertEquals(200, purged.status(), form + ": " + purged.text());
    assertNotNull(new JsonObject(purged.text()).getInteger("purged"), form + ": " + purged.text());
    return form + " right after the first GET answered " + purged.text().strip();
  }

  /** A GET that must be a miss served from the origin, the {@code nth} origin request for the path. */
  private void assertMissFromOrigin(JarProxy proxy, int nth, String when) throws IOException {
    Http1.Response r = Http1.once(proxy.port(), "GET", PATH, HOST);
    assertEquals(200, r.status(), when);
    assertEquals(BODY_SHA256, sha256(r.body()), when + ": body differs from the origin's");
    assertEquals(nth, origin.count("GET", PATH),
        when + ": the purged response came back (origin requests; Cache-Status: " + r.cacheStatus() + ")");
    assertTrue(r.cacheStatus().contains("fwd=uri-miss"), when + ": Cache-Status: " + r.cacheStatus());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(PurgeForm.class)
  void purge_rightAfterLargeBodyWasServed_winsOverItsQueuedDiskWrite(PurgeForm form) throws Exception {
    JarProxy proxy = startProxy("proxy");
    String purged = getThenPurgeAtOnce(proxy, form);
    assertMissFromOrigin(proxy, 2, "GET right after the purge (" + purged + ")");

    try (Http1 purger = form.connect(proxy)) {
      assertEquals(200, form.purge(purger).status(), "second purge");
    }
    awaitDiskQuiet(proxy);
    assertMissFromOrigin(proxy, 3, "GET after two purges, once the disk tier was quiet (" + purged + ")");
  }

  @Test
  void purge_rightAfterLargeBodyWasServed_isNotUndoneByARestart() throws Exception {
    JarProxy first = startProxy("first");
    String purged = getThenPurgeAtOnce(first, PurgeForm.TRAFFIC_PURGE);
    awaitDiskQuiet(first); // the write has committed (and been purged) or been dropped before the stop
    JsonObject disk = first.stats().getJsonObject("disk");
    assertTrue(disk.getLong("entries") == 0 && disk.getLong("streamsOpen") == 0,
        "nothing stored, no write under way: " + first.stats().encode());
    assertEquals(0, first.stop(), "exit status after SIGTERM: " + first.logTail());

    JarProxy second = startProxy("second");
    assertMissFromOrigin(second, 2, "GET after a restart on the same disk.path (" + purged + ")");
  }

  /**
   * Waits until the disk tier's files (the LevelDB folder) and its {@code /stats} have not changed
   * for {@link #QUIET}: a 48 MiB write appends to the LevelDB log all along, so by then it has been
   * committed or dropped.
   */
  private void awaitDiskQuiet(JarProxy proxy) {
    DiskActivity activity = new DiskActivity(dir.resolve("cache"), proxy);
    await("disk tier quiet for " + QUIET.toMillis() + " ms").atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(50))
        .until(activity::quietFor, quiet -> quiet.compareTo(QUIET) >= 0);
  }

  /** Tracks when the disk tier's files or stats last changed. */
  private static final class DiskActivity {
    private final Path folder;
    private final JarProxy proxy;
    private String last = "";
    private long changedAtNanos = System.nanoTime();

    DiskActivity(Path folder, JarProxy proxy) {
      this.folder = folder;
      this.proxy = proxy;
    }

    /** Polls once; how long nothing has changed. */
    Duration quietFor() throws IOException, InterruptedException {
      String now = snapshot();
      long t = System.nanoTime();
      if (!now.equals(last)) {
        last = now;
        changedAtNanos = t;
      }
      return Duration.ofNanos(t - changedAtNanos);
    }

    private String snapshot() throws IOException, InterruptedException {
      StringBuilder sb = new StringBuilder(proxy.stats().getJsonObject("disk").encode());
      try (Stream<Path> files = Files.list(folder)) {
        files.sorted().forEach(f -> {
          try {
            sb.append('\n').append(f.getFileName()).append(' ').append(Files.size(f));
          } catch (IOException e) {
            throw new UncheckedIOException(e); // a file removed while listing: poll again
          }
        });
      } catch (UncheckedIOException e) {
        sb.append("\nchanging");
      }
      return sb.toString();
    }
  }

  private static byte[] pseudoRandom(int size, long seed) {
    byte[] b = new byte[size];
    SplittableRandom random = new SplittableRandom(seed);
    for (int i = 0; i < size; i += 8) {
      long v = random.nextLong();
      for (int j = 0; j < 8 && i + j < size; j++) {
        b[i + j] = (byte) (v >>> (8 * j));
      }
    }
    return b;
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
