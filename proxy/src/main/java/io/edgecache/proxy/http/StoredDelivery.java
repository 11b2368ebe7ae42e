package io.edgecache.proxy.http;

import io.edgecache.proxy.cache.CachedResponse;
import io.edgecache.proxy.cache.HttpCache;
import io.edgecache.proxy.policy.ByteRange;
import io.edgecache.proxy.policy.CacheControl;
import io.edgecache.proxy.policy.Conditionals;
import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.ResponseView;
import io.edgecache.storage.ChunkRun;
import io.edgecache.storage.DiskBody;
import io.edgecache.storage.Store;
import io.netty.buffer.Unpooled;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.internal.buffer.BufferInternal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a stored response to the client, as the request asks: 304 when the client's validators
 * match (RFC 9110 13.2.2, RFC 9111 4.3.2), 206 for one satisfiable Range honouring If-Range
 * (RFC 9110 14.2, 13.1.5), 416 for an unsatisfiable one, no body for HEAD, else the stored status
 * with the whole body, always with {@code Age} (RFC 9111 5.1).
 *
 * <h2>Memory and disk bodies</h2>
 * A body of {@value DirectBodies#MIN_BYTES} bytes or more is written from its one direct copy
 * ({@link DirectBodies}), shared by every reader, in one write that holds a reference until the
 * transport wrote it: what a slow reader's connection queues of it is a view of that copy, no
 * memory of the reader's own. Slices of it only added a wait for the queue to drain per
 * {@value #MEMORY_SLICE_BYTES} bytes (14% of a 1 MiB hit's CPU in a pinned A/B,
 * {@code loadtests/ab-jars.sh}). While direct memory is tight ({@link ClientQueue#tight}) no new
 * copy is made, and a body that has one is written in slices of {@link ClientQueue#TIGHT_BYTES}.
 * A shorter body, or one without a copy, wraps the stored bytes, and the transport copies what it
 * writes into direct memory, one copy per reader: such a body is sent in slices of
 * {@value #MEMORY_SLICE_BYTES} bytes (or the tight size),
 * the next one only when the client's write queue has room, since one buffer of a whole 8 MiB
 * body per slow reader would hold 8 MiB of direct memory each until that reader caught up. The
 * connection's write queue holds up to {@link ProxyVerticle#CLIENT_WRITE_QUEUE_BYTES} before the
 * next slice waits for it to drain. While a memory body waits for a slow client's queue to drain,
 * this delivery holds it: it is pinned in the cache ({@link HttpCache#pin}) from the first wait
 * until its last slice is written or the client leaves ({@link #release}), so that a body the
 * memory tier evicts meanwhile still counts against its bound; so is a body written whole from its
 * direct copy while the connection still queues it, until the transport wrote it. A shorter body
 * written without waiting is not held after the write (the transport copies it).
 * A disk body
 * ({@link DiskBody}) is streamed by {@link DiskStream}: runs of chunks read on disk workers into
 * direct buffers and written without a copy, each chunk only when the client's write queue has
 * room, the next run read ahead while the client keeps up; {@link #release} frees what it holds. The first run is read before anything is answered: if
 * its first chunk fails its checksum the owner is told and fetches from the origin instead, so
 * nothing wrong is ever sent. A chunk that fails mid-stream resets the connection: the client sees
 * a truncated transfer, never wrong bytes.
 *
 * <h2>Threads</h2>
 * Called on the exchange's event loop; disk reads complete on storage threads and hop back to it.
 */
final class StoredDelivery {
  private static final Logger log = LoggerFactory.getLogger(StoredDelivery.class);
  /** A memory body is written in slices of this size, one per free write queue. */
  static final int MEMORY_SLICE_BYTES = 256 * 1024;

  /** The exchange's side; called on its event loop. */
  interface Owner {
    boolean clientGone();

    /** The first chunk of a disk body could not be read: nothing was sent, fetch it from the origin. */
    void storedBodyUnreadable();
  }

  private final HttpServerRequest req;
  private final HttpServerResponse resp;
  private final Headers reqHeaders;
  private final Context context;
  private final boolean exposeTags;
  private final String key;
  private final Owner owner;
  private final HttpCache cache;
  /** The hold on a memory body while waiting for the client; released once. */
  private Store.Pin pin = Store.Pin.NONE;
  /** The size of this body's slices ({@link ClientQueue#sizeQueue}). */
  private int sliceBytes = MEMORY_SLICE_BYTES;
  /** The disk body being streamed, if any: abandoned (its chunks freed) by {@link #release}. */
  private DiskStream disk;
  /**
   * The hold on the disk body's chunks while it is read and sent: an eviction, replacement or
   * purge meanwhile does not cut the client off ({@link DiskBody#hold}). Released once.
   */
  private Store.Pin diskHold = Store.Pin.NONE;
  /** The direct copy the memory body is written from, if any; this delivery's reference is dropped once. */
  private DirectBodies.Copy copy;

  StoredDelivery(HttpServerRequest req, Headers reqHeaders, Context context, boolean exposeTags, String key,
      Owner owner, HttpCache cache) {
    this.req = req;
    this.resp = req.response();
    this.reqHeaders = reqHeaders;
    this.context = context;
    this.exposeTags = exposeTags;
    this.key = key;
    this.owner = owner;
    this.cache = cache;
  }

  /** The client left or the answer is complete: the memory body, if held, is no longer. */
  void release() {
    Store.Pin p = pin;
    pin = Store.Pin.NONE;
    p.release();
    if (disk != null) {
      disk.abandon();
    }
    releaseDiskHold();
    dropCopy();
  }

  private void releaseDiskHold() {
    Store.Pin h = diskHold;
    diskHold = Store.Pin.NONE;
    h.release();
  }

  private void dropCopy() {
    DirectBodies.Copy c = copy;
    copy = null;
    if (c != null) {
      c.release();
    }
  }

  /** Serves {@code stored}: 200/206/304/416 as the request asks, with {@code Age: ageSeconds}. */
  void deliver(CachedResponse stored, CacheStatus cs, long ageSeconds) {
    ResponseView v = stored.view();
    long length = stored.bodyLength();
    boolean get = req.method() == HttpMethod.GET;
    boolean notModified = (get || req.method() == HttpMethod.HEAD) && Conditionals.notModified(reqHeaders, v);
    ByteRange range = !notModified && v.status() == 200 && get ? rangeFor(v, length) : null;
    boolean sendsBody = !notModified && req.method() != HttpMethod.HEAD && range != ByteRange.UNSATISFIABLE
        && v.status() != 204 && v.status() != 304 && length > 0;
    Answer answer = new Answer(stored, cs, ageSeconds, notModified, range, sendsBody);
    DiskBody stream = stored.stream();
    if (sendsBody && stream != null) {
      int index = (int) ((range != null ? range.first() : 0) / stream.chunkBytes());
      long last = range != null ? range.last() : length - 1;
      releaseDiskHold();
      diskHold = stream.hold();
      stream.readChunks(index, DiskStream.runLength(stream, index, last))
          .whenComplete((run, err) -> OnContext.run(context, () -> {
            if (err != null) {
              releaseDiskHold();
              log.warn("disk body of {} unreadable ({}); fetching from the origin", key, rootCause(err));
              owner.storedBodyUnreadable();
              return;
            }
            respond(answer, run);
          }));
      return;
    }
    respond(answer, null);
  }

  /**
   * The part of a stored 206 that answers this request's Range: null when the stored partial
   * response is unusable (no single Content-Range, body length disagrees) or does not hold the
   * whole requested range (RFC 9111 3.3, 4).
   */
  static ByteRange rangeInside(CachedResponse partial, String rangeHeader) {
    ByteRange.ContentRange held = ByteRange.contentRange(partial.view().headers());
    if (held == null || partial.body() == null || partial.body().length != held.length()) {
      return null;
    }
    ByteRange want = ByteRange.parse(rangeHeader, held.completeLength());
    return want == null || want == ByteRange.UNSATISFIABLE || !held.covers(want) ? null : want;
  }

  /** Serves {@code want} (from {@link #rangeInside}) out of a stored partial response as a 206. */
  void deliverPartial(CachedResponse partial, ByteRange want, CacheStatus cs, long ageSeconds) {
    ResponseView v = partial.view();
    ByteRange.ContentRange held = ByteRange.contentRange(v.headers());
    resp.putHeader(Messages.AGE, age(ageSeconds));
    resp.setStatusCode(206);
    ClientHeaders.writeStored(v, cs, exposeTags, http10(), resp);
    resp.headers().set("Content-Range", "bytes " + want.first() + "-" + want.last() + "/" + held.completeLength());
    resp.putHeader("Content-Length", Long.toString(want.length()));
    long offset = want.first() - held.first();
    dropCopy(); // one delivery per exchange; should there be another, the first one's reference goes
    copy = DirectBodies.acquire(partial.body());
    streamMemory(partial, offset, offset + want.length() - 1);
  }

  /** What {@link #deliver} decided, carried across the first disk read. */
  private record Answer(CachedResponse stored, CacheStatus cs, long ageSeconds, boolean notModified, ByteRange range,
      boolean sendsBody) {}

  private void respond(Answer a, ChunkRun firstRun) {
    Messages.resume(req); // a request body, if any, is not needed: let Vert.x discard it
    if (owner.clientGone() || !a.sendsBody()) {
      ChunkRun.releaseQuietly(firstRun); // a body is read ahead of the answer only when one is sent
    }
    if (owner.clientGone()) {
      return;
    }
    ResponseView v = a.stored().view();
    long length = a.stored().bodyLength();
    ByteRange range = a.range();
    resp.putHeader(Messages.AGE, age(a.ageSeconds()));
    if (a.notModified()) {
      resp.setStatusCode(304);
      ClientHeaders.apply(ClientHeaders.notModified(v.headers(), a.cs(), http10()), resp);
      resp.end();
      return;
    }
    if (range == ByteRange.UNSATISFIABLE) {
      resp.setStatusCode(416);
      ClientHeaders.writeStored(v, a.cs(), exposeTags, http10(), resp);
      resp.putHeader("Content-Range", "bytes */" + length);
      resp.putHeader("Content-Length", "0");
      resp.end();
      return;
    }
    resp.setStatusCode(range != null ? 206 : v.status());
    ClientHeaders.writeStored(v, a.cs(), exposeTags, http10(), resp);
    if (range != null) {
      resp.putHeader("Content-Range", "bytes " + range.first() + "-" + range.last() + "/" + length);
      resp.putHeader("Content-Length", Long.toString(range.length()));
    } else if (!(v.status() == 204 || v.status() == 304)) {
      resp.putHeader("Content-Length", Long.toString(length));
    }
    long first = range != null ? range.first() : 0;
    long last = range != null ? range.last() : length - 1;
    if (!a.sendsBody()) {
      resp.end();
      return;
    }
    sliceBytes = ClientQueue.sizeQueue(req, last - first + 1) ? ClientQueue.TIGHT_BYTES : MEMORY_SLICE_BYTES;
    if (firstRun != null) {
      disk = new DiskStream(resp, context, owner::clientGone, key, a.stored().stream(), first, last,
          this::releaseDiskHold);
      disk.start(firstRun);
    } else {
      dropCopy();
      copy = DirectBodies.acquire(a.stored().body());
      streamMemory(a.stored(), first, last);
    }
  }

  /** Writes bytes {@code first..last} of a memory body, one slice per free write queue. */
  private void streamMemory(CachedResponse stored, long first, long last) {
    if (owner.clientGone()) {
      release();
      return;
    }
    byte[] body = stored.body();
    if (sliceBytes > ClientQueue.TIGHT_BYTES && first > 0 && ClientQueue.tight()
        && ClientQueue.sizeQueue(req, last - first + 1)) {
      sliceBytes = ClientQueue.TIGHT_BYTES; // direct memory got tight mid-body
    }
    // a body with a direct copy goes out in one write: what the connection queues of it is a view of
    // the shared copy, no memory of this reader's own, so slices would only add drain round trips
    long end = copy != null && sliceBytes > ClientQueue.TIGHT_BYTES ? last + 1 : Math.min(last + 1, first + sliceBytes);
    if (end > last) {
      io.vertx.core.Future<Void> written = writeSlice(body, first, end, true);
      dropCopy(); // the last slice holds the copy until it is written
      if (pin == Store.Pin.NONE && end - first > sliceBytes && !written.isComplete()) {
        // a whole body in one write the client has not taken yet: held as its slices would be, so a
        // purge or eviction meanwhile still counts it against the bound
        pin = cache.pin(key, stored);
      }
      if (pin != Store.Pin.NONE) {
        // the connection may still queue earlier slices of this body: held until the last is written
        written.onComplete(ar -> release());
      }
      return;
    }
    writeSlice(body, first, end, false);
    if (resp.writeQueueFull()) {
      if (pin == Store.Pin.NONE) {
        pin = cache.pin(key, stored);
      }
      Drains.once(resp, () -> streamMemory(stored, end, last));
    } else {
      streamMemory(stored, end, last);
    }
  }

  /**
   * Writes bytes {@code from .. to - 1} of a memory body, ending the response with them when
   * {@code lastSlice}: from the body's direct copy when there is one (the transport writes its
   * memory as it is, so the write holds a reference until it is written or failed), else from the
   * stored bytes.
   */
  private io.vertx.core.Future<Void> writeSlice(byte[] body, long from, long to, boolean lastSlice) {
    DirectBodies.Copy c = copy;
    Buffer slice;
    if (c != null) {
      c.retain();
      slice = BufferInternal.buffer(c.slice(from, to - from));
    } else {
      slice = wrap(body, from, to - from);
    }
    io.vertx.core.Future<Void> written = lastSlice ? resp.end(slice) : resp.write(slice);
    return c == null ? written : written.onComplete(ar -> c.release());
  }

  /** The range to serve, or null for the whole body (no Range, or If-Range does not match). */
  private ByteRange rangeFor(ResponseView v, long length) {
    String range = reqHeaders.get("range");
    if (range == null || !Conditionals.ifRangeAllows(reqHeaders, v.headers())) {
      return null;
    }
    return ByteRange.parse(range, length);
  }

  private boolean http10() {
    return req.version() == HttpVersion.HTTP_1_0;
  }

  private static String age(long seconds) {
    return Long.toString(Math.max(0, Math.min(seconds, CacheControl.MAX_DELTA)));
  }

  private static Buffer wrap(byte[] bytes, long offset, long length) {
    return BufferInternal.buffer(Unpooled.wrappedBuffer(bytes, (int) offset, (int) length));
  }

  static String rootCause(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c != c.getCause()) {
      c = c.getCause();
    }
    return c.toString();
  }
}
