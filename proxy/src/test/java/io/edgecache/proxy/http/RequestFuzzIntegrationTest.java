package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Socket-level fuzzing of the request decoder and the request checks: a few hundred seeded
 * random and mutated HTTP/1.1 requests (bad versions, odd methods and targets, huge or broken
 * header lines, NUL bytes, bare CR/LF, broken chunked framing, random bytes), each on its own
 * connection. For each: no 5xx for the client's mistake (505 is the one 5xx a client's bad version
 * may get, RFC 9110 15.6.6), and the exchange ends (a response, or the connection closes) within a
 * few seconds. Afterwards the proxy still serves and caches a normal request.
 *
 * <p>A request that never completes (a truncated head, a short body) is half-closed by the client
 * once the server has been silent for {@link #QUIET_MS}, as a client that gives up would; the
 * server must then close its side.
 */
class RequestFuzzIntegrationTest extends ProxyHarness {
  private static final Logger log = LoggerFactory.getLogger(RequestFuzzIntegrationTest.class);
  private static final long SEED = 0x5eed_2026_1129L;
  private static final int CASES = 400;
  private static final int QUIET_MS = 700;
  private static final int EXCHANGE_DEADLINE_MS = 5_000;
  private static final Pattern STATUS_LINE = Pattern.compile("HTTP/1\\.[01] (\\d{3}) ");

  /** One fuzz case: its kind (for the summary) and the bytes sent. */
  record Case(String kind, byte[] bytes) {
    String shown() {
      String s = new String(bytes, 0, Math.min(bytes.length, 160), StandardCharsets.ISO_8859_1);
      return kind + " " + s.replace("\r", "\\r").replace("\n", "\\n").replace("\0", "\\0");
    }
  }

  /** What one exchange produced: the status codes seen, whether the server closed, how long it took. */
  record Outcome(Case c, List<Integer> statuses, boolean closed, long millis, String head) {}

  @Test
  void randomAndMutatedRequests_neverGet5xxNorHang_andTheProxyStillServes() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=60").end("hello"));
    start();
    List<Case> cases = cases(new Random(SEED));

    List<Outcome> outcomes = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Outcome>> futures = new ArrayList<>();
      for (Case c : cases) {
        futures.add(pool.submit(() -> exchange(port(), c)));
      }
      for (Future<Outcome> f : futures) {
        outcomes.add(f.get(30, TimeUnit.SECONDS)); // blocking-ok: test thread
      }
    } finally {
      pool.shutdownNow();
    }

    Map<String, Map<Integer, Integer>> summary = new TreeMap<>();
    List<String> problems = new ArrayList<>();
    for (Outcome o : outcomes) {
      Map<Integer, Integer> byStatus = summary.computeIfAbsent(o.c().kind(), k -> new TreeMap<>());
      if (o.statuses().isEmpty()) {
        byStatus.merge(0, 1, Integer::sum);
      }
      for (int s : o.statuses()) {
        byStatus.merge(s, 1, Integer::sum);
        if (s >= 500 && s != 505) {
          problems.add(s + " for " + o.c().shown() + " -> " + o.head());
        }
      }
      if (o.millis() > EXCHANGE_DEADLINE_MS) {
        problems.add("hung " + o.millis() + " ms: " + o.c().shown());
      }
    }
    log.info("fuzz outcomes by kind (status 0 = closed without a response): {}", summary);
    assertTrue(problems.isEmpty(), () -> problems.size() + " problems:\n" + String.join("\n", problems));

    int before = origin.requests.get();
    RawHttp.Response first = RawHttp.get(port(), "/after-fuzz");
    RawHttp.Response second = RawHttp.get(port(), "/after-fuzz");

    assertEquals(200, first.status());
    assertEquals("hello", second.text());
    assertEquals(before + 1, origin.requests.get(), "one origin fetch, then a hit");
  }

  @Test
  void otherMajorVersion_is505AndCloses() throws Exception {
    start();

    for (String version : List.of("HTTP/2.0", "HTTP/3.0", "HTTP/9.9", "HTTP/0.9")) {
      Outcome o = exchange(port(), versionCase(version));

      assertEquals(List.of(505), o.statuses(), version);
      assertTrue(o.closed(), version + ": connection closed");
    }
  }

  @Test
  void malformedVersion_is400() throws Exception {
    start();

    for (String version : List.of("http/1.1", "HTTP/1.01", "HTTP/1.10", "HTTP/11.1", "HTTPS/1.1", "HTTP/1")) {
      assertEquals(List.of(400), exchange(port(), versionCase(version)).statuses(), version);
    }
    assertEquals(0, origin.requests.get());
  }

  @Test
  void higherMinorVersion_isServedAsHttp11() throws Exception {
    start();

    Outcome o = exchange(port(), versionCase("HTTP/1.2"));

    assertEquals(List.of(200), o.statuses(), "RFC 9110 2.5: processed as HTTP/1.1");
    assertEquals(1, origin.requests.get());
  }

  private static Case versionCase(String version) {
    return new Case("version", ("GET / " + version + "\r\nHost: edge.test\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
  }

  /** Sends the case, reads until the server closes; half-closes once the server has gone quiet. */
  static Outcome exchange(int port, Case c) throws IOException {
    long start = System.nanoTime();
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    boolean closed = false;
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(QUIET_MS);
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      try {
        out.write(c.bytes());
        out.flush();
      } catch (IOException e) {
        // the server may refuse and close before reading everything: its answer is still read below
      }
      boolean halfClosed = false;
      byte[] buf = new byte[8192];
      while (elapsedMs(start) < EXCHANGE_DEADLINE_MS + 1_000) {
        try {
          int n = in.read(buf);
          if (n < 0) {
            closed = true;
            break;
          }
          got.write(buf, 0, n);
        } catch (SocketTimeoutException e) {
          if (!halfClosed) {
            halfClosed = true;
            s.shutdownOutput();
          }
        } catch (IOException e) {
          closed = true; // reset
          break;
        }
      }
    }
    List<Integer> statuses = new ArrayList<>();
    String text = got.toString(StandardCharsets.ISO_8859_1);
    Matcher m = STATUS_LINE.matcher(text);
    while (m.find()) {
      statuses.add(Integer.parseInt(m.group(1)));
    }
    return new Outcome(c, statuses, closed, elapsedMs(start),
        text.substring(0, Math.min(text.length(), 200)).replace("\r\n", " | "));
  }

  private static long elapsedMs(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  // ---------------------------------------------------------------- the cases

  private static final String[] VERSIONS = {"HTTP/1.2", "HTTP/2.0", "HTTP/0.9", "HTTP/9.9", "HTTP/1", "http/1.1",
    "HTTP/1.1x", "HTTP/ 1.1", "HTTP/1.1 extra", "", "HTTP/-1.1", "HTTP/1.01", "HTTPS/1.1", "HTTP/11.1"};
  private static final String[] METHODS = {"G\0T", "GET\tX", "FOO", "get", "", "PURGEX", "M-SEARCH", "GET /", "\u00c9T",
    "X".repeat(300), "PRI", "CONNECT", "TRACE", "DELETE", "OPTIONS"};
  private static final String[] TARGETS = {"*", "http://", "http://[::1", "http://edge.test:99999/", "//x", "http://user@edge.test/",
    "a b", "/%00", "/\u00ff", "http://edge.test/?q#frag", "/" + "a".repeat(9000), "", "?", "http://edge.test", "HTTP://EDGE.TEST/x",
    "ftp://edge.test/", "http://:80/", "http://edge.test:/", "/..%2f..%2fetc", "/\0", "http://[::1]:0/", "mailto:a@b"};
  private static final String[] HEADER_LINES = {"X-Long: " + "v".repeat(20_000), "NoColon", ": novalue", "Name : v", " folded",
    "\tfolded", "X-Nul: a\0b", "X-CR: a\rb", "X-Bin: \u00ff\u00fe", "Host: other.test", "Host:", "Content-Length: -1",
    "Content-Length: abc", "Content-Length: 99999999999999999999", "Content-Length: 5", "Transfer-Encoding: gzip",
    "Transfer-Encoding: chunked, identity", "Expect: 100-continue", "Expect: bogus", "Upgrade: h2c", "Connection: Upgrade, HTTP2-Settings",
    "Accept-Encoding: ;", "Accept-Language: ;", "If-None-Match: \"", "Range: bytes=-", "Range: bytes=9-1", "Cache-Control: max-age=\"",
    "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT junk", "Age: -1", "X-" + "h".repeat(9000) + ": 1"};
  private static final String[] CHUNKED_BODIES = {"zz\r\nab\r\n0\r\n\r\n", "-1\r\nab\r\n0\r\n\r\n", "ffffffffffffffffff\r\nab\r\n",
    "2\r\nabc\r\n0\r\n\r\n", "2;ext=\"\r\nab\r\n0\r\n\r\n", "2\nab\n0\n\n", "0\r\nX-Trailer: " + "t".repeat(20_000) + "\r\n\r\n",
    "2\r\nab", "0\r\n", "\r\n\r\n", "2 \r\nab\r\n0\r\n\r\n", "0x2\r\nab\r\n0\r\n\r\n"};

  private static List<Case> cases(Random rnd) {
    List<Case> out = new ArrayList<>();
    for (int i = 0; i < CASES; i++) {
      switch (i % 8) {
        case 0 -> out.add(new Case("version", ascii("GET /v" + i + " " + pick(rnd, VERSIONS) + "\r\nHost: edge.test\r\n\r\n")));
        case 1 -> out.add(new Case("method", ascii(pick(rnd, METHODS) + " /m" + i + " HTTP/1.1\r\nHost: edge.test\r\n\r\n")));
        case 2 -> out.add(new Case("target", ascii("GET " + pick(rnd, TARGETS) + " HTTP/1.1\r\nHost: edge.test\r\n\r\n")));
        case 3 -> out.add(new Case("header", ascii("GET /h" + i + " HTTP/1.1\r\nHost: edge.test\r\n" + pick(rnd, HEADER_LINES)
            + "\r\n" + (rnd.nextBoolean() ? pick(rnd, HEADER_LINES) + "\r\n" : "") + "\r\n")));
        case 4 -> out.add(new Case("chunked", ascii("POST /c" + i + " HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked\r\n"
            + (rnd.nextInt(4) == 0 ? "Content-Length: 3\r\n" : "") + "\r\n" + pick(rnd, CHUNKED_BODIES))));
        case 5 -> out.add(new Case("line-ends", lineEnds(rnd, "GET /l" + i + " HTTP/1.1\r\nHost: edge.test\r\nAccept: */*\r\n\r\n")));
        case 6 -> out.add(new Case("flipped", flipped(rnd, "GET /f" + i + "?a=b HTTP/1.1\r\nHost: edge.test\r\nUser-Agent: fuzz\r\n"
            + "Accept-Encoding: gzip\r\n\r\n")));
        default -> out.add(new Case("random", randomBytes(rnd)));
      }
    }
    return out;
  }

  private static String pick(Random rnd, String[] from) {
    return from[rnd.nextInt(from.length)];
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  /** Replaces some CRLFs with a bare LF, a bare CR, or CR CR LF. */
  private static byte[] lineEnds(Random rnd, String request) {
    StringBuilder sb = new StringBuilder();
    for (String line : request.split("\r\n", -1)) {
      if (sb.length() > 0 || line.isEmpty()) {
        sb.append(switch (rnd.nextInt(4)) {
          case 0 -> "\n";
          case 1 -> "\r";
          case 2 -> "\r\r\n";
          default -> "\r\n";
        });
      }
      sb.append(line);
    }
    return ascii(sb.append("\r\n\r\n").toString());
  }

  /** A valid request with one to four bytes replaced by random ones (NUL, CR, LF, high bytes included). */
  private static byte[] flipped(Random rnd, String request) {
    byte[] b = ascii(request);
    int flips = 1 + rnd.nextInt(4);
    for (int k = 0; k < flips; k++) {
      b[rnd.nextInt(b.length - 4)] = (byte) rnd.nextInt(256);
    }
    return b;
  }

  /** Random bytes, usually ending in an empty line so that the decoder sees a complete head. */
  private static byte[] randomBytes(Random rnd) {
    byte[] b = new byte[1 + rnd.nextInt(300)];
    rnd.nextBytes(b);
    if (rnd.nextInt(4) > 0 && b.length > 4) {
      System.arraycopy(ascii("\r\n\r\n"), 0, b, b.length - 4, 4);
    }
    return b;
  }
}
