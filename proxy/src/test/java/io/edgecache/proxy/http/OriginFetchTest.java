package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.config.ProxyConfig;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * OriginFetch against a scripted origin over real sockets: a front server hands each request to
 * an OriginFetch and answers with what the callback reported ({@code status N body} or
 * {@code failure KIND}).
 */
class OriginFetchTest {
  private Vertx vertx;
  private HttpServer originServer;
  private HttpServer front;
  private HttpClient client;
  private final AtomicInteger originRequests = new AtomicInteger();
  private volatile Handler<HttpServerRequest> originHandler = r -> r.response().end("ok");
  /** Runs on the front once a request has been handed to its OriginFetch. */
  private volatile Handler<HttpServerRequest> afterSend = r -> { };

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    originServer = vertx.createHttpServer().requestHandler(r -> {
      originRequests.incrementAndGet();
      originHandler.handle(r);
    });
    originServer.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    client = vertx.createHttpClient();
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private void startFront(int originPort, long responseTimeoutMs) throws Exception {
    startFront(originPort, responseTimeoutMs, client);
  }

  private void startFront(int originPort, long responseTimeoutMs, HttpClient client) throws Exception {
    ProxyConfig.Origin origin = new ProxyConfig.Origin("o", "http", "127.0.0.1", originPort, List.of("*"), true);
    ProxyConfig.Upstream upstream = new ProxyConfig.Upstream(2000, responseTimeoutMs, 60_000, 8,
        ProxyConfig.Upstream.DEFAULT_STRIP_REQUEST_HEADERS, 60_000);
    // HTTP/1.1 only, as ProxyVerticle serves it
    front = vertx.createHttpServer(new HttpServerOptions().setHttp2ClearTextEnabled(false)).requestHandler(req -> {
      req.pause(); // as Exchange does: the body waits for the origin request
      OriginFetch fetch = new OriginFetch(vertx, client, upstream, Clock.systemUTC(), origin, req, req.authority(),
          req.uri(), Messages.toHeaders(req.headers()));
      fetch.send(req.method(), null, RequestCheck.forwardsBody(req.method(), req.headers()), () -> false,
          new OriginFetch.Callback() {
        @Override
        public void onResponse(HttpClientResponse response, long requestTimeMs) {
          response.body().onSuccess(b -> req.response().end("status " + response.statusCode() + " " + b));
        }

        @Override
        public void onFailure(OriginErrors.Failure failure, Throwable cause) {
          req.response().end("failure " + failure.name());
        }
      });
      afterSend.handle(req);
    });
    front.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** A front whose origin is a round-robin pool of {@code servers}. */
  private void startPooledFront(String... servers) throws Exception {
    ProxyConfig cfg = io.edgecache.proxy.config.ConfigLoader.parse("t.json", "{\"origins\": [{\"name\": \"o\", \"hosts\": [\"*\"], "
        + "\"servers\": [\"" + String.join("\", \"", servers) + "\"]}]}");
    ProxyConfig.Origin origin = cfg.origins().get(0);
    OriginPools pools = OriginPools.of(cfg.origins(),
        new io.edgecache.proxy.metrics.ProxyMetrics(new io.micrometer.core.instrument.simple.SimpleMeterRegistry()),
        Clock.systemUTC());
    front = vertx.createHttpServer(new HttpServerOptions().setHttp2ClearTextEnabled(false)).requestHandler(req -> {
      req.pause();
      OriginFetch fetch = new OriginFetch(vertx, client, cfg.upstream(), Clock.systemUTC(), origin, req,
          req.authority(), req.uri(), Messages.toHeaders(req.headers())).pooled(pools, req.uri());
      fetch.send(req.method(), null, RequestCheck.forwardsBody(req.method(), req.headers()), () -> false,
          OriginFetch.callback((response, t) -> response.body().onSuccess(
              b -> req.response().end("status " + response.statusCode() + " " + b)),
              (failure, cause) -> req.response().end("failure " + failure.name())));
    });
    front.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private String ask(String method, String path) throws Exception {
    return ask(method, path, null);
  }

  private String ask(String method, String path, String body) throws Exception {
    HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + front.actualPort() + path))
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
            .timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    return r.body();
  }

  /** An origin that closes the connection of its first request and answers the next ones with {@code then}. */
  private Handler<HttpServerRequest> closingTheFirstConnectionThen(Handler<HttpServerRequest> then) {
    return r -> {
      if (originRequests.get() == 1) {
        r.connection().close();
      } else {
        then.handle(r);
      }
    };
  }

