package io.edgecache.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many readers that stop reading a large stored object, more than {@code -XX:MaxDirectMemorySize}
 * can hold what they have queued (32 MiB here; 200 readers at up to 512 KiB each): the proxy keeps
 * answering everyone else at once. Before, the event loops stalled for seconds inside the JDK's
 * direct-memory reservation ({@code System.gc()} and sleeps), and a client whose write found no
 * memory waited for an answer that never came.
 */
class DirectMemoryJarIT {
  private static final int LARGE = 8 << 20;
  private static final byte[] LARGE_BODY = new byte[LARGE];
  private static final int READERS = 200;

  @TempDir
  static Path dir;
  private static CountingOrigin origin;
  private static JarProxy proxy;

  @BeforeAll
  static void startOriginAndProxy() throws Exception {
    new Random(11).nextBytes(LARGE_BODY);
    origin = new CountingOrigin(r -> {
      r.response().putHeader("Cache-Control", "public, max-age=3600");
      if (r.path().equals("/large")) {
        r.response().end(Buffer.buffer(LARGE_BODY));
      } else {
        r.response().end("small " + r.path());
      }
    });
    JsonObject config = new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("eventLoops", 2))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "origin").put("url", origin.url())
            .put("hosts", new JsonArray().add("*"))))
        .put("memory", new JsonObject().put("maxBytes", "64MiB").put("maxObjectBytes", "16MiB")
            .put("fillBufferBytes", "32MiB"))
        .put("accessLog", new JsonObject().put("enabled", false))
        .put("startup", new JsonObject().put("warmup", "0s"));
    proxy = JarProxy.start(dir, "proxy", config, List.of("-Xmx384m", "-XX:MaxDirectMemorySize=32m"));
  }

  @AfterAll
  static void stopProxyAndOrigin() throws Exception {
    JarProxy.closeAll(proxy, origin);
  }

  @Test
  void readersStalledBeyondDirectMemory_othersAreAnsweredAtOnceAndNoEventLoopStalls() throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    assertArrayEquals(LARGE_BODY, get(http, "/large").body());
    List<Socket> readers = new ArrayList<>();
    try {
      for (int i = 0; i < READERS; i++) {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096); // a reader that does not read: the proxy's writes queue up at once
        s.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 5000);
        s.setSoTimeout(30_000);
        OutputStream out = s.getOutputStream();
        out.write("GET /large HTTP/1.1\r\nHost: edge.test\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        readers.add(s);
      }
      for (int i = 0; i < 40; i++) {
        // each within 5 s (HttpClient's timeout): a stalled event loop or a response that never comes fails here
        HttpResponse<byte[]> small = get(http, "/small-" + (i % 8));
        assertEquals(200, small.statusCode());
        assertEquals("small /small-" + (i % 8), new String(small.body(), StandardCharsets.UTF_8));
      }
      // a reader that reads gets the object's bytes, whole, or a connection closed early: never other bytes
      for (Socket s : readers.subList(0, 8)) {
        byte[] got = readBody(s.getInputStream());
        assertArrayEquals(Arrays.copyOf(LARGE_BODY, got.length), got, "a prefix of the object");
      }
    } finally {
      for (Socket s : readers) {
        s.close();
      }
    }
    assertEquals(200, get(http, "/after").statusCode());
    String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminPort() + "/metrics"))
        .build(), HttpResponse.BodyHandlers.ofString()).body();
    assertTrue(metrics.contains("edgecache_client_closed_out_of_memory_total"), "the closures are counted");
    assertTrue(metrics.contains("edgecache_connection_ended_read_out_of_memory_total"), "so are reads that found none");
    String log = proxy.log();
    assertFalse(log.contains("has been blocked for"), "no event loop stalled: " + proxy.logTail());
    assertFalse(log.contains("Response has already been written"), "no write after a response ended");
    assertTrue(proxy.isAlive(), "still running");
  }

  private static HttpResponse<byte[]> get(HttpClient http, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  /** The body after the head (read up to its Content-Length), or what arrived before the connection closed. */
  private static byte[] readBody(InputStream raw) throws IOException {
    InputStream in = new java.io.BufferedInputStream(raw);
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        return new byte[0]; // closed before the head ended: no body bytes to compare
      }
      head.append((char) b);
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: *([0-9]+)").matcher(head);
    assertTrue(m.find(), head.toString());
    assertEquals(LARGE, Integer.parseInt(m.group(1)), head.toString());
    return in.readNBytes(LARGE);
  }
}
