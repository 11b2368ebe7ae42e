package io.edgecache.proxy.http;

import io.edgecache.proxy.cache.CachedResponse;
import io.edgecache.proxy.cache.HttpCache;
import io.edgecache.proxy.cache.Tags;
import io.edgecache.proxy.policy.CacheControl;
import io.edgecache.proxy.policy.HeaderUpdate;
import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.ResponseView;
import io.edgecache.proxy.policy.Storability;
import io.edgecache.proxy.policy.TtlRules;
import io.edgecache.storage.DiskWriter;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.internal.buffer.BufferInternal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RFC 5861 stale-while-revalidate: after a stale response was served, one conditional GET
 * refreshes the stored variant off the request path. A 304 freshens the stored headers (RFC 9111
 * 4.3.4); a storable 200 replaces the entry, collected under the object limit and the shared
 * {@link FillBudget} like any fill (or, above the memory tier's object limit, written to disk as
 * it arrives); anything else leaves the entry as it is.
 *
 * <p>It shares the per-variant gate ({@link Revalidations}) with foreground revalidations, so at
 * most one conditional request per variant is in flight. Runs on the exchange's event loop.
 */
final class BackgroundRefresh implements OriginFetch.Callback {
  private static final Logger log = LoggerFactory.getLogger(BackgroundRefresh.class);

  private final ProxyContext ctx;
  private final OriginFetch fetch;
  private final String primaryKey;
  private final Headers reqHeaders;
  private final CacheControl reqControl;
  private final TtlRules rules;
  private final CachedResponse stored;
  private final String gateKey;
  private long epoch;

  BackgroundRefresh(ProxyContext ctx, OriginFetch fetch, String primaryKey, Headers reqHeaders, CacheControl reqControl,
      TtlRules rules, CachedResponse stored) {
    this.ctx = ctx;
    this.fetch = fetch;
    this.primaryKey = primaryKey;
    this.reqHeaders = reqHeaders;
    this.reqControl = reqControl;
    this.rules = rules;
    this.stored = stored;
    this.gateKey = RevalidationTurn.variantKey(primaryKey, stored);
  }

  /** Starts the refresh unless one is already running for this variant. */
  void start() {
    if (!ctx.revalidations().lead(gateKey, () -> { })) {
      return;
    }
    epoch = ctx.cache().epoch();
    fetch.send(HttpMethod.GET, stored.view().headers(), false, () -> false, this);
  }

  @Override
  public void onFailure(OriginErrors.Failure failure, Throwable cause) {
    done(cause);
  }

  @Override
  public void onResponse(HttpClientResponse cresp, long requestTimeMs) {
    long responseTime = ctx.clock().millis();
    ResponseView view = OriginFetch.view(cresp, requestTimeMs, responseTime);
    long maxObject = ctx.config().maxCachedObjectBytes();
    if (view.status() == 304) {
      Headers merged = HeaderUpdate.merge(stored.view().headers(), view.headers());
      ctx.cache().freshen(primaryKey, stored, new ResponseView(stored.view().status(), merged, requestTimeMs, responseTime),
          epoch);
      discard(cresp);
      return;
    }
    boolean storable = Storability.refusal("GET", reqControl, reqHeaders.contains("authorization"), view,
        ctx.config().cache().storeSetCookie(), rules) == null
        && Messages.contentLength(view.headers()) <= maxObject;
    if (!storable) {
      discard(cresp);
      return;
    }
    long length = Messages.contentLength(view.headers());
    if (length > ctx.config().memory().maxObjectBytes() && ctx.config().disk().enabled() && view.status() != 206) {
      toDisk(cresp, view, length);
      return;
    }
    BodyCollector collector = new BodyCollector(maxObject, ctx.fillBudget(), Messages.contentLength(view.headers()));
    cresp.handler(collector::add);
    cresp.end().onComplete(ar -> {
      byte[] body = collector.take();
      if (ar.succeeded() && body != null) {
        ResponseView v = Storability.storedForm(view);
        ctx.cache().store(primaryKey, reqHeaders, v, body, Tags.of(v.headers()), epoch);
      }
      collector.release();
      done(ar.cause());
    });
  }

