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
    ProxyConfig.Origin origin = new ProxyConfig.Origin("o", "http", "127.0.0.1", originPort, List.of("*"), true);
    ProxyConfig.Upstream upstream = new ProxyConfig.Upstream(2000, responseTimeoutMs, 60_000, 8,
        ProxyConfig.Upstream.DEFAULT_STRIP_REQUEST_HEADERS, 60_000);
    // HTTP/1.1 only, as ProxyVerticle serves it
    front = vertx.createHttpServer(new HttpServerOptions().setHttp2ClearTextEnabled(false)).requestHandler(req -> {
      OriginFetch fetch = new OriginFetch(vertx, client, upstream, Clock.systemUTC(), origin, req, req.authority(),
          req.uri(), Messages.toHeaders(req.headers()));
      fetch.send(req.method(), null, false, () -> false, new OriginFetch.Callback() {
        @Override
        public void onResponse(HttpClientResponse response, long requestTimeMs) {
          response.body().onSuccess(b -> req.response().end("status " + response.statusCode() + " " + b));
        }

        @Override
        public void onFailure(OriginErrors.Failure failure, Throwable cause) {
          req.response().end("failure " + failure.name());
        }
      });
    });
    front.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private String ask(String method, String path) throws Exception {
    HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + front.actualPort() + path))
            .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    return r.body();
  }

  @Test
  void send_get_forwardsHostAndViaAndReportsTheResponse() throws Exception {
    originHandler = r -> r.response().end(r.getHeader("Host") + " | " + r.getHeader("Via"));
    startFront(originServer.actualPort(), 5000);
    String body = ask("GET", "/a");
    assertTrue(body.startsWith("status 200 127.0.0.1:"), body);
    assertTrue(body.endsWith("1.1 edgecache"), body);
  }

  @Test
  void send_getWhoseConnectionIsClosedOnce_isRetriedOnceAndSucceeds() throws Exception {
    originHandler = r -> {
      if (originRequests.get() == 1) {
        r.connection().close();
      } else {
        r.response().end("second");
      }
    };
    startFront(originServer.actualPort(), 5000);
    assertEquals("status 200 second", ask("GET", "/a"));
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
  void send_deleteWhoseConnectionIsClosed_isNotRetried() throws Exception {
    originHandler = r -> r.connection().close();
    startFront(originServer.actualPort(), 5000);
    assertEquals("failure ERROR", ask("DELETE", "/a"));
    assertEquals(1, originRequests.get());
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
