package io.edgecache.proxy.http;

import io.edgecache.proxy.policy.HttpDates;
import io.edgecache.proxy.purge.PurgeService;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.HostAndPort;
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
    // HTTP/2: Connection is a connection-specific field (RFC 9113 8.2.2), and the connection
    // carries other streams; ending this stream is all a refusal does there
    boolean closeConnection = close && req.version() != HttpVersion.HTTP_2;
    if (closeConnection) {
      resp.putHeader("Connection", "close");
    }
    resp.end(Buffer.buffer(body)).onComplete(v -> {
      if (closeConnection) {
        req.connection().close();
      }
    });
  }

  /**
   * {@code origins[].redirectHttps}: a plain-HTTP request gets the same target on the HTTPS
   * listener ({@code tlsPort}), {@code 301} for GET and HEAD and {@code 308} otherwise (RFC 9110
   * 15.4.9: a 308 keeps the method and body, a 301 may turn a POST into a GET).
   */
  static void redirectHttps(HttpServerRequest req, HostAndPort authority, String target, int tlsPort, long nowMs) {
    String host = authority.host();
    if (host.indexOf(':') >= 0 && !host.startsWith("[")) {
      host = "[" + host + "]"; // an IPv6 literal
    }
    String location = "https://" + host + (tlsPort == 443 ? "" : ":" + tlsPort) + (target.equals("*") ? "/" : target);
    boolean safe = req.method() == HttpMethod.GET || req.method() == HttpMethod.HEAD;
    redirect(req, safe ? 301 : 308, location, nowMs);
  }

  /** A redirect to {@code location}, with a one-line body. */
  private static void redirect(HttpServerRequest req, int status, String location, long nowMs) {
    byte[] body = (status + " moved to " + location + "\n").getBytes(StandardCharsets.UTF_8);
    HttpServerResponse resp = req.response();
    resp.setStatusCode(status)
        .putHeader("Location", location)
        .putHeader("Content-Type", "text/plain; charset=utf-8")
        .putHeader("Content-Length", Integer.toString(body.length))
        .putHeader("Date", HttpDates.format(nowMs))
        .putHeader(Messages.CACHE_STATUS, CacheStatus.fwd(CacheStatus.Fwd.BYPASS).detail("redirect-https").toString());
    resp.end(req.method() == HttpMethod.HEAD ? Buffer.buffer() : Buffer.buffer(body));
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