  /**
   * The origin client closed under a request (as when the proxy stops while one is being retried):
   * the request is answered with a failure at once, not left without an answer by an exception
   * thrown out of the fetch.
   */
  @Test
  void send_whenTheOriginClientIsClosed_reportsAFailure() throws Exception {
    HttpClient closed = vertx.createHttpClient();
    closed.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    startFront(originServer.actualPort(), 5000, closed);
    assertEquals("failure ERROR", ask("GET", "/a"));
    assertEquals(0, originRequests.get());
  }

  @Test
  void send_get_forwardsHostAndViaAndReportsTheResponse() throws Exception {
    originHandler = r -> r.response().end(r.getHeader("Host") + " | " + r.getHeader("Via"));
    startFront(originServer.actualPort(), 5000);
    String body = ask("GET", "/a");
    assertTrue(body.startsWith("status 200 127.0.0.1:"), body);
    assertTrue(body.endsWith("1.1 edgecache"), body);
  }

  /** Idempotent methods without a body (RFC 9110 9.2.2) are sent once more on a fresh attempt. */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"GET", "DELETE", "OPTIONS"})
  void send_idempotentRequestWhoseConnectionIsClosedOnce_isSentAgainAndSucceeds(String method) throws Exception {
    originHandler = closingTheFirstConnectionThen(r -> r.response().end("second " + r.method()));
    startFront(originServer.actualPort(), 5000);
    assertEquals("status 200 second " + method, ask(method, "/a"));
    assertEquals(2, originRequests.get());
  }

  @Test
  void send_getWhoseConnectionIsAlwaysClosed_failsAsOriginErrorAfterTwoAttempts() throws Exception {
    originHandler = r -> r.connection().close();
    startFront(originServer.actualPort(), 5000);
    assertEquals("failure ERROR", ask("GET", "/a"));
    assertEquals(2, originRequests.get());
  }

  @Test
  void send_putWithSmallBodyWhoseConnectionIsClosedOnce_isSentAgainWithTheSameBody() throws Exception {
    originHandler = closingTheFirstConnectionThen(r -> r.body().onSuccess(b -> r.response().end("got " + b)));
    startFront(originServer.actualPort(), 5000);
    String body = "{\"k\": \"" + "v".repeat(10_000) + "\"}";
    assertEquals("status 200 got " + body, ask("PUT", "/a", body));
    assertEquals(2, originRequests.get());
  }

  @Test
  void send_putWithBodyOverTheReplayLimit_isStreamedAndNotSentAgain() throws Exception {
    originHandler = closingTheFirstConnectionThen(r -> r.body().onSuccess(b -> r.response().end("got " + b.length())));
    startFront(originServer.actualPort(), 5000);
    String body = "x".repeat(OriginFetch.REPLAYABLE_BODY_BYTES + 1);
    assertEquals("failure ERROR", ask("PUT", "/a", body));
    assertEquals(1, originRequests.get());
    assertEquals("status 200 got " + body.length(), ask("PUT", "/a", body));
  }

  @Test
  void send_postWhoseConnectionIsClosed_isNotSentAgain() throws Exception {
    originHandler = r -> r.connection().close();
    startFront(originServer.actualPort(), 5000);
    assertEquals("failure ERROR", ask("POST", "/a", "form=1"));
    assertEquals(1, originRequests.get());
  }

  @Test
  void send_postToAServerThatRefuses_failsOverToTheNextServerWithItsBody() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    originHandler = r -> r.body().onSuccess(b -> r.response().end("got " + b));
    startPooledFront("http://127.0.0.1:" + closedPort, "http://127.0.0.1:" + originServer.actualPort());
    String body = "y".repeat(40_000); // streamed, not held: failover never needs it twice
    for (int i = 0; i < 2; i++) { // round-robin: one of the two starts at the refusing server
      assertEquals("status 200 got " + body, ask("POST", "/a", body));
    }
    assertEquals(2, originRequests.get());
  }

  @Test
  void keepAliveTimeout_anOriginsAdvertisedTimeoutIsShortenedByASecond_soTheConnectionIsNotReusedAsItCloses()
      throws Exception {
    java.util.Set<Object> connections = java.util.concurrent.ConcurrentHashMap.newKeySet();
    originHandler = r -> {
      connections.add(r.connection());
      r.response().putHeader("Keep-Alive", r.getHeader("x-advertise")).end("ok");
    };
    HttpClient proxyClient = ProxyVerticle.originClient(vertx, io.edgecache.proxy.config.ConfigLoader.parse("t.json",
        "{\"origins\": [{\"name\": \"o\", \"hosts\": [\"*\"], \"url\": \"http://127.0.0.1:" + originServer.actualPort() + "\"}]}"));
    startFront(originServer.actualPort(), 5000, proxyClient);
    askAdvertising("timeout=2");
    Thread.sleep(1600); // the origin keeps it 2 s by its own clock; reuse stops after 1 (+ a 250 ms cleaner)
    askAdvertising("timeout=2");
    assertEquals(2, connections.size(), "a connection the origin said it keeps 2 s is not reused after 1.6 s");
    connections.clear();
    askAdvertising("timeout=3, max=100");
    Thread.sleep(1600);
    askAdvertising("timeout=3, max=100");
    assertEquals(1, connections.size(), "one the origin keeps 3 s still is");
  }

  private void askAdvertising(String keepAlive) throws Exception {
    HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + front.actualPort() + "/k"))
            .header("x-advertise", keepAlive).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals("status 200 ok", r.body());
  }

  @Test
  void framingGuard_aResponseLongerThanItsContentLength_neverHandsItsConnectionToTheRequestWaitingForIt()
      throws Exception {
    java.util.concurrent.CountDownLatch postWaiting = new java.util.concurrent.CountDownLatch(1);
    try (io.edgecache.proxy.e2e.ScriptedOrigin raw = new io.edgecache.proxy.e2e.ScriptedOrigin((head, in, out) -> {
      if (head.startsWith("GET")) {
        postWaiting.await(10, TimeUnit.SECONDS);
        Thread.sleep(200); // the POST is queued for the only pooled connection by now
        io.edgecache.proxy.e2e.ScriptedOrigin.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokGARBAGE");
      } else {
        in.readNBytes(6);
        io.edgecache.proxy.e2e.ScriptedOrigin.write(out, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nposted");
      }
    })) {
      int port = Integer.parseInt(raw.url().substring(raw.url().lastIndexOf(':') + 1));
      HttpClient oneConnection = ProxyVerticle.originClient(vertx, io.edgecache.proxy.config.ConfigLoader.parse("t.json",
          "{\"origins\": [{\"name\": \"o\", \"hosts\": [\"*\"], \"url\": \"" + raw.url() + "\"}], "
              + "\"upstream\": {\"maxConnectionsPerOrigin\": 1}}"));
      afterSend = r -> {
        if (r.method() == io.vertx.core.http.HttpMethod.POST) {
          postWaiting.countDown();
        }
      };
      startFront(port, 5000, oneConnection);
      java.util.concurrent.CompletableFuture<String> get = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return ask("GET", "/poisoned");
        } catch (Exception e) {
          return e.toString();
        }
      });
      assertEquals("status 200 posted", ask("POST", "/form", "form=1"), "a POST is never sent twice: it must get a clean connection");
      assertEquals("status 200 ok", get.get(10, TimeUnit.SECONDS));
      assertEquals(2, raw.requests().size());
    }
  }

  @Test
  void reuseSeconds_isASecondLessThanTheOriginsTimeoutAtMostTheIdleTimeoutAndNeverWrittenWithANine() {
    assertEquals(4, OriginFramingGuard.reuseSeconds("timeout=5", 60));
    assertEquals(4, OriginFramingGuard.reuseSeconds("max=100, Timeout=5", 60));
    assertEquals(60, OriginFramingGuard.reuseSeconds("timeout=300", 60));
    assertEquals(8, OriginFramingGuard.reuseSeconds("timeout=10", 60));
    assertEquals(88, OriginFramingGuard.reuseSeconds("timeout=100", 120));
    assertEquals(-1, OriginFramingGuard.reuseSeconds("timeout=1", 60));
    assertEquals(-1, OriginFramingGuard.reuseSeconds("max=5", 60));
    assertEquals(-1, OriginFramingGuard.reuseSeconds("timeout=x", 60));
    assertEquals(60, OriginFramingGuard.reuseSeconds("timeout=99999999999999999999", 60));
  }

  @Test
  void send_originSilentPastResponseTimeout_failsAsTimeoutWithoutRetry() throws Exception {
    originHandler = r -> { };
    startFront(originServer.actualPort(), 300);
    assertEquals("failure TIMEOUT", ask("GET", "/a"));
    assertEquals(1, originRequests.get());
  }

  @Test
  void send_nothingListening_failsAsUnreachable() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    startFront(closedPort, 5000);
    assertEquals("failure UNREACHABLE", ask("GET", "/a"));
  }
}
