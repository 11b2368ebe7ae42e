package io.edgecache.proxy.http;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scripted origin on an ephemeral port: counts requests and connections, records what it was
 * sent, and answers with whatever handler the test installs.
 */
final class TestOrigin implements AutoCloseable {
  /** One request as the origin saw it. */
  record Seen(String method, String uri, io.vertx.core.MultiMap headers) {}

  private final Vertx vertx;
  private final HttpServer server;
  final AtomicInteger requests = new AtomicInteger();
  final List<Seen> seen = new CopyOnWriteArrayList<>();
  final Set<HttpConnection> connections = ConcurrentHashMap.newKeySet();
  private volatile Handler<HttpServerRequest> handler = r -> r.response().end("hello");

  TestOrigin(Vertx vertx) throws Exception {
    this.vertx = vertx;
    server = vertx.createHttpServer()
        .connectionHandler(connections::add)
        .requestHandler(r -> {
          requests.incrementAndGet();
          seen.add(new Seen(r.method().name(), r.uri(), io.vertx.core.MultiMap.caseInsensitiveMultiMap().addAll(r.headers())));
          handler.handle(r);
        });
    server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  TestOrigin handle(Handler<HttpServerRequest> h) {
    this.handler = h;
    return this;
  }

  int port() {
    return server.actualPort();
  }

  String url() {
    return "http://127.0.0.1:" + port();
  }

  Seen last() {
    return seen.get(seen.size() - 1);
  }

  @Override
  public void close() throws Exception {
    server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  Vertx vertx() {
    return vertx;
  }
}
