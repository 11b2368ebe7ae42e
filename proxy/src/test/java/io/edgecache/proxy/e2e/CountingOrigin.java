package io.edgecache.proxy.e2e;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A real Vert.x HTTP origin in the test JVM on an ephemeral loopback port. It records every
 * request (method, Host without port in lower case, path) so tests count what reached it, and
 * answers with the handler the test gives.
 */
final class CountingOrigin implements AutoCloseable {
  /** One request as the origin saw it. */
  record Seen(String method, String host, String path) {}

  private final Vertx vertx = Vertx.vertx();
  private final List<Seen> seen = new CopyOnWriteArrayList<>();
  private final HttpServer server;

  CountingOrigin(Handler<HttpServerRequest> handler) throws Exception {
    server = vertx.createHttpServer().requestHandler(r -> {
      seen.add(new Seen(r.method().name(), hostOf(r.getHeader("Host")), r.path()));
      handler.handle(r);
    });
    server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static String hostOf(String host) {
    if (host == null) {
      return "";
    }
    int colon = host.lastIndexOf(':');
    String h = colon > host.lastIndexOf(']') ? host.substring(0, colon) : host;
    return h.toLowerCase(Locale.ROOT);
  }

  /** The origin's Vert.x instance, for handlers that continue a response later. */
  Vertx vertx() {
    return vertx;
  }

  /** {@code http://127.0.0.1:port}, for {@code origins[].url}. */
  String url() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  /** Requests with this method and path, for any host. */
  long count(String method, String path) {
    return seen.stream().filter(s -> s.method().equals(method) && s.path().equals(path)).count();
  }

  /** Requests with this method and path for {@code host} (compared in lower case, port ignored). */
  long count(String method, String host, String path) {
    String h = hostOf(host);
    return seen.stream().filter(s -> s.method().equals(method) && s.host().equals(h) && s.path().equals(path)).count();
  }

  /** Forgets what was seen (between cases of a table test sharing one origin). */
  void reset() {
    seen.clear();
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
