package io.edgecache.proxy.http;

import io.edgecache.proxy.policy.HttpDates;
import io.edgecache.proxy.purge.PurgeService;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.nio.charset.StandardCharsets;

/**
 * Responses made here rather than by the origin (the {@code SYNTH} step): errors and refusals as
 * short text, purge answers as JSON. Neither is ever stored by a downstream cache
 * ({@code Cache-Control: no-store}). Call on the request's event loop.
 */
final class Synthetic {
  private Synthetic() {}

  /** {@code status} with the body {@code "<status> <message>\n"}; closes the connection after it when {@code close}. */
  static void error(HttpServerRequest req, int status, String message, CacheStatus cs, boolean close, long nowMs) {
    HttpServerResponse resp = req.response();
    byte[] body = (status + " " + message + "\n").getBytes(StandardCharsets.UTF_8);
    resp.setStatusCode(status);
    resp.putHeader("Content-Type", "text/plain; charset=utf-8");
    resp.putHeader("Content-Length", Integer.toString(body.length));
    resp.putHeader("Cache-Control", "no-store");
    resp.putHeader("Date", HttpDates.format(nowMs));
    resp.putHeader(Messages.CACHE_STATUS, cs.toString());
    if (close) {
      resp.putHeader("Connection", "close");
    }
    resp.end(Buffer.buffer(body)).onComplete(v -> {
      if (close) {
        req.connection().close();
      }
    });
  }

  /** The answer to {@code PURGE /path}. */
  static void purge(HttpServerResponse resp, PurgeService.Answer answer) {
    if (answer.challenge()) {
      resp.putHeader("WWW-Authenticate", PurgeService.Answer.CHALLENGE);
    }
    resp.setStatusCode(answer.status())
        .putHeader("Content-Type", "application/json")
        .putHeader("Cache-Control", "no-store")
        .putHeader(Messages.CACHE_STATUS, CacheStatus.fwd(CacheStatus.Fwd.BYPASS).detail("purge").toString())
        .end(answer.body() + "\n");
  }
}
