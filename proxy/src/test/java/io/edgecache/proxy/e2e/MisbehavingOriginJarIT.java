package io.edgecache.proxy.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Origins that misbehave, through the real jar (issue 10, items 5 to 7): a body that stalls
 * mid-transfer ({@code upstream.bodyIdleTimeout}), interim 1xx responses before the final one,
 * and Range requests on objects not stored yet, answered by an origin that ignores Range.
 *
 * <p>The origin is a raw-TCP {@link ScriptedOrigin} that answers by path; the client writes its
 * requests byte by byte with {@code Connection: close} and reads everything until the proxy
 * closes, so interim responses and truncations are seen exactly as sent.
 */
class MisbehavingOriginJarIT {
  private static final int BIG = 3 << 20;
  private static final byte[] BIG_BODY = new byte[BIG];

  @TempDir
  static Path dir;
  private static ScriptedOrigin origin;
  private static JarProxy proxy;

  @BeforeAll
  static void startOriginAndProxy() throws Exception {
    for (int i = 0; i < BIG; i++) {
      BIG_BODY[i] = (byte) ('a' + i % 26);
    }
    origin = new ScriptedOrigin(MisbehavingOriginJarIT::answer);
    JsonObject config = new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("eventLoops", 2))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "raw").put("url", origin.url())
            .put("hosts", new JsonArray().add("*"))))
        .put("memory", new JsonObject().put("maxBytes", "16MiB").put("maxObjectBytes", "1MiB"))
        .put("upstream", new JsonObject().put("bodyIdleTimeout", "500ms"))
        .put("accessLog", new JsonObject().put("enabled", false));
    proxy = JarProxy.start(dir, "proxy", config); // @AfterAll runs even when this fails
  }

  @AfterAll
  static void stop() throws Exception {
    JarProxy.closeAll(proxy, origin);
  }

  private static final String OK = "HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: 5\r\n\r\nhello";
  private static final String TEN = "HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nETag: \"v1\"\r\n"
      + "Content-Length: 10\r\n\r\n0123456789";

  private static void answer(String head, InputStream in, OutputStream out) throws IOException, InterruptedException {
    String path = head.substring(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
    if (path.startsWith("/stall-chunked")) {
      ScriptedOrigin.write(out, "HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5\r\nhello\r\n");
      origin.stall();
    } else if (path.startsWith("/stall")) {
      ScriptedOrigin.write(out, "HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: 10\r\n\r\nhello");
      origin.stall();
    } else if (path.startsWith("/hints")) {
      ScriptedOrigin.write(out, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n" + OK);
    } else if (path.startsWith("/processing")) {
      ScriptedOrigin.write(out, "HTTP/1.1 102 Processing\r\n\r\n" + OK);
    } else if (path.startsWith("/continue")) {
      ScriptedOrigin.write(out, "HTTP/1.1 100 Continue\r\n\r\n" + OK);
    } else if (path.startsWith("/post")) {
      int length = Integer.parseInt(field(head, "content-length"));
      String body = new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
      ScriptedOrigin.write(out, "HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
    } else if (path.startsWith("/big")) {
      ScriptedOrigin.write(out, "HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: " + BIG + "\r\n\r\n");
      out.write(BIG_BODY);
      out.flush();
    } else {
      ScriptedOrigin.write(out, TEN); // ignores any Range
    }
  }

  /** A field of a request head as the origin saw it, or null. */
  private static String field(String head, String name) {
    for (String line : head.split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
        return line.substring(colon + 1).trim();
      }
    }
    return null;
  }

  private static long originRequests(String path) {
    return origin.requests().stream().filter(h -> h.startsWith("GET " + path + " ")).count();
  }

  /** Sends {@code head} (+ CRLF CRLF) and returns every byte until the proxy closes or resets. */
  private static String exchange(String head) throws IOException {
    try (Socket s = new Socket("127.0.0.1", proxy.port())) {
      s.setSoTimeout(15_000);
      s.getOutputStream().write((head + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      s.getOutputStream().flush();
      return readToEnd(s.getInputStream());
    }
  }

  private static String readToEnd(InputStream in) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    try {
      for (int c = in.read(); c >= 0; c = in.read()) {
        b.write(c);
      }
    } catch (IOException e) {
      // a reset: what arrived before it is the answer
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  private static String get(String path, String... fields) throws IOException {
    StringBuilder h = new StringBuilder("GET ").append(path).append(" HTTP/1.1\r\nHost: edge.test\r\nConnection: close");
    for (String f : fields) {
      h.append("\r\n").append(f);
    }
    return exchange(h.toString());
  }

  /** The body of the last response in {@code raw}. */
  private static String body(String raw) {
    return raw.substring(raw.lastIndexOf("\r\n\r\n") + 4);
  }

  private static String lastHead(String raw) {
    String withoutBody = raw.substring(0, raw.lastIndexOf("\r\n\r\n"));
    return withoutBody.substring(withoutBody.lastIndexOf("HTTP/1.1 ")).toLowerCase(Locale.ROOT);
  }

  // ---------------------------------------------------------------- item 5: stalled bodies

  @Test
  void stalledBody_contentLength_truncatedAndNotStored() throws IOException {
    for (int i = 1; i <= 2; i++) {
      String raw = get("/stall");
      assertTrue(raw.startsWith("HTTP/1.1 200"), raw);
      assertTrue(raw.contains("content-length: 10") || raw.contains("Content-Length: 10"), raw);
      assertEquals("hello", body(raw), "5 of 10 bytes, then the connection ends");
      assertEquals(i, originRequests("/stall"), "nothing stored: the next request asks the origin again");
    }
  }

  @Test
  void stalledBody_chunked_noLastChunk() throws IOException {
    for (int i = 1; i <= 2; i++) {
      String raw = get("/stall-chunked");
      assertTrue(raw.startsWith("HTTP/1.1 200") && raw.contains("hello"), raw);
      assertFalse(raw.endsWith("0\r\n\r\n"), "a stalled chunked body must not end cleanly: " + raw);
      assertEquals(i, originRequests("/stall-chunked"));
    }
  }

  @Test
  void stalledBody_countedAsBodyTimeout() throws Exception {
    get("/stall-metric");
    await().atMost(Duration.ofSeconds(10)).until(() ->
        proxy.admin("GET", "/metrics", null).body().contains("kind=\"body-timeout\""));
  }

  // ---------------------------------------------------------------- item 6: interim responses

  @Test
  void earlyHints_relayedToHttp11_thenFinalResponseStored() throws IOException {
    String raw = get("/hints");
    assertTrue(raw.startsWith("HTTP/1.1 103"), raw);
    assertTrue(raw.toLowerCase(Locale.ROOT).contains("link: </style.css>; rel=preload; as=style"), raw);
    assertTrue(lastHead(raw).startsWith("http/1.1 200"), raw);
    assertEquals("hello", body(raw));
    String again = get("/hints");
    assertTrue(again.startsWith("HTTP/1.1 200"), "a stored response carries no 103: " + again);
    assertTrue(lastHead(again).contains("edgecache; hit"), again);
    assertEquals(1, originRequests("/hints"));
  }

  @Test
  void earlyHints_http10Client_notRelayed() throws IOException {
    String raw = exchange("GET /hints-10 HTTP/1.0\r\nHost: edge.test");
    assertTrue(raw.startsWith("HTTP/1.0 200") || raw.startsWith("HTTP/1.1 200"), raw);
    assertFalse(raw.contains(" 103 "), raw);
    assertEquals("hello", body(raw));
  }

  @Test
  void processing_dropped_finalResponseServedAndStored() throws IOException {
    String raw = get("/processing");
    assertTrue(raw.startsWith("HTTP/1.1 200"), raw);
    assertEquals("hello", body(raw));
    assertTrue(lastHead(get("/processing")).contains("edgecache; hit"));
  }

  @Test
  void continueUnasked_dropped() throws IOException {
    String raw = get("/continue");
    assertTrue(raw.startsWith("HTTP/1.1 200"), raw);
    assertEquals("hello", body(raw));
  }

  @Test
  void expectContinue_answeredByTheProxy_originNeverSeesExpect() throws IOException {
    try (Socket s = new Socket("127.0.0.1", proxy.port())) {
      s.setSoTimeout(15_000);
      OutputStream out = s.getOutputStream();
      out.write(("POST /post HTTP/1.1\r\nHost: edge.test\r\nConnection: close\r\nExpect: 100-continue\r\n"
          + "Content-Length: 4\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] interim = in.readNBytes("HTTP/1.1 100 Continue\r\n\r\n".length());
      assertEquals("HTTP/1.1 100 Continue\r\n\r\n", new String(interim, StandardCharsets.ISO_8859_1));
      out.write("ping".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      String raw = readToEnd(in);
      assertTrue(raw.startsWith("HTTP/1.1 200"), raw);
      assertEquals("ping", body(raw));
    }
    List<String> posts = origin.requests().stream().filter(h -> h.startsWith("POST /post ")).toList();
    assertEquals(1, posts.size());
    assertEquals(null, field(posts.get(0), "expect"), posts.get(0));
  }

  // ---------------------------------------------------------------- item 7: Range on a miss

  @Test
  void rangeMiss_originIgnoresRange_206WithExactlyThoseBytes_wholeBodyStored() throws IOException {
    String raw = get("/range-a", "Range: bytes=2-4");
    assertTrue(raw.startsWith("HTTP/1.1 206"), raw);
    assertTrue(lastHead(raw).contains("content-range: bytes 2-4/10"), raw);
    assertTrue(lastHead(raw).contains("content-length: 3"), raw);
    assertEquals("234", body(raw));
    String whole = get("/range-a");
    assertTrue(lastHead(whole).contains("edgecache; hit"), whole);
    assertEquals("0123456789", body(whole));
    assertEquals(1, originRequests("/range-a"));
    String head = origin.requests().stream().filter(h -> h.startsWith("GET /range-a ")).findFirst().orElseThrow();
    assertEquals(null, field(head, "range"), "a cacheable miss asks for the whole object: " + head);
  }

  @Test
  void rangeMiss_ifRangeWithOtherEtag_whole200() throws IOException {
    String raw = get("/range-b", "Range: bytes=2-4", "If-Range: \"v0\"");
    assertTrue(raw.startsWith("HTTP/1.1 200"), raw);
    assertEquals("0123456789", body(raw));
  }

  @Test
  void rangeMiss_ifRangeWithItsEtag_206() throws IOException {
    String raw = get("/range-c", "Range: bytes=-2", "If-Range: \"v1\"");
    assertTrue(raw.startsWith("HTTP/1.1 206"), raw);
    assertEquals("89", body(raw));
  }

  @Test
  void rangeMiss_unsatisfiable_416AndStored() throws IOException {
    String raw = get("/range-d", "Range: bytes=10-");
    assertTrue(raw.startsWith("HTTP/1.1 416"), raw);
    assertTrue(lastHead(raw).contains("content-range: bytes */10"), raw);
    await().atMost(Duration.ofSeconds(5)).until(() -> lastHead(get("/range-d")).contains("edgecache; hit"));
    assertEquals(1, originRequests("/range-d"));
  }

  @Test
  void rangeMiss_bodyLargerThanEveryTier_slicedWhileStreaming() throws IOException {
    int first = (2 << 20) + 7;
    String raw = get("/big", "Range: bytes=" + first + "-" + (first + 15));
    assertTrue(raw.startsWith("HTTP/1.1 206"), raw.substring(0, Math.min(raw.length(), 400)));
    assertTrue(lastHead(raw).contains("content-range: bytes " + first + "-" + (first + 15) + "/" + BIG), raw);
    assertEquals(new String(BIG_BODY, first, 16, StandardCharsets.ISO_8859_1), body(raw));
    String next = get("/big", "Range: bytes=0-3");
    assertEquals("abcd", body(next));
  }
}
