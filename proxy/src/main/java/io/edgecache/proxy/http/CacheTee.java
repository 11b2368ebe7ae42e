package io.edgecache.proxy.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams an origin response body to the client while collecting a copy for the cache and feeding
 * the requests that coalesced on this fetch.
 *
 * <h2>How it works</h2>
 * Each origin buffer goes, in order, to the {@link BodyCollector} (bounded by the object limit and
 * the shared {@link FillBudget}; when it says no, the response is only streamed), to the
 * {@link SharedFetch} subscribers, and to the client, pausing the origin while the client's write
 * queue is full and resuming on drain (backpressure). The complete body is handed to the owner
 * exactly once: with a Content-Length, as soon as the last byte is collected and before it is
 * written, so the client's next request finds the stored response; otherwise at the origin's end.
 *
 * <h2>When the client leaves</h2>
 * The fetch continues while the cache copy or a coalesced subscriber still needs it (a client
 * hanging up must not waste the origin's work for the others); otherwise the origin request is
 * reset.
 *
 * <h2>Threads</h2>
 * Every handler runs on the event loop of the exchange's connection, the same one the origin
 * client was created on; nothing here blocks.
 */
final class CacheTee {
  private static final Logger log = LoggerFactory.getLogger(CacheTee.class);

  /** The exchange's side: called on its event loop. */
  interface Owner {
    /** Whether the client connection is gone. */
    boolean clientGone();

    /** The client connection closed (before the response was complete). */
    void clientLeft();

    /**
     * The body is complete: {@code body} is the collected copy to store, or null when nothing is
     * to be stored. Called at most once, before the last byte is written to the client.
     */
    void complete(byte[] body);
  }

  private final HttpClientResponse origin;
  private final HttpServerResponse client;
  private final long contentLength;
  private final Owner owner;
  private final String key;
  private BodyCollector collector;
  private SharedFetch shared;
  private boolean completed;

  /**
   * @param collector the cache copy, or null when the response is not to be stored
   * @param shared the coalesced fetch this exchange leads, or null
   * @param contentLength the declared length, or a negative number when unknown
   */
  CacheTee(HttpClientResponse origin, HttpServerResponse client, BodyCollector collector, SharedFetch shared,
      long contentLength, Owner owner, String key) {
    this.origin = origin;
    this.client = client;
    this.collector = collector;
    this.shared = shared;
    this.contentLength = contentLength;
    this.owner = owner;
    this.key = key;
  }

  /** Installs the handlers; the body starts flowing. */
  void start() {
    origin.handler(this::onData);
    client.closeHandler(v -> onClientClosed());
    origin.exceptionHandler(this::onOriginFailed);
    origin.endHandler(v -> onOriginEnd());
  }

  private void onData(Buffer buf) {
    if (collector != null && !collector.add(buf)) {
      collector = null; // over the object limit or the fill budget: serve it, do not store it
      if (shared != null) {
        shared.stopSharing();
      }
    }
    if (shared != null) {
      shared.data(buf);
    }
    if (collector != null && contentLength >= 0 && collector.size() == contentLength) {
      complete();
    }
    if (!owner.clientGone()) {
      client.write(buf);
      if (client.writeQueueFull()) {
        origin.pause();
        client.drainHandler(v -> origin.resume());
      }
    } else if (nobodyNeedsTheRest()) {
      abandon();
    }
  }

  private void onClientClosed() {
    owner.clientLeft();
    if (nobodyNeedsTheRest()) {
      abandon();
    } else {
      origin.resume(); // keep filling the cache (or the coalesced requests) though this client left
    }
  }

  private void onOriginFailed(Throwable t) {
    if (collector != null) {
      collector.release();
      collector = null;
    }
    abortShared();
    if (!owner.clientGone()) {
      log.debug("origin body failed for {}: {}", key, t.toString());
      client.reset();
    }
  }

  private void onOriginEnd() {
    complete(); // store before ending, so a request that follows this response's last byte finds it
    if (!owner.clientGone()) {
      client.end();
    }
  }

  /** Hands the body over once and ends the coalesced fetch. */
  private void complete() {
    if (completed) {
      return;
    }
    completed = true;
    byte[] body = collector == null ? null : collector.take();
    collector = null;
    owner.complete(body);
    if (shared != null) {
      shared.end();
      shared = null;
    }
  }

  private boolean nobodyNeedsTheRest() {
    return collector == null && (shared == null || shared.subscribers() == 0);
  }

  private void abandon() {
    abortShared();
    origin.request().reset();
  }

  private void abortShared() {
    if (shared != null) {
      shared.abort(OriginErrors.Failure.ERROR, false);
      shared = null;
    }
  }
}
