package io.edgecache.proxy.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Origins that close their connection right after a response (HTTP/1.0 servers such as
 * {@code python3 -m http.server}), while a slow client holds the origin's body back: the close
 * arrives before the proxy has taken the last bytes, which by then sit in the proxy's receive
 * queues. A complete body must still reach the client whole and be stored; a body cut short by
 * the close must still be seen as cut (RFC 9112 §8: an incomplete message is not cached).
 */
class ClosingOriginIntegrationTest extends ProxyHarness {
  private static final int SIZE = 16 << 20;
  private static final int READ_BYTES = Integer.getInteger("closing.readBytes", 16 << 10);
  private static final long READ_PAUSE_MS = Long.getLong("closing.readPauseMs", 2);

  @TempDir
  Path dir;

  private ClosingOrigin raw;

  @AfterEach
  void closeRaw() throws IOException {
    if (raw != null) {
      raw.close();
    }
  }

  /**
   * An HTTP/1.0 origin over raw TCP: per connection, one response ({@code headers}, then the first
   * {@code sent} bytes of {@code body}), then it closes the connection, as {@code python3 -m
   * http.server} does.
   */
  private static final class ClosingOrigin implements AutoCloseable {
    final ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    final List<String> requests = new CopyOnWriteArrayList<>();

    ClosingOrigin(String headers, byte[] body, int sent) throws IOException {
      this("Cache-Control: max-age=3600\r\n" + headers, n -> body, sent);
    }

    /** {@code bodies} gives the body of the n-th request (1, 2, ...). */
    ClosingOrigin(String headers, java.util.function.IntFunction<byte[]> bodies, int sent) throws IOException {
      Thread t = new Thread(() -> {
        while (!server.isClosed()) {
          try (Socket s = server.accept()) {
            InputStream in = s.getInputStream();
            requests.add(DiskTierIntegrationTest.readHead(in));
            byte[] body = bodies.apply(requests.size());
            OutputStream out = s.getOutputStream();
            out.write(("HTTP/1.0 200 OK\r\n" + headers + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write(body, 0, sent);
            out.flush();
          } catch (IOException e) {
            // the proxy reset the connection: the next one is served the same way
          }
        }
      }, "closing-origin");
      t.setDaemon(true);
      t.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      server.close();
    }
  }

  private void startWith(String headers, byte[] body, int sent, boolean diskTier) throws Exception {
    startWith(headers, body, sent, diskTier, "5s");
  }

  private void startWith(String headers, byte[] body, int sent, boolean diskTier, String bodyIdle) throws Exception {
    startWith(new ClosingOrigin(headers, body, sent), diskTier, bodyIdle);
  }

  private void startWith(ClosingOrigin closing, boolean diskTier, String bodyIdle) throws Exception {
    raw = closing;
    JsonObject cfg = baseConfig();
    cfg.put("origins", new JsonArray().add(new JsonObject().put("name", "raw").put("url", raw.url())
        .put("hosts", new JsonArray().add("*"))));
    if (diskTier) {
      cfg.put("memory", new JsonObject().put("maxBytes", "8MiB").put("maxObjectBytes", "64KiB"))
          .put("disk", new JsonObject().put("path", dir.resolve("cache").toString()).put("maxBytes", "64MiB")
              .put("maxObjectBytes", "32MiB"));
    } else {
      cfg.put("memory", new JsonObject().put("maxBytes", "64MiB").put("maxObjectBytes", "32MiB"));
    }
    cfg.put("upstream", new JsonObject().put("bodyIdleTimeout", bodyIdle));
    start(cfg);
  }

  /**
   * A GET from a client slower than the origin ({@link #READ_BYTES} at a time, with a pause after
   * each read, into a receive buffer of that size), until the proxy closes the connection (the
   * request says {@code Connection: close}) or resets it. Returns the body as received: de-chunked when chunked, and as much
   * of it as arrived when the transfer was cut.
   */
  private byte[] slowClientGet(String path) throws Exception {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    try (Socket s = new Socket()) {
      s.setReceiveBufferSize(READ_BYTES);
      s.connect(new java.net.InetSocketAddress("127.0.0.1", port()), 5000);
      s.setSoTimeout(20_000);
      s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: edge.test\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = s.getInputStream();
      byte[] buf = new byte[READ_BYTES];
      try {
        for (int n; (n = in.read(buf)) >= 0; ) {
          all.write(buf, 0, n);
          Thread.sleep(READ_PAUSE_MS); // a client slower than the origin: the proxy holds the origin back
        }
      } catch (java.net.SocketException reset) {
        // a truncated transfer may end in a reset: what arrived is checked by the caller
      }
    }
    byte[] bytes = all.toByteArray();
    String text = new String(bytes, StandardCharsets.ISO_8859_1);
    int bodyAt = text.indexOf("\r\n\r\n") + 4;
    String head = text.substring(0, bodyAt).toLowerCase(java.util.Locale.ROOT);
    assertTrue(head.startsWith("http/1.1 200"), head);
    byte[] body = Arrays.copyOfRange(bytes, bodyAt, bytes.length);
    return head.contains("transfer-encoding: chunked") ? dechunk(body) : body;
  }

  /** The data of a chunked body, as far as it goes; a missing last chunk leaves it short. */
  private static byte[] dechunk(byte[] chunked) {
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    int at = 0;
    while (at < chunked.length) {
      int eol = indexOf(chunked, at);
      if (eol < 0) {
        break;
      }
      int n = Integer.parseInt(new String(chunked, at, eol - at, StandardCharsets.ISO_8859_1).split(";")[0].trim(), 16);
      if (n == 0) {
        break;
      }
      int from = eol + 2;
      data.write(chunked, from, Math.min(n, chunked.length - from));
      at = from + n + 2;
    }
    return data.toByteArray();
  }

  private static int indexOf(byte[] b, int from) {
    for (int i = from; i + 1 < b.length; i++) {
      if (b[i] == '\r' && b[i + 1] == '\n') {
        return i;
      }
    }
    return -1;
  }

  private RawHttp.Response assertStoredAndServedFromCache(String path, byte[] body) throws IOException {
    int asked = raw.requests.size();
    RawHttp.Response again = RawHttp.get(port(), path);
    assertEquals(200, again.status());
    assertTrue(again.header("cache-status").contains("hit"), again.header("cache-status"));
    assertArrayEquals(body, again.body());
    assertEquals(asked, raw.requests.size(), "served from the cache: the origin was not asked again");
    return again;
  }

  @Test
  void contentLength_closedWhileASlowClientHoldsTheBody_diskTier_wholeBodyServedAndStored() throws Exception {
    byte[] body = DiskTierIntegrationTest.content("/body", SIZE);
    startWith("Content-Length: " + SIZE + "\r\n", body, SIZE, true);
    assertArrayEquals(body, slowClientGet("/closing-disk.bin"), "every byte, though the origin closed first");
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.disk().diskStats().entries() == 1);
    assertStoredAndServedFromCache("/closing-disk.bin", body);
  }

