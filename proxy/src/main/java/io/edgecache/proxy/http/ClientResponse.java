package io.edgecache.proxy.http;

import io.edgecache.proxy.policy.ByteRange;
import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.HopByHop;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
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
    ClientHeaders.write(fields, cs, false, exposeTags, http10, resp);
    if (!bodyless && contentLength < 0) {
      if (http10) {
        resp.putHeader("Connection", "close");
      } else {
        resp.setChunked(true);
      }
    }
  }

  /**
   * Writes the head of a 206 (or a 416 for {@link ByteRange#UNSATISFIABLE}) cut from a 200 of
   * {@code completeLength} bytes that the origin is still sending (RFC 9110 14.4, 15.3.7, 15.5.17).
   */
  void partialHead(Headers fields, CacheStatus cs, ByteRange range, long completeLength) {
    boolean unsatisfiable = range == ByteRange.UNSATISFIABLE;
    resp.setStatusCode(unsatisfiable ? 416 : 206);
    ClientHeaders.write(fields, cs, true, exposeTags, http10, resp);
    resp.headers().set("Content-Range", unsatisfiable ? "bytes */" + completeLength
        : "bytes " + range.first() + "-" + range.last() + "/" + completeLength);
    resp.headers().set("Content-Length", unsatisfiable ? "0" : Long.toString(range.length()));
  }

  /**
   * Relays an origin's {@code 103 Early Hints} (RFC 8297) before the final response, without its
   * hop-by-hop fields. Only to HTTP/1.1 clients: a server must not send a 1xx to an HTTP/1.0
   * client (RFC 9110 15.2); and only while no final head was written.
   */
  void earlyHints(MultiMap originFields) {
    if (http10 || resp.headWritten() || resp.closed()) {
      return;
    }
    Headers kept = HopByHop.strip(Messages.toHeaders(originFields));
    MultiMap out = MultiMap.caseInsensitiveMultiMap();
    for (int i = 0; i < kept.size(); i++) {
      out.add(kept.name(i), kept.value(i));
    }
    if (!out.isEmpty()) {
      resp.writeEarlyHints(out);
    }
  }

  @Override
  public void data(Buffer data) {
    resp.write(data);
  }

  @Override
  public void data(Buffer data, Runnable written) {
    Future<Void> write;
    try {
      write = resp.write(data);
    } catch (RuntimeException e) { // the response was ended meanwhile
      written.run();
      throw e;
    }
    write.onComplete(ar -> written.run());
  }

  @Override
  public void end() {
    resp.end();
  }

  @Override
  public void reset() {
    resp.reset();
  }

  @Override
  public boolean writeQueueFull() {
    return resp.writeQueueFull();
  }

  @Override
  public void drainHandler(Runnable r) {
    Drains.once(resp, r);
  }
}
