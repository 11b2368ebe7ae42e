package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.cache.CachedResponse;
import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.HttpDates;
import io.edgecache.proxy.policy.ResponseView;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** StoredDelivery writing a memory body to a real client: 200, 304, 206, 416, HEAD, If-Range. */
class StoredDeliveryTest {
  private static final long NOW = 1_700_000_000_000L;
  private static final String ETAG = "\"v1\"";
  private static final CachedResponse STORED = new CachedResponse(
      new ResponseView(200, Headers.of("Content-Type", "text/plain", "ETag", ETAG, "Cache-Control", "max-age=60",
          "Date", HttpDates.format(NOW), "Content-Length", "999", "Age", "77"), NOW, NOW),
      "0123456789".getBytes(StandardCharsets.US_ASCII), List.of(), "", Set.of(), false);

  private Vertx vertx;
  private HttpServer front;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    // HTTP/1.1 only, as ProxyVerticle serves it
    front = vertx.createHttpServer(new HttpServerOptions().setHttp2ClearTextEnabled(false)).requestHandler(req -> new StoredDelivery(req, Messages.toHeaders(req.headers()),
        vertx.getOrCreateContext(), false, "http://edge.test/a", new StoredDelivery.Owner() {
          @Override
          public boolean clientGone() {
            return false;
          }

          @Override
          public void storedBodyUnreadable() {
            req.response().setStatusCode(500).end();
          }
        }, new io.edgecache.proxy.cache.HttpCache(new io.edgecache.storage.MemoryStore(1 << 20, 1 << 20))).deliver(STORED, CacheStatus.hit().param("ttl", 55), 5));
    front.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private HttpResponse<String> ask(String method, String... nameValues) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + front.actualPort() + "/a"))
        .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10));
    for (int i = 0; i < nameValues.length; i += 2) {
      b.header(nameValues[i], nameValues[i + 1]);
    }
    return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void deliver_plainGet_isTheWholeBodyWithOurAgeAndLength() throws Exception {
    HttpResponse<String> r = ask("GET");
    assertEquals(200, r.statusCode());
    assertEquals("0123456789", r.body());
    assertEquals("5", r.headers().firstValue("age").orElseThrow());
    assertEquals("10", r.headers().firstValue("content-length").orElseThrow());
    assertEquals("edgecache; hit; ttl=55", r.headers().firstValue("cache-status").orElseThrow());
  }

  @Test
  void deliver_matchingIfNoneMatch_is304WithValidatorsAndNoBody() throws Exception {
    HttpResponse<String> r = ask("GET", "If-None-Match", ETAG);
    assertEquals(304, r.statusCode());
    assertEquals("", r.body());
    assertEquals(ETAG, r.headers().firstValue("etag").orElseThrow());
    assertFalse(r.headers().firstValue("content-type").isPresent());
  }

  @Test
  void deliver_satisfiableRange_is206WithContentRange() throws Exception {
    HttpResponse<String> r = ask("GET", "Range", "bytes=2-4");
    assertEquals(206, r.statusCode());
    assertEquals("234", r.body());
    assertEquals("bytes 2-4/10", r.headers().firstValue("content-range").orElseThrow());
  }

  @Test
  void deliver_rangeOutsideTheBody_is416() throws Exception {
    HttpResponse<String> r = ask("GET", "Range", "bytes=20-");
    assertEquals(416, r.statusCode());
    assertEquals("bytes */10", r.headers().firstValue("content-range").orElseThrow());
  }

  @Test
  void deliver_rangeWithMismatchedIfRange_isTheWhole200() throws Exception {
    HttpResponse<String> r = ask("GET", "Range", "bytes=2-4", "If-Range", "\"v2\"");
    assertEquals(200, r.statusCode());
    assertEquals("0123456789", r.body());
  }

  @Test
  void deliver_head_hasTheLengthButNoBody() throws Exception {
    HttpResponse<String> r = ask("HEAD");
    assertEquals(200, r.statusCode());
    assertEquals("", r.body());
    assertEquals("10", r.headers().firstValue("content-length").orElseThrow());
    assertTrue(r.headers().firstValue("via").orElseThrow().endsWith("edgecache"));
  }
}
