package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Request coalescing through real sockets: concurrent misses share one origin fetch. */
class CoalescingIntegrationTest extends ProxyHarness {

  private List<HttpResponse<byte[]>> concurrentGets(String path, int n) throws Exception {
    HttpClient http = HttpClient.newBuilder().executor(java.util.concurrent.Executors.newFixedThreadPool(8)).build();
    List<CompletableFuture<HttpResponse<byte[]>>> futures = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      futures.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + path)).build(),
          HttpResponse.BodyHandlers.ofByteArray()));
    }
    List<HttpResponse<byte[]>> out = new ArrayList<>();
    for (CompletableFuture<HttpResponse<byte[]>> f : futures) {
      out.add(f.get(30, TimeUnit.SECONDS));
    }
    return out;
  }

  @Test
  void get_hundredConcurrentMissesForOneKey_makeOneOriginRequestAndAllGetIdenticalBytes() throws Exception {
    byte[] body = new byte[300_000];
    new java.util.Random(3).nextBytes(body);
    origin.handle(r -> originVertx.setTimer(500, t -> {
      // two writes, so waiters that joined early see the body arrive in pieces
      r.response().putHeader("Cache-Control", "max-age=60").putHeader("Content-Length", Integer.toString(body.length));
      r.response().write(Buffer.buffer(java.util.Arrays.copyOf(body, 1000)));
      originVertx.setTimer(100, t2 -> r.response().end(Buffer.buffer(java.util.Arrays.copyOfRange(body, 1000, body.length))));
    }));
    start();
    List<HttpResponse<byte[]>> responses = concurrentGets("/hot.js", 100);
    assertEquals(1, origin.requests.get());
    int collapsed = 0;
    for (HttpResponse<byte[]> r : responses) {
      assertEquals(200, r.statusCode());
      assertArrayEquals(body, r.body());
      if (r.headers().firstValue("Cache-Status").orElse("").contains("collapsed")) {
        collapsed++;
      }
    }
    assertTrue(collapsed > 0, "no response says collapsed");
  }

  @Test
  void get_concurrentRequestsForAStaleResponse_sendOneConditionalRequest() throws Exception {
    origin.handle(r -> {
      if (r.headers().contains("If-None-Match")) {
        originVertx.setTimer(300, t -> r.response().setStatusCode(304).putHeader("ETag", "\"s1\"")
            .putHeader("Cache-Control", "max-age=600").end());
      } else {
        r.response().putHeader("Cache-Control", "max-age=1").putHeader("Age", "10").putHeader("ETag", "\"s1\"")
            .end("stale-body");
      }
    });
    start();
    concurrentGets("/stale.css", 1); // same client, same Host: the same cache key as the burst below
    List<HttpResponse<byte[]>> responses = concurrentGets("/stale.css", 20);
    List<String> statuses = new java.util.ArrayList<>();
    for (HttpResponse<byte[]> r : responses) {
      assertEquals(200, r.statusCode());
      assertEquals("stale-body", new String(r.body()));
      statuses.add(r.headers().firstValue("Cache-Status").orElse("-"));
    }
    assertEquals(2, origin.requests.get(), "one fill and one revalidation; responses: " + statuses);
  }

  @Test
  void get_concurrentMissesForUncacheableResponse_eachGoToTheOrigin() throws Exception {
    AtomicInteger n = new AtomicInteger();
    origin.handle(r -> originVertx.setTimer(300, t ->
        r.response().putHeader("Cache-Control", "no-store").end("private-" + n.incrementAndGet())));
    start();
    List<HttpResponse<byte[]>> responses = concurrentGets("/cart", 10);
    assertEquals(10, origin.requests.get());
    java.util.Set<String> bodies = new java.util.HashSet<>();
    for (HttpResponse<byte[]> r : responses) {
      assertEquals(200, r.statusCode());
      bodies.add(new String(r.body()));
    }
    assertEquals(10, bodies.size(), "a no-store response was shared between clients");
  }

  @Test
  void get_originDownWhileWaitersQueued_everyoneGets502() throws Exception {
    origin.handle(r -> originVertx.setTimer(300, t -> r.connection().close()));
    start();
    List<HttpResponse<byte[]>> responses = concurrentGets("/down", 10);
    for (HttpResponse<byte[]> r : responses) {
      assertEquals(502, r.statusCode());
    }
  }
}
