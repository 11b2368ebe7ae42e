package io.edgecache.proxy.e2e;

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

/**
 * Seeded random and mutated HTTP/1.1 requests for socket-level fuzzing (bad versions, odd methods
 * and targets, huge or broken header lines, NUL bytes, bare CR/LF, broken chunked framing, random
 * bytes), and a raw exchange that sends one on its own connection and reads until the server
 * closes. A request that never completes (a truncated head, a short body) is half-closed by the
 * client once the server has been silent for {@value #QUIET_MS} ms, as a client that gives up would;
 * the server must then close its side. Used in-process ({@code RequestFuzzIntegrationTest}) and
 * through the jar ({@link RequestFuzzJarIT}).
 */
public final class RequestFuzz {
  private static final int QUIET_MS = 700;
  /** The longest an exchange may take: the server answers or closes within this. */
  public static final int EXCHANGE_DEADLINE_MS = 5_000;
  private static final Pattern STATUS_LINE = Pattern.compile("HTTP/1\\.[01] (\\d{3}) ");

  private RequestFuzz() {}

  /** One fuzz case: its kind (for the summary) and the bytes sent. */
  public record Case(String kind, byte[] bytes) {
    public String shown() {
      String s = new String(bytes, 0, Math.min(bytes.length, 160), StandardCharsets.ISO_8859_1);
      return kind + " " + s.replace("\r", "\\r").replace("\n", "\\n").replace("\0", "\\0");
    }
  }

  /** What one exchange produced: the status codes seen, whether the server closed, how long it took. */
  public record Outcome(Case c, List<Integer> statuses, boolean closed, long millis, String head) {}

  /** Sends the case, reads until the server closes; half-closes once the server has gone quiet. */
  public static Outcome exchange(int port, Case c) throws IOException {
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

  /** {@code count} cases from {@code rnd}, cycling through the kinds. */
  public static List<Case> cases(Random rnd, int count) {
    List<Case> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
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

  /** Runs every case on its own connection, {@code parallel} at a time; the outcomes in case order. */
  public static List<Outcome> runAll(int port, List<Case> cases, int parallel) throws Exception {
    List<Outcome> outcomes = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(parallel);
    try {
      List<Future<Outcome>> futures = new ArrayList<>();
      for (Case c : cases) {
        futures.add(pool.submit(() -> exchange(port, c)));
      }
      for (Future<Outcome> f : futures) {
        outcomes.add(f.get(60, TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdownNow();
    }
    return outcomes;
  }

  /**
   * What went wrong: a 5xx other than 505 (the client's mistake is never a server error; 505 is
   * the answer to another major HTTP version, RFC 9110 15.6.6), or an exchange that neither
   * answered nor closed within {@link #EXCHANGE_DEADLINE_MS}.
   */
  public static List<String> problems(List<Outcome> outcomes) {
    List<String> problems = new ArrayList<>();
    for (Outcome o : outcomes) {
      for (int s : o.statuses()) {
        if (s >= 500 && s != 505) {
          problems.add(s + " for " + o.c().shown() + " -> " + o.head());
        }
      }
      if (o.millis() > EXCHANGE_DEADLINE_MS) {
        problems.add("hung " + o.millis() + " ms: " + o.c().shown());
      }
    }
    return problems;
  }

  /** Status counts by case kind (status 0: closed without a response), for the test log. */
  public static Map<String, Map<Integer, Integer>> summary(List<Outcome> outcomes) {
    Map<String, Map<Integer, Integer>> summary = new TreeMap<>();
    for (Outcome o : outcomes) {
      Map<Integer, Integer> byStatus = summary.computeIfAbsent(o.c().kind(), k -> new TreeMap<>());
      if (o.statuses().isEmpty()) {
        byStatus.merge(0, 1, Integer::sum);
      }
      o.statuses().forEach(st -> byStatus.merge(st, 1, Integer::sum));
    }
    return summary;
  }

  /** "GET / {version}" for edge.test. */
  public static Case versionCase(String version) {
    return new Case("version", ("GET / " + version + "\r\nHost: edge.test\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
  }
}