  @Test
  void contentLength_closedWhileASlowClientHoldsTheBody_memoryTier_wholeBodyServedAndStored() throws Exception {
    byte[] body = DiskTierIntegrationTest.content("/body", SIZE);
    startWith("Content-Length: " + SIZE + "\r\n", body, SIZE, false);
    assertArrayEquals(body, slowClientGet("/closing-memory.bin"), "every byte, though the origin closed first");
    assertStoredAndServedFromCache("/closing-memory.bin", body);
  }

  /** RFC 9112 §6.3 (8): without a length, the body is what arrives before the close. */
  @Test
  void noLength_closeDelimitedBodyHeldBackByASlowClient_wholeBodyServed() throws Exception {
    byte[] body = DiskTierIntegrationTest.content("/body", SIZE);
    startWith("", body, SIZE, true);
    assertArrayEquals(body, slowClientGet("/close-delimited.bin"), "every byte up to the close");
  }

  @Test
  void contentLength_closedBeforeTheLastByteWhileHeldBack_clientSeesTruncationAndNothingIsStored() throws Exception {
    byte[] body = DiskTierIntegrationTest.content("/body", SIZE);
    // a body idle timeout longer than the client's read timeout (20 s): the cut must be seen from
    // the close itself, not from the origin's silence
    startWith("Content-Length: " + SIZE + "\r\n", body, SIZE / 2, true, "60s");
    byte[] got = slowClientGet("/cut.bin");
    assertTrue(got.length < SIZE, "fewer bytes than Content-Length: " + got.length);
    assertArrayEquals(Arrays.copyOf(body, got.length), got, "what arrived is the origin's bytes");
    assertEquals(1, raw.requests.size());
    assertEquals(0, proxy.disk().diskStats().entries(), "an incomplete body is never stored");
    byte[] again = slowClientGet("/cut.bin");
    assertTrue(again.length < SIZE, "cut again: " + again.length);
    assertEquals(2, raw.requests.size(), "the next request asked the origin again");
  }

  /**
   * A stale-while-revalidate refresh of a body above the memory tier's object limit is written to
   * disk as it arrives, the origin paused while the disk is behind; an origin that closes its
   * connection after the new body still replaces the stored one.
   */
  @Test
  void backgroundRefreshToDisk_originClosesAfterTheNewBody_replacesTheStoredBody() throws Exception {
    byte[] v1 = DiskTierIntegrationTest.content("/v1", SIZE);
    byte[] v2 = DiskTierIntegrationTest.content("/v2", SIZE);
    startWith(new ClosingOrigin("Cache-Control: max-age=1, stale-while-revalidate=600\r\nAge: 10\r\n"
        + "Content-Length: " + SIZE + "\r\n", n -> n == 1 ? v1 : v2, SIZE), true, "5s");
    assertArrayEquals(v1, RawHttp.get(port(), "/refreshed.bin").body());
    await().atMost(Duration.ofSeconds(20)).until(() -> proxy.disk().diskStats().streamsCommitted() == 1);

    RawHttp.Response stale = RawHttp.get(port(), "/refreshed.bin");
    assertTrue(stale.header("Cache-Status").contains("stale-while-revalidate"), stale.header("Cache-Status"));
    assertArrayEquals(v1, stale.body());
    await().atMost(Duration.ofSeconds(20)).until(() -> proxy.disk().diskStats().streamsCommitted() == 2);
    assertEquals(2, raw.requests.size(), "one refresh, not a retry after a failed one");
    assertArrayEquals(v2, RawHttp.get(port(), "/refreshed.bin").body(), "the refreshed body");
  }
}