  /**
   * A body too large for the memory tier is written to disk as it arrives, the origin paused while
   * the disk is behind; committed once complete, else dropped.
   */
  private void toDisk(HttpClientResponse cresp, ResponseView view, long length) {
    ResponseView v = Storability.storedForm(view);
    HttpCache.StreamedStore store = ctx.cache().openStream(primaryKey, reqHeaders, v, Tags.of(v.headers()), epoch,
        length);
    if (store == null) {
      discard(cresp);
      return;
    }
    new DiskBody(cresp, store, Vertx.currentContext(), ctx.config().upstream().bodyIdleTimeoutMs()).start();
  }

  /**
   * One refresh body on its way to disk: the origin is paused while the disk is behind, and a disk
   * that makes no room for {@code upstream.bodyIdleTimeout} ends the refresh (as {@link CacheTee}
   * does for a fill: the origin is not held paused, and the URL can be refreshed again later). A
   * close of the origin's connection before the end is drained first ({@link OriginCloseDrain}).
   */
  private final class DiskBody {
    private final HttpClientResponse cresp;
    private final HttpCache.StreamedStore store;
    private final Context context;
    private final long stallMs;
    private boolean paused;
    /** The origin's connection closed before the end: what Vert.x holds is being drained. */
    private boolean closed;
    private boolean over;
    private long lastReadNanos;
    private long stallTimer = -1;

    DiskBody(HttpClientResponse cresp, HttpCache.StreamedStore store, Context context, long stallMs) {
      this.cresp = cresp;
      this.store = store;
      this.context = context;
      this.stallMs = stallMs;
    }

    void start() {
      lastReadNanos = System.nanoTime();
      cresp.handler(this::onData);
      cresp.exceptionHandler(this::onFailed);
      cresp.endHandler(v -> finish(null));
    }

    private void onData(Buffer buf) {
      if (over) {
        return;
      }
      lastReadNanos = System.nanoTime();
      DiskWriter w = store.writer();
      if (!w.write(((BufferInternal) buf).getByteBuf().nioBuffer()) && w.state() == DiskWriter.State.WRITING
          && !paused && !closed) {
        paused = true;
        cresp.pause();
        stallTimer = context.owner().setTimer(stallMs, id -> {
          stallTimer = -1;
          finish(new java.util.concurrent.TimeoutException("the disk took nothing for " + stallMs + " ms"));
          cresp.request().reset();
        });
        w.whenRoom(() -> context.runOnContext(x -> {
          cancelStallTimer();
          if (paused && !over) {
            paused = false;
            cresp.resume();
          }
        }));
      }
    }

    private void onFailed(Throwable t) {
      if (over) {
        return;
      }
      if (!closed && OriginCloseDrain.mayHaveQueuedEnd(t)) {
        closed = true;
        cancelStallTimer();
        paused = false;
        lastReadNanos = System.nanoTime();
        OriginCloseDrain.drain(context.owner(), cresp, () -> lastReadNanos, () -> over, () -> finish(t));
        return;
      }
      finish(t);
    }

    private void cancelStallTimer() {
      if (stallTimer >= 0) {
        context.owner().cancelTimer(stallTimer);
        stallTimer = -1;
      }
    }

    private void finish(Throwable failure) {
      if (over) {
        return;
      }
      over = true;
      cancelStallTimer();
      if (failure == null) {
        store.commit();
      } else {
        store.abort();
      }
      done(failure);
    }
  }

  private void discard(HttpClientResponse cresp) {
    cresp.end().onComplete(ar -> done(ar.cause()));
  }

  private void done(Throwable failure) {
    ctx.revalidations().done(gateKey);
    if (failure != null) {
      log.debug("background refresh of {} failed: {}", primaryKey, failure.toString());
    }
  }
}
