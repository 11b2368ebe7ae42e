package io.edgecache.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.tls.TestCerts;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedInputStream;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Many readers that stop reading a large stored object, more than {@code -XX:MaxDirectMemorySize}
 * can hold what they have queued (32 MiB here; 200 readers at up to 512 KiB each): the proxy keeps
 * answering everyone else at once. Before, the event loops stalled for seconds inside the JDK's
 * direct-memory reservation ({@code System.gc()} and sleeps), and a client whose write found no
 * memory waited for an answer that never came.
 *
 * <p>The same over HTTPS, HTTP/2 and HTTP/1.1 side by side, with each TLS engine. The TLS layer
 * encrypts at flush, below the guard that watches plain writes: a record the transport could not
 * copy is lost after it was sealed, and every later record then fails the client's decryption
 * (each record's nonce counts records), so no wrong bytes reach a reader, but the connection must
 * close at once rather than go on sending what nobody can read (with the JDK's engine it did, and
 * uncounted).
 */
class DirectMemoryJarIT {
  private static final int LARGE = 8 << 20;
  private static final byte[] LARGE_BODY = new byte[LARGE];
  private static final int READERS = 200;
  private static final int TLS_READERS = 120;

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
    proxy = start("proxy", new JsonObject());
  }

  @AfterAll
  static void stopProxyAndOrigin() throws Exception {
    JarProxy.closeAll(proxy, origin);
  }

  /** A proxy with 32 MiB of direct memory over {@link #origin}, its {@code listen} keys plus {@code listen}. */
  private static JarProxy start(String name, JsonObject listen) throws IOException {
    JsonObject config = new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("eventLoops", 2).mergeIn(listen))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "origin").put("url", origin.url())
            .put("hosts", new JsonArray().add("*"))))
        .put("memory", new JsonObject().put("maxBytes", "64MiB").put("maxObjectBytes", "16MiB")
            .put("fillBufferBytes", "32MiB"))
        .put("accessLog", new JsonObject().put("enabled", false))
        .put("startup", new JsonObject().put("warmup", "0s"));
    return JarProxy.start(dir, name, config, List.of("-Xmx384m", "-XX:MaxDirectMemorySize=32m"));
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

  @ParameterizedTest(name = "listen.tls.engine {0}")
  @ValueSource(strings = {"jdk", "openssl"})
  void httpsReadersStalledBeyondDirectMemory_getTheObjectOrAPrefixOfIt_andOthersAreAnswered(String engine)
      throws Exception {
    TestCerts.Pair cert = TestCerts.create(dir, "edge-" + engine, "edge.test");
    JarProxy tlsProxy = start("proxy-" + engine, new JsonObject().put("tls", new JsonObject().put("port", 0)
        .put("certFile", cert.cert().toString()).put("keyFile", cert.key().toString()).put("engine", engine)));
    try {
      stallHttpsReaders(tlsProxy);
    } finally {
      JarProxy.closeAll(tlsProxy);
    }
  }

  private static void stallHttpsReaders(JarProxy edge) throws Exception {
    SSLContext tls = TestCerts.trustAll();
    HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(tls)
        .connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<byte[]> first = h2.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + edge.tlsPort()
        + "/large")).timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(HttpClient.Version.HTTP_2, first.version());
    assertArrayEquals(LARGE_BODY, first.body());

    List<RawH2> h2Readers = new ArrayList<>();
    List<SSLSocket> h1Readers = new ArrayList<>();
    HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    try {
      for (int i = 0; i < TLS_READERS; i++) {
        RawH2 r = RawH2.connect(tls, edge.tlsPort(), 4096); // a reader that does not read
        h2Readers.add(r);
        r.get("edge.test", "/large");
        SSLSocket s = RawH2.tlsSocket(tls, edge.tlsPort(), 4096, "http/1.1");
        h1Readers.add(s);
        OutputStream out = s.getOutputStream();
        out.write("GET /large HTTP/1.1\r\nHost: edge.test\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      }
      for (int i = 0; i < 40; i++) {
        // each within 5 s: a stalled event loop or a response that never comes fails here
        HttpResponse<byte[]> small = plain.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.port()
            + "/small-" + (i % 8))).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, small.statusCode());
        assertEquals("small /small-" + (i % 8), new String(small.body(), StandardCharsets.UTF_8));
      }
      for (RawH2 r : h2Readers.subList(0, 10)) {
        RawH2.Body got = r.readBody();
        assertArrayEquals(Arrays.copyOf(LARGE_BODY, got.bytes().length), got.bytes(),
            "HTTP/2: a prefix of the object (ended by " + got.endedBy() + ")");
        assertTrue(!got.complete() || got.bytes().length == LARGE, "a stream that ended is the whole object");
      }
      for (SSLSocket s : h1Readers.subList(0, 10)) {
        byte[] got = readBody(s.getInputStream());
        assertArrayEquals(Arrays.copyOf(LARGE_BODY, got.length), got, "HTTP/1.1 over TLS: a prefix of the object");
      }
    } finally {
      for (RawH2 r : h2Readers) {
        r.close();
      }
      for (SSLSocket s : h1Readers) {
        s.close();
      }
    }
    HttpResponse<byte[]> after = h2.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + edge.tlsPort()
        + "/large")).timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertArrayEquals(LARGE_BODY, after.body(), "served whole once the readers are gone");
    String metrics = plain.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.adminPort() + "/metrics"))
        .build(), HttpResponse.BodyHandlers.ofString()).body();
    Matcher closed = Pattern.compile("(?m)^edgecache_client_closed_out_of_memory_total ([0-9.]+)").matcher(metrics);
    assertTrue(closed.find() && Double.parseDouble(closed.group(1)) > 0,
        "writes that found no memory closed their connections, and were counted: " + (closed.find(0) ? closed.group() : "no metric"));
    String log = edge.log();
    assertFalse(log.contains("has been blocked for"), "no event loop stalled: " + edge.logTail());
    assertTrue(edge.isAlive(), "still running");
  }

  private static HttpResponse<byte[]> get(HttpClient http, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  /** The body after the head (up to its Content-Length), or what arrived before the connection ended. */
  private static byte[] readBody(InputStream raw) throws IOException {
    InputStream in = new BufferedInputStream(raw);
    java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
    try {
      StringBuilder head = new StringBuilder();
      while (!head.toString().endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) {
          return new byte[0]; // closed before the head ended: no body bytes to compare
        }
        head.append((char) b);
      }
      Matcher m = Pattern.compile("(?i)content-length: *([0-9]+)").matcher(head);
      assertTrue(m.find(), head.toString());
      assertEquals(LARGE, Integer.parseInt(m.group(1)), head.toString());
      byte[] buf = new byte[65_536];
      int n;
      while (body.size() < LARGE && (n = in.read(buf, 0, Math.min(buf.length, LARGE - body.size()))) > 0) {
        body.write(buf, 0, n);
      }
    } catch (SSLException | java.net.SocketException e) {
      // the connection ended: what arrived before is compared
    }
    return body.toByteArray();
  }
}
