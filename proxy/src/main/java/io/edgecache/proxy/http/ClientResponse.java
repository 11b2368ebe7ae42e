package io.edgecache.proxy.http;

import io.edgecache.proxy.policy.Headers;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;

/**
 * The client's response for a response relayed from the origin (directly or through a coalesced
 * fetch): status line, header section ({@link ClientHeaders}) and framing, then the body as it
 * arrives. A body of unknown length is chunked for HTTP/1.1 and close-delimited for HTTP/1.0
 * (RFC 9112 6.3, 7.1).
 *
 * <p>Used on the exchange's event loop.
 */
final class ClientResponse implements Waiter.Client {
  private final HttpServerResponse resp;
  private final boolean http10;
  private final boolean exposeTags;

  ClientResponse(HttpServerRequest req, boolean exposeTags) {
    this.resp = req.response();
    this.http10 = req.version() == HttpVersion.HTTP_1_0;
    this.exposeTags = exposeTags;
  }

  /**
   * Writes the status line and the header section.
   *
   * @param fields the origin's fields (hop-by-hop removed)
   * @param contentLength the declared length, or a negative number when unknown
   * @param bodyless whether the response has no body whatever its fields say (HEAD, 1xx, 204, 304)
   */
  void head(int status, String statusMessage, Headers fields, CacheStatus cs, long contentLength, boolean bodyless) {
    resp.setStatusCode(status);
    if (statusMessage != null && !statusMessage.isEmpty()) {
      resp.setStatusMessage(statusMessage);
    }
    ClientHeaders.apply(ClientHeaders.of(fields, cs, false, exposeTags, http10), resp);
    if (!bodyless && contentLength < 0) {
      if (http10) {
        resp.putHeader("Connection", "close");
      } else {
        resp.setChunked(true);
      }
    }
  }

  @Override
  public void data(Buffer data) {
    resp.write(data);
  }

  @Override
  public void end() {
    resp.end();
  }

  @Override
  public void reset() {
    resp.reset();
  }
}
