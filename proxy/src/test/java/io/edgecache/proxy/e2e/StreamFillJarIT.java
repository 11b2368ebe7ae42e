package io.edgecache.proxy.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A body far larger than the proxy's heap, through the jar: the proxy runs with {@code -Xmx256m}
 * and a 1 MiB memory-tier object limit, the origin (a real Vert.x server in this JVM) streams a
 * generated body of {@value #BIG} bytes that nobody holds whole. The first request streams through
 * and the body is written to the disk tier as it arrives; the second is a disk hit with the same
 * SHA-256 and the origin saw one request; the collector's log shows the heap stayed flat. An
 * origin that dies midway, and a proxy killed midway, leave no entry and, after a restart, no
 * chunk.
 */
class StreamFillJarIT {
  /** Body size of {@code /big}: 512 MiB, twice the proxy's whole heap. */
  static final long BIG = Long.getLong("edgecache.streamFillBytes", 512L << 20);
  private static final int PIECE = 64 * 1024;
  /** Heap in use after a collection may not exceed this while the body passes (the heap is 256 MiB). */
  private static final long FLAT_HEAP_BYTES = 128L << 20;
  private static final Pattern AFTER_GC = Pattern.compile("GC\\(\\d+\\) Pause.*?(\\d+)M->(\\d+)M\\((\\d+)M\\)");

  @TempDir
  Path dir;
  private CountingOrigin origin;
  private JarProxy proxy;
  /** Completed when {@code /held} may send the rest of its body (true) or must die (false). */
  private volatile CompletableFuture<Boolean> release = new CompletableFuture<>();
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void start() throws Exception {
    origin = new CountingOrigin(this::serve);
    proxy = startProxy();
  }

  @AfterEach
  void stop() throws Exception {
    release.complete(false);
    JarProxy.closeAll(proxy, origin);
  }

  private JarProxy startProxy() throws IOException {
    JsonObject config = new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("eventLoops", 2))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "origin").put("url", origin.url())
            .put("hosts", new JsonArray().add("*"))))
        .put("memory", new JsonObject().put("maxBytes", "8MiB").put("maxObjectBytes", "1MiB")
            .put("fillBufferBytes", "4MiB"))
        .put("disk", new JsonObject().put("path", dir.resolve("cache").toString()).put("maxBytes", "4GiB")
            .put("maxObjectBytes", "2GiB").put("indexMaxBytes", "2MiB"))
        .put("accessLog", new JsonObject().put("enabled", false));
    return JarProxy.start(dir, "proxy", config, List.of("-Xmx256m", "-Xlog:gc:file=" + dir.resolve("gc.log")));
  }

  /**
   * {@code /big} and {@code /dies}: {@value #BIG} bytes with a Content-Length, written with
   * backpressure from a generator; {@code /dies} resets the connection after a quarter of them.
   * {@code /held} sends a quarter, then waits for {@link #release}.
   */
  private void serve(HttpServerRequest r) {
    HttpServerResponse resp = r.response().putHeader("Cache-Control", "public, max-age=3600")
        .putHeader("Content-Length", Long.toString(BIG));
    switch (r.path()) {
      case "/big" -> send(resp, 0, Long.MAX_VALUE);
      case "/dies" -> send(resp, 0, BIG / 4);
      case "/held" -> send(resp, 0, -BIG / 4);
      default -> resp.setStatusCode(404).putHeader("Content-Length", "0").end();
    }
  }

  /**
   * Writes the body from {@code at} while the connection takes it. {@code stopAt} > 0: reset there;
   * {@code stopAt} < 0: wait at {@code -stopAt} for {@link #release}.
   */
  private void send(HttpServerResponse resp, long at, long stopAt) {
    if (resp.ended() || resp.closed()) {
      return; // the proxy reset the transfer (a drain may still come)
    }
    long pos = at;
    while (pos < BIG && !resp.writeQueueFull()) {
      if (stopAt > 0 && pos >= stopAt) {
        resp.reset();
        return;
      }
      if (stopAt < 0 && pos >= -stopAt) {
        long from = pos;
        release.thenAccept(more -> origin.vertx().runOnContext(v -> {
          if (more) {
            send(resp, from, Long.MAX_VALUE);
          } else {
            resp.reset();
          }
        }));
        return;
      }
      int n = (int) Math.min(PIECE, BIG - pos);
      resp.write(Buffer.buffer(piece(pos / PIECE, n)));
      pos += n;
    }
    if (pos >= BIG) {
      resp.end();
      return;
    }
    long next = pos;
    resp.drainHandler(v -> send(resp, next, stopAt));
  }

  /** Piece {@code index} of every generated body: a pure function of its index. */
  static byte[] piece(long index, int length) {
    byte[] b = new byte[length];
    new SplittableRandom(index * 0x9E3779B97F4A7C15L + 1).nextBytes(b);
    return b;
  }

  /** The SHA-256 of the whole generated body, computed piece by piece. */
  static String expectedDigest() {
    MessageDigest sha = sha256();
    for (long at = 0; at < BIG; at += PIECE) {
      sha.update(piece(at / PIECE, (int) Math.min(PIECE, BIG - at)));
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A response read to its end through a streaming digest: status, Cache-Status, bytes, SHA-256. */
  private record Digested(int status, String cacheStatus, long bytes, String sha256) {}

  private Digested get(String path) throws IOException, InterruptedException {
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path))
        .timeout(Duration.ofMinutes(5)).build();
    HttpResponse<InputStream> resp = client.send(req, HttpResponse.BodyHandlers.ofInputStream());
    MessageDigest sha = sha256();
    long bytes = 0;
    try (InputStream in = resp.body()) {
      byte[] buf = new byte[256 * 1024];
      for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
        sha.update(buf, 0, n);
        bytes += n;
      }
    }
    return new Digested(resp.statusCode(), resp.headers().firstValue("Cache-Status").orElse(""), bytes,
        HexFormat.of().formatHex(sha.digest()));
  }

  private JsonObject disk() throws Exception {
    return proxy.stats().getJsonObject("disk");
  }

  /** The largest heap in use after a collection, in MiB, from the proxy's GC log (0 if it never collected). */
  private long maxHeapAfterGcMiB() throws IOException {
    long max = 0;
    Matcher m = AFTER_GC.matcher(Files.readString(dir.resolve("gc.log"), StandardCharsets.UTF_8));
    while (m.find()) {
      max = Math.max(max, Long.parseLong(m.group(2)));
    }
    return max;
  }

  @Test
  void bodyTwiceTheHeap_streamsThroughIsStoredOnDiskAndIsServedFromItWithAFlatHeap() throws Exception {
    String expected = expectedDigest();

    Digested first = get("/big");
    assertEquals(200, first.status());
    assertEquals(BIG, first.bytes());
    assertEquals(expected, first.sha256(), "the streamed body");
    assertTrue(first.cacheStatus().contains("stored"), first.cacheStatus());
    await("committed on disk").atMost(Duration.ofSeconds(60)).until(() -> disk().getLong("entries") == 1);

    Digested second = get("/big");
    assertEquals(200, second.status());
    assertTrue(second.cacheStatus().startsWith("edgecache; hit"), second.cacheStatus());
    assertEquals(expected, second.sha256(), "the body served from disk");
    assertEquals(1, origin.count("GET", "/big"));
    assertEquals(1, disk().getLong("streamsCommitted"));
    assertEquals(0, proxy.stats().getJsonObject("memory").getLong("entries"), "nothing of it in memory");
    long heap = maxHeapAfterGcMiB();
    System.out.printf("stream fill: %d MiB body through a 256 MiB heap; the most heap left after a collection: %d MiB%n",
        BIG >> 20, heap);
    assertTrue(heap > 0 && heap <= FLAT_HEAP_BYTES >> 20,
        "heap in use after a collection peaked at " + heap + " MiB (expected: at most " + (FLAT_HEAP_BYTES >> 20) + ")");
  }

  /**
   * The first client of the fill stops reading: the fill goes on at the origin's pace. A second
   * request coalesced on it gets the whole body, the entry is committed, and only then does the
   * first client read, the whole body too, from the disk write it followed.
   */
  @Test
  void firstClientThatStopsReading_holdsUpNeitherTheFillNorTheRequestCoalescedOnIt() throws Exception {
    String expected = expectedDigest();
    try (Socket first = new Socket()) {
      first.setReceiveBufferSize(4096);
      first.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 5000);
      first.setSoTimeout(60_000);
      // the Host the JDK's client sends below, so that both requests are for the same URL
      first.getOutputStream().write(("GET /big HTTP/1.1\r\nHost: 127.0.0.1:" + proxy.port() + "\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      await("the first client's miss reached the origin").atMost(Duration.ofSeconds(10))
          .until(() -> origin.count("GET", "/big") == 1);

      Digested second = CompletableFuture.supplyAsync(() -> {
        try {
          return get("/big");
        } catch (IOException | InterruptedException e) {
          throw new IllegalStateException(e);
        }
      }).get(120, TimeUnit.SECONDS);
      assertTrue(second.cacheStatus().contains("collapsed"), second.cacheStatus());
      assertEquals(expected, second.sha256(), "the whole body, while the first client reads nothing");
      await("committed while the first client reads nothing").atMost(Duration.ofSeconds(60))
          .until(() -> disk().getLong("entries") == 1);

      InputStream in = first.getInputStream();
      String head = Http1.readHead(in);
      assertTrue(head.startsWith("HTTP/1.1 200") && head.contains("stored"), head);
      MessageDigest sha = sha256();
      byte[] buf = new byte[256 * 1024];
      long got = 0;
      while (got < BIG) {
        int n = in.read(buf, 0, (int) Math.min(buf.length, BIG - got));
        if (n < 0) {
          break;
        }
        sha.update(buf, 0, n);
        got += n;
      }
      assertEquals(BIG, got);
      assertEquals(expected, HexFormat.of().formatHex(sha.digest()), "the first client's body, from the disk write");
    }
    assertEquals(1, origin.count("GET", "/big"));
  }

  @Test
  void originDyingMidway_truncatesTheClientAndLeavesNoEntryNorAnyChunk() throws Exception {
    assertThrows(IOException.class, () -> get("/dies"), "the client must see the transfer break off");

    await("the disk write ended").atMost(Duration.ofSeconds(30)).until(() -> disk().getLong("streamsOpen") == 0);
    assertEquals(0, disk().getLong("entries"));
    assertEquals(0, disk().getLong("streamsCommitted"));
    assertEquals(0, proxy.stop(), proxy.logTail());
    proxy = startProxy();
    assertEquals(0, disk().getLong("entries"));
    assertEquals(0, disk().getLong("orphansSwept"), "the abandoned write deleted its chunks itself");
  }

  @Test
  void proxyKilledMidFill_exposesNoPartialEntryAfterRestartAndSweepsItsChunks() throws Exception {
    CompletableFuture<Void> firstRequest = CompletableFuture.runAsync(() -> {
      try {
        get("/held");
      } catch (IOException | InterruptedException e) {
        // the proxy is killed mid-body
      }
    });
    await("a quarter on its way to disk").atMost(Duration.ofSeconds(60))
        .until(() -> disk().getLong("streamsOpen") == 1 && directoryBytes(dir.resolve("cache")) > BIG / 8);

    proxy.kill9();
    firstRequest.join();
    proxy = startProxy();

    assertEquals(0, disk().getLong("entries"), "nothing partial is visible");
    assertTrue(disk().getLong("orphansSwept") > 0, disk().encode());
  }

  private static long directoryBytes(Path d) throws IOException {
    try (var files = Files.list(d)) {
      return files.mapToLong(p -> p.toFile().length()).sum();
    }
  }
}
