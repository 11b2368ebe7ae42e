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
    Context context = Vertx.currentContext();
    DiskWriter w = store.writer();
    long stallMs = ctx.config().upstream().bodyIdleTimeoutMs();
    cresp.handler(buf -> {
      if (!w.write(((BufferInternal) buf).getByteBuf().nioBuffer()) && w.state() == DiskWriter.State.WRITING) {
        cresp.pause();
        // a disk that makes no room for upstream.bodyIdleTimeout ends the refresh (as CacheTee does
        // for a fill): the origin is not held paused, and the URL can be refreshed again later
        long stall = context.owner().setTimer(stallMs, id -> {
          store.abort();
          cresp.request().reset();
        });
        w.whenRoom(() -> context.runOnContext(x -> {
          context.owner().cancelTimer(stall);
          cresp.resume();
        }));
      }
    });
    cresp.end().onComplete(ar -> {
      if (ar.succeeded()) {
        store.commit();
      } else {
        store.abort();
      }
      done(ar.cause());
    });
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
