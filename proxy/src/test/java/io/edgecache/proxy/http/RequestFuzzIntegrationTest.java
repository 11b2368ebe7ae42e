package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.e2e.RequestFuzz;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Socket-level fuzzing of the request decoder and the request checks, in-process: 400 seeded
 * random and mutated HTTP/1.1 requests ({@link RequestFuzz}), each on its own connection. For
 * each: no 5xx for the client's mistake (505 is the one a client's bad version may get) and the
 * exchange ends (a response, or the connection closes) within a few seconds. Afterwards the proxy
 * still serves and caches a normal request. {@code RequestFuzzJarIT} runs the same through the jar.
 */
class RequestFuzzIntegrationTest extends ProxyHarness {
  private static final Logger log = LoggerFactory.getLogger(RequestFuzzIntegrationTest.class);
  private static final long SEED = 0x5eed_2026_1129L;
  private static final int CASES = 400;

  @Test
  void randomAndMutatedRequests_neverGet5xxNorHang_andTheProxyStillServes() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=60").end("hello"));
    start();

    List<RequestFuzz.Outcome> outcomes = RequestFuzz.runAll(port(), RequestFuzz.cases(new Random(SEED), CASES), 8);

    log.info("fuzz outcomes by kind (status 0 = closed without a response): {}", RequestFuzz.summary(outcomes));
    List<String> problems = RequestFuzz.problems(outcomes);
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
      RequestFuzz.Outcome o = RequestFuzz.exchange(port(), RequestFuzz.versionCase(version));

      assertEquals(List.of(505), o.statuses(), version);
      assertTrue(o.closed(), version + ": connection closed");
    }
  }

  @Test
  void malformedVersion_is400() throws Exception {
    start();

    for (String version : List.of("http/1.1", "HTTP/1.01", "HTTP/1.10", "HTTP/11.1", "HTTPS/1.1", "HTTP/1")) {
      assertEquals(List.of(400), RequestFuzz.exchange(port(), RequestFuzz.versionCase(version)).statuses(), version);
    }
    assertEquals(0, origin.requests.get());
  }

  @Test
  void higherMinorVersion_isServedAsHttp11() throws Exception {
    start();

    RequestFuzz.Outcome o = RequestFuzz.exchange(port(), RequestFuzz.versionCase("HTTP/1.2"));

    assertEquals(List.of(200), o.statuses(), "RFC 9110 2.5: processed as HTTP/1.1");
    assertEquals(1, origin.requests.get());
  }
}
