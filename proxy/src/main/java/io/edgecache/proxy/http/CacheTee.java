package io.edgecache.proxy.http;

import io.edgecache.proxy.cache.HttpCache;
import io.edgecache.storage.DiskWriter;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.internal.buffer.BufferInternal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams an origin response body to the client while keeping a copy for the cache and feeding
 * the requests that coalesced on this fetch.
 *
 * <h2>How it works</h2>
 * Each origin buffer goes, in order, to the {@link BodyCollector} (bounded by the object limit and
 * the shared {@link FillBudget}; when it says no, the response is only streamed), to the
 * {@link SharedFetch} subscribers, and to the client, pausing the origin while the client's write
 * queue is full and resuming on drain (backpressure), except while coalesced requests wait on a
 * body kept in memory: those are not held to this client's pace ({@link #feedsOthers}). The complete body is handed to the owner
 * exactly once: with a Content-Length, as soon as the last byte is collected and before it is
 * written, so the client's next request finds the stored response; otherwise at the origin's end.
 *
 * <h2>Bodies that go to disk</h2>
 * A body too large for the memory tier (announced so by its Content-Length, or a body of unknown
 * length that grows past the memory tier's object limit while it is collected) is written to the
 * disk tier as it arrives instead ({@link HttpCache.StreamedStore}): the client is still sent each
 * buffer as it comes, without waiting for the disk, while it keeps up; the coalesced requests follow
 * the disk write ({@link Fill#tail}), and so does the client once it falls behind
 * ({@link #movedToDiskWrite}; for a body of unknown length, once another request follows the
 * write): the write does not wait for any client. When the disk falls
 * behind, the origin is paused until it catches up (so a client fed from here is sent the body at
 * the speed the disk takes it). The entry is committed at the origin's end once the body is complete; if the disk
 * write fails midway, or takes nothing for {@code upstream.bodyIdleTimeout}, the rest of the
 * response is only streamed (pass-through) and nothing is stored. The coalesced fill stays
 * registered until the commit is done, so that a request arriving in between follows the write
 * rather than fetching again.
 *
 * <h2>When the client leaves</h2>
 * The fetch continues while the cache copy or a coalesced subscriber still needs it (a client
 * hanging up must not waste the origin's work for the others); otherwise the origin request is
 * reset.
 *
 * <h2>A slice for the client</h2>
 * When the client asked for a Range and the origin sent the whole 200 (it ignored the Range, or
 * the Range was not forwarded so that the whole object can be stored), {@link #clientWindow}
 * limits what the client is sent to those bytes, cut from the buffers as they pass: the cache and
 * the coalesced requests still get every byte, and nothing is buffered for the slice. Once the
 * slice is complete the client's response ends; the origin transfer continues only while the
 * cache copy or a coalesced request needs it.
 *
 * <h2>When the origin stalls</h2>
 * An origin that stops sending mid-body is given {@code upstream.bodyIdleTimeout} of silence
 * (counted only while this side reads: time paused for a slow client's backpressure does not
 * count). Then the fill is abandoned: the cache copy is dropped (nothing is stored), the origin
 * connection is reset (it is never reused), the coalesced requests are aborted (they have all
 * received the head, so their transfers are truncated like this client's) and the client's
 * connection is reset, so it sees a truncated transfer (fewer bytes than Content-Length, or a
 * chunked body without its last chunk), never a clean end. The URL stays unstored, so the next
 * request asks the origin again.
 *
 * <h2>When the origin closes its connection before the end</h2>
 * Vert.x may report the close of an origin that closes after each response as a failure while the
 * rest of the body, its end included, still waits in its queues: {@link OriginCloseDrain} lets
 * them run, and the body ends with its end (served and stored) or is failed as below when nothing
 * more arrives. From then on the origin is never paused again.
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

    /** The body outgrew the object limit or the fill budget: it is served, not stored. */
    default void notStoring() {
    }

    /**
     * A store for this body written to disk as it arrives, {@code expectedLength} bytes or -1 when
     * unknown, or null when it cannot be stored that way.
     */
    default HttpCache.StreamedStore openDisk(long expectedLength) {
      return null;
    }

    /** The origin sent nothing for {@code upstream.bodyIdleTimeout}; the transfer was abandoned. */
    default void originStalled() {
    }

    /**
     * The client fell behind a body being written to disk: send it bytes {@code from} up to
     * {@code until} (exclusive) from that write, at its own pace ({@link DiskTail}), ending its
     * response there. Returns whether it does (false: this tee keeps writing to the client).
     */
    default boolean followDisk(DiskWriter writer, long from, long until) {
      return false;
    }
  }

  private final HttpClientResponse origin;
  private final HttpServerResponse client;
  private final long contentLength;
  private final Owner owner;
  private final String key;
  private final Vertx vertx;
  private final long bodyIdleMs;
  private final Context context;
  private BodyCollector collector;
  /** The body's way to disk, or null. */
  private HttpCache.StreamedStore disk;
  private SharedFetch shared;
  private boolean completed;
  /** The body ended, failed or was abandoned: later events change nothing. */
  private boolean over;
  /** The origin is paused for the client's or the disk's backpressure: silence now is not the origin's. */
  private boolean paused;
  /** The origin's connection closed: the rest of the body, if any, is in Vert.x's queues. */
  private boolean originClosed;
  /** The client's write queue is full. */
  private boolean clientFull;
  /** The disk write has a full window. */
  private boolean diskFull;
  private long diskPausedNanos;
  private long lastReadNanos;
  /** Body bytes received so far. */
  private long received;
  private long windowFirst;
  private long windowLast = Long.MAX_VALUE;
  /**
   * The client's response ended (its slice is complete), or the client follows the disk write
   * ({@link #movedToDiskWrite}): this tee sends it nothing more.
   */
  private boolean clientDone;
  private Deadlines.Deadline idleTimer;

  /**
   * @param collector the cache copy, or null when the response is not to be stored in memory
   * @param shared the coalesced fetch this exchange leads, or null
   * @param contentLength the declared length, or a negative number when unknown
   * @param bodyIdleMs the longest silence allowed between two reads of the origin's body
   */
  CacheTee(HttpClientResponse origin, HttpServerResponse client, BodyCollector collector, SharedFetch shared,
      long contentLength, Owner owner, String key, Vertx vertx, long bodyIdleMs) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.bodyIdleMs = bodyIdleMs;
    this.origin = origin;
    this.client = client;
    this.collector = collector;
    this.shared = shared;
    if (shared != null) {
      shared.whenJoined(() -> context.runOnContext(v -> othersJoined()));
    }
    this.contentLength = contentLength;
    this.owner = owner;
    this.key = key;
  }

  /**
   * Sends the client only body bytes {@code first..last} (inclusive); {@code last < first} sends
   * none (the client's response ends at once, as for a 416). Call before {@link #start}.
   */
  CacheTee clientWindow(long first, long last) {
    windowFirst = first;
    windowLast = last;
    return this;
  }

  /**
   * Writes the body to disk through {@code store} as it arrives (instead of collecting it); the
   * coalesced requests follow that write. Call before {@link #start}.
   */
  CacheTee toDisk(HttpCache.StreamedStore store) {
    disk = store;
    if (shared != null) {
      shared.tail(store.writer());
    }
    return this;
  }

  /** Installs the handlers; the body starts flowing. */
  void start() {
    origin.handler(this::onData);
    client.closeHandler(v -> onClientClosed());
    origin.exceptionHandler(this::onOriginFailed);
    origin.endHandler(v -> onOriginEnd());
    lastReadNanos = System.nanoTime();
    armIdleTimer(bodyIdleMs);
    if (windowLast < windowFirst) {
      endClient();
      if (nobodyNeedsTheRest()) {
        abandon();
      }
    }
  }

  private void armIdleTimer(long delayMs) {
    idleTimer = Deadlines.of(context).after(delayMs, this::onIdleTimer);
  }

  /** One timer per body, re-armed for what is left of the window rather than per buffer. */
  private void onIdleTimer() {
    idleTimer = null;
    if (over) {
      return;
    }
    if (diskFull && (System.nanoTime() - diskPausedNanos) / 1_000_000 >= bodyIdleMs) {
      // the disk has taken nothing for as long as an origin may stay silent: serve, do not store
      log.warn("disk write of {} made no progress for {} ms; the rest is streamed, nothing stored", key, bodyIdleMs);
      disk.abort();
      disk = null;
      diskFull = false;
      notStoring();
      resumeOrigin();
    }
    long silentMs = (System.nanoTime() - lastReadNanos) / 1_000_000;
    if (paused || silentMs < bodyIdleMs) {
      armIdleTimer(paused ? bodyIdleMs : bodyIdleMs - silentMs);
      return;
    }
    log.debug("origin body of {} stalled for {} ms; abandoning the transfer", key, silentMs);
    owner.originStalled();
    fail();
    origin.request().reset();
  }

  private void stopIdleTimer() {
    over = true;
    if (idleTimer != null) {
      idleTimer.cancel();
      idleTimer = null;
    }
  }

  private void onData(Buffer buf) {
    if (over) {
      return;
    }
    lastReadNanos = System.nanoTime();
    if (collector != null && contentLength < 0 && collector.size() + buf.length() > collector.limit()) {
      moveToDisk();
    }
    if (collector != null && !collector.add(buf)) {
      collector = null; // over the object limit or the fill budget: serve it, do not store it
      notStoring();
    }
    if (disk != null) {
      writeToDisk(buf);
    }
    if (shared != null) {
      shared.data(buf);
    }
    if (collector != null && contentLength >= 0 && collector.size() == contentLength) {
      complete();
    }
    long start = received;
    received += buf.length();
    if (!owner.clientGone() && !clientDone) {
      int from = (int) Math.max(0, Math.min(buf.length(), windowFirst - start));
      int to = (int) Math.max(from, Math.min(windowLast, received - 1) - start + 1); // windowLast may be MAX_VALUE
      if (to > from) {
        client.write(from == 0 && to == buf.length() ? buf : buf.slice(from, to));
      }
      if (received > windowLast) {
        endClient();
        if (nobodyNeedsTheRest()) {
          abandon();
        }
      } else if (client.writeQueueFull() && !feedsOthers() && !movedToDiskWrite()) {
        clientFull = true;
        pauseOrigin();
        Drains.once(client, () -> {
          clientFull = false;
          resumeOrigin();
        });
      }
    } else if (nobodyNeedsTheRest()) {
      abandon();
    }
  }

  /**
   * Whether requests coalesced on this fetch wait on the body while it is kept in memory: then the
   * origin is not paused for this client. They are fed without backpressure ({@link Fill}), so
   * pausing for one slow client stalled every one of them with it (a stalled leader held 200
   * others at the 3 MiB its socket took, {@code DirectMemoryJarIT}); what this client's queue then
   * holds are the buffers the fill keeps for them anyway, up to the object limit.
   */
  private boolean feedsOthers() {
    return collector != null && shared != null && shared.subscribers() > 0;
  }

  /**
   * Moves the client to the disk write when its queue is full while the body goes to disk; returns
   * whether it did. Rather than pausing the origin, and with
   * it the disk write and every request following that write, the client reads the rest from the
   * write at its own pace, as the coalesced requests do. So a fill to disk goes at the origin's (and
   * the disk's) pace, whoever reads it, as nginx's and Varnish's fetches do.
   *
   * <p>A body of known length is refused at open when it is too large for the disk tier, so only a
   * disk error can cut a client following its write. One of unknown length may still outgrow
   * {@code disk.maxObjectBytes}, and a write that fails leaves a client following it cut where the
   * written chunks end, where one fed by this tee gets the rest as a pass-through. So its client
   * is moved only once another request follows the write ({@link SharedFetch#followed}): that one
   * would be cut the same way, and pausing the origin for this client would hold it (and every
   * later one) to this client's pace. Alone, this client paces only its own fill.
   */
  private boolean movedToDiskWrite() {
    if (disk == null || contentLength < 0 && (shared == null || !shared.followed())) {
      return false;
    }
    long until = windowLast == Long.MAX_VALUE ? Long.MAX_VALUE : windowLast + 1;
    if (!owner.followDisk(disk.writer(), Math.max(received, windowFirst), until)) {
      return false;
    }
    clientDone = true;
    return true;
  }

  /**
   * A request joined this fetch: if the origin waits on this client alone, it goes on (the client
   * is fed without backpressure, or follows the disk write as the one that joined does).
   */
  private void othersJoined() {
    if (!over && clientFull && !clientDone && (feedsOthers() || movedToDiskWrite())) {
      clientFull = false;
      resumeOrigin();
    }
  }

  private void notStoring() {
    owner.notStoring();
    if (shared != null) {
      shared.stopSharing();
    }
  }

  /**
   * A body of unknown length outgrew the memory tier's object limit: what was collected and the
   * rest go to disk, if the disk takes it (else the collector gives up as for any overflow).
   */
  private void moveToDisk() {
    HttpCache.StreamedStore store = owner.openDisk(-1);
    if (store == null) {
      return;
    }
    for (byte[] part : collector.drain()) {
      store.writer().write(part, 0, part.length);
    }
    collector = null;
    toDisk(store);
  }

  /** One buffer to disk; pauses the origin while the disk is behind, drops the disk copy once it failed. */
  private void writeToDisk(Buffer buf) {
    DiskWriter w = disk.writer();
    boolean room = w.write(((BufferInternal) buf).getByteBuf().nioBuffer());
    if (w.failing()) {
      // at once, not when the worker has deleted the chunks: from here no new request may follow
      // this write (it would be reset before any byte), and the URL is fetched again next time
      log.debug("disk write of {} failed; the rest is streamed, nothing stored", key);
      disk = null;
      diskFull = false;
      notStoring();
      resumeOrigin();
      return;
    }
    if (!room) {
      if (!diskFull) {
        diskPausedNanos = System.nanoTime();
      }
      diskFull = true;
      pauseOrigin();
      // runs once the disk caught up or the write is over; a wake-up that turns out early only
      // costs a pause at the next buffer
      w.whenRoom(() -> OnContext.run(context, () -> {
        diskFull = false;
        resumeOrigin();
      }));
    }
  }

  private void pauseOrigin() {
    if (!paused && !originClosed) {
      paused = true;
      origin.pause();
    }
  }

  /** Resumes the origin once neither the client nor the disk holds it back. */
  private void resumeOrigin() {
    if (paused && !clientFull && !diskFull && !over) {
      paused = false;
      lastReadNanos = System.nanoTime();
      origin.resume();
    }
  }

  /** The client's slice is complete: end its response; the rest of the body is not for it. */
  private void endClient() {
    clientDone = true;
    if (!owner.clientGone()) {
      client.end();
    }
  }

  private void onClientClosed() {
    owner.clientLeft();
    if (over) {
      return;
    }
    if (nobodyNeedsTheRest()) {
      abandon();
    } else {
      clientFull = false;
      resumeOrigin(); // keep filling the cache (or the coalesced requests) though this client left
    }
  }

  private void onOriginFailed(Throwable t) {
    if (over) {
      return;
    }
    if (!originClosed && OriginCloseDrain.mayHaveQueuedEnd(t)) {
      log.debug("origin of {} closed its connection at {} bytes; draining what it sent", key, received);
      originClosed = true;
      paused = false;
      lastReadNanos = System.nanoTime();
      OriginCloseDrain.drain(vertx, origin, () -> lastReadNanos, () -> over, () -> {
        log.debug("origin of {} closed its connection before the body's end ({} bytes); the transfer is cut", key, received);
        fail();
      });
      return;
    }
    log.debug("origin body failed for {}: {}", key, t.toString());
    fail();
  }

  /** Drops the cache copy, aborts the coalesced requests and resets the client: a visible truncation. */
  private void fail() {
    stopIdleTimer();
    if (collector != null) {
      collector.release();
      collector = null;
    }
    if (disk != null) {
      disk.abort();
      disk = null;
    }
    abortShared();
    if (!owner.clientGone() && !clientDone) {
      client.reset(); // never after the client's response ended: its connection may carry the next one
    }
  }

  private void onOriginEnd() {
    if (over) {
      return;
    }
    stopIdleTimer();
    complete(); // store before ending, so a request that follows this response's last byte finds it
    if (!owner.clientGone() && !clientDone) {
      client.end();
    }
  }

  /** Hands the body over once and ends the coalesced fetch. */
  private void complete() {
    if (completed) {
      return;
    }
    completed = true;
    if (disk != null) {
      commitDisk();
      return;
    }
    byte[] body = collector == null ? null : collector.take();
    collector = null;
    owner.complete(body);
    if (shared != null) {
      shared.end();
      shared = null;
    }
  }

  /**
   * Commits the disk write; the coalesced fill ends only once the commit is done, so that a request
   * arriving before it follows the write instead of fetching the body again.
   */
  private void commitDisk() {
    HttpCache.StreamedStore store = disk;
    SharedFetch lead = shared;
    disk = null;
    shared = null;
    store.commit().whenComplete((stored, err) -> OnContext.run(context, () -> {
      if (err != null || !Boolean.TRUE.equals(stored)) {
        log.debug("disk write of {} not committed{}", key, err == null ? "" : ": " + err);
      }
      owner.complete(null);
      if (lead != null) {
        lead.end();
      }
    }));
  }

  private boolean nobodyNeedsTheRest() {
    return collector == null && disk == null && (shared == null || shared.subscribers() == 0);
  }

  private void abandon() {
    stopIdleTimer();
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
