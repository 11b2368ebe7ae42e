package io.edgecache.proxy.http;

import io.edgecache.proxy.cache.HttpCache;
import io.edgecache.proxy.cache.Tags;
import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.metrics.ProxyMetrics;
import io.edgecache.proxy.policy.ByteRange;
import io.edgecache.proxy.policy.CacheControl;
import io.edgecache.proxy.policy.Conditionals;
import io.edgecache.proxy.policy.FreshnessPolicy;
import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.Invalidation;
import io.edgecache.proxy.policy.ResponseView;
import io.edgecache.proxy.policy.Storability;
import io.edgecache.proxy.policy.StoreDecision;
import io.edgecache.storage.DiskWriter;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;

/**
 * An origin's response on its way to the client, once {@link Exchange} has decided to forward it
 * (not a 304 that freshens a stored response, not an error answered from a stale one): whether it
 * may be stored ({@link StoreDecision}) and where (memory, or the disk tier as it arrives), the
 * head and {@code Cache-Status} the client gets, the Range cut from a whole 200, and the
 * {@link CacheTee} that streams the body to the client while collecting the copy to store. It
 * leads the shared fetch (the coalesced requests waiting for this URL) from here on, and answers
 * the tee's callbacks: store the complete body, open a disk write, let a client that fell behind
 * a disk write follow it.
 *
 * <p>One instance per forwarded response. Every method runs on the event loop of the exchange's
 * context, as the tee calls them.
 */
final class ForwardedResponse implements CacheTee.Owner {

  /** What the exchange gives the response it forwards. */
  interface Owner extends Waiter.Owner {
    /** The client went away ({@link CacheTee} noticed it first). */
    void clientLeft();

    /** The head goes to the client now: the exchange's DELIVER step. */
    void delivering();

    /** The fetch is over for the revalidation gate: the next request for the variant may ask. */
    void releaseRevalidation();
  }

  /**
   * What the exchange knows about the request when the origin answers: its method and cache key,
   * its fields and directives, the freshness rules and route that apply, the member that filled
   * it (sharded mode, or null), whether it is a pass, whether a Range was widened to the whole
   * object ({@code wholeForRange}), whether purge tags stay in the response, and the purge epoch
   * when the fetch began.
   */
  record Request(HttpServerRequest req, String method, String primaryKey, Headers headers, CacheControl control,
      FreshnessPolicy freshness, ProxyConfig.Route route, String viaPeer, boolean pass, boolean wholeForRange,
      boolean exposeTags, long epochAtFetch) {
  }

  private final ProxyContext ctx;
  private final Vertx vertx;
  private final Context context;
  private final Owner owner;
  private final RequestRecord record;
  private final Request rq;
  private final String originName;
  /** The shared fetch this response leads, until the tee takes it over (or it is given up). */
  private SharedFetch lead;
  /** The purge epoch the store is checked against (moved on by an invalidating response that may be reused). */
  private long epochAtFetch;
  /** The response to store once its body is complete, or null. */
  private ResponseView toStore;
  /** Whether a body too large for the memory tier may be written to the disk tier as it arrives. */
  private boolean streamsToDisk;

  ForwardedResponse(ProxyContext ctx, Vertx vertx, Context context, Owner owner, RequestRecord record, Request rq,
      String originName, SharedFetch lead) {
    this.ctx = ctx;
    this.vertx = vertx;
    this.context = context;
    this.owner = owner;
    this.record = record;
    this.rq = rq;
    this.originName = originName;
    this.lead = lead;
    this.epochAtFetch = rq.epochAtFetch();
  }

  /** Streams {@code cresp} to the client ({@link CacheTee}), collecting a copy if it may be stored. */
  void start(CacheStatus.Fwd fwd, HttpClientResponse cresp, ResponseView view) {
    HttpServerRequest req = rq.req();
    int status = view.status();
    record.fromOrigin(rq.pass() ? ProxyMetrics.Outcome.BYPASS : ProxyMetrics.Outcome.MISS);
    boolean isGet = req.method() == HttpMethod.GET;
    long contentLength = Messages.contentLength(view.headers());
    StoreDecision decision = StoreDecision.of(rq.freshness(), rq.method(), rq.pass(), rq.control(),
        rq.headers().contains("authorization"), view, rq.primaryKey(), ctx.config().maxCachedObjectBytes(),
        ctx.config().cache().storeSetCookie());
    CacheStatus cs = cacheStatus(fwd, status, decision);
    toStore = decision.stored() ? Storability.storedForm(view) : null;
    if (lead != null) {
      if (!decision.stored() || !isGet) {
        lead.abort(null, true);
        lead = null;
      } else {
        lead.head(toStore, cresp.statusMessage(), contentLength, rq.headers()); // waiters get what a hit would
      }
    }
    if (rq.pass() && Invalidation.invalidates(rq.method(), status)) {
      // before any byte reaches the client, so its next request cannot see the old response
      for (String key : Invalidation.targets(rq.primaryKey(), view.headers())) {
        ctx.cache().invalidate(key);
      }
      if (decision.postReusable()) {
        epochAtFetch = ctx.cache().epoch(); // this response may replace what was just invalidated
      }
    }
    if (owner.clientGone() && lead == null) {
      cresp.request().reset();
      return;
    }
    owner.delivering();
    boolean bodyless = req.method() == HttpMethod.HEAD || status == 204 || status == 304 || status < 200;
    ByteRange slice = sliceOf(status, view.headers(), contentLength);
    if (slice != null) {
      client().partialHead(view.headers(), cs, slice, contentLength);
    } else {
      client().head(status, cresp.statusMessage(), view.headers(), cs, contentLength, bodyless);
    }
    streamsToDisk = toStore != null && isGet && !bodyless && status != 206 && ctx.config().disk().enabled();
    HttpCache.StreamedStore onDisk = null;
    BodyCollector collector = null;
    if (toStore != null && (isGet || decision.postReusable())) {
      long memoryLimit = ctx.config().memory().maxObjectBytes();
      if (streamsToDisk && contentLength > memoryLimit) {
        onDisk = openDisk(contentLength); // too large for memory: written to disk as it arrives
        if (onDisk == null) {
          notStoring();
        }
      } else {
        // a body of unknown length that outgrows the memory tier moves to disk (CacheTee)
        collector = new BodyCollector(streamsToDisk ? memoryLimit : ctx.config().maxCachedObjectBytes(),
            ctx.fillBudget(), bodyless ? -1 : contentLength);
      }
    }
    if (!decision.stored() && rq.wholeForRange()) {
      ctx.coalescer().markUncacheable(rq.primaryKey()); // later ranges of this URL go to the origin as ranges
    }
    SharedFetch sharing = lead;
    lead = null;
    if (sharing != null && toStore != null && collector == null && onDisk == null) {
      sharing.stopSharing();
    }
    CacheTee tee = new CacheTee(cresp, req.response(), collector, sharing, contentLength, this, rq.primaryKey(), vertx,
        ctx.config().upstream().bodyIdleTimeoutMs());
    if (onDisk != null) {
      tee.toDisk(onDisk);
    }
    if (slice != null) {
      tee.clientWindow(slice.first(), slice == ByteRange.UNSATISFIABLE ? -1 : slice.last());
    }
    ClientQueue.sizeQueue(req, contentLength < 0 ? Long.MAX_VALUE : contentLength); // the origin's buffers are the slices
    tee.start();
  }

  /** {@code Cache-Status} of a forwarded response: stored with its TTL, or why not; the peer and route that served it. */
  private CacheStatus cacheStatus(CacheStatus.Fwd fwd, int status, StoreDecision decision) {
    CacheStatus cs = CacheStatus.fwd(fwd).param("fwd-status", status);
    String peerDetail = rq.viaPeer() != null ? "peer " + rq.viaPeer() : null;
    ProxyConfig.Route route = rq.route();
    String routeDetail = route == null ? null : "route " + route.path() + (route.bypass() ? " bypass" : "");
    if (decision.stored()) {
      cs.param("stored").param("ttl", decision.ttl());
      if (peerDetail != null || routeDetail != null) {
        cs.detail(peerDetail == null ? routeDetail : routeDetail == null ? peerDetail : peerDetail + "; " + routeDetail);
      }
    } else if (!rq.pass()) {
      cs.detail(peerDetail != null ? peerDetail + "; " + decision.refusal().detail() : decision.refusal().detail());
    } else if (routeDetail != null) {
      cs.detail(routeDetail);
    }
    return cs;
  }

  /**
   * The client's Range cut from a whole 200 of known length, when the origin sent one (it ignored
   * the Range, or was not sent it): the range, {@link ByteRange#UNSATISFIABLE} for a 416, or null
   * to send the whole 200 (no Range, several ranges, unknown length, or an If-Range that does not
   * match this response's validator: RFC 9110 13.1.5, 14.2).
   */
  private ByteRange sliceOf(int status, Headers fields, long contentLength) {
    Headers reqHeaders = rq.headers();
    if (status != 200 || rq.req().method() != HttpMethod.GET || contentLength < 0 || !reqHeaders.contains("range")
        || !Conditionals.ifRangeAllows(reqHeaders, fields)) {
      return null;
    }
    return ByteRange.parse(reqHeaders.get("range"), contentLength);
  }

  private ClientResponse client() {
    return new ClientResponse(rq.req(), rq.exposeTags());
  }

  // ---------------------------------------------------------------- callbacks from the tee

  @Override
  public boolean clientGone() {
    return owner.clientGone();
  }

  @Override
  public void clientLeft() {
    owner.clientLeft();
  }

  /** The body is complete; store it (before its last byte reaches the client). */
  @Override
  public void complete(byte[] body) {
    if (body != null) {
      ctx.cache().store(rq.primaryKey(), rq.headers(), toStore, body, Tags.of(toStore.headers()), epochAtFetch);
    }
    owner.releaseRevalidation();
  }

  /** Too large to store; later Range requests for the URL ask the origin for the range. */
  @Override
  public void notStoring() {
    if (rq.headers().contains("range")) {
      ctx.coalescer().markUncacheable(rq.primaryKey());
    }
  }

  /** A store on disk for a body too large for memory, or null when it cannot be. */
  @Override
  public HttpCache.StreamedStore openDisk(long expectedLength) {
    if (!streamsToDisk) {
      return null;
    }
    HttpCache.StreamedStore store = ctx.cache().openStream(rq.primaryKey(), rq.headers(), toStore,
        Tags.of(toStore.headers()), epochAtFetch, expectedLength);
    if (store != null) {
      ctx.metrics().diskFill();
    }
    return store;
  }

  /** The client fell behind a body written to disk; it follows the write ({@link DiskTail}). */
  @Override
  public boolean followDisk(DiskWriter writer, long from, long until) {
    if (owner.clientGone()) {
      return false;
    }
    DiskTail.follow(writer, writer.holdChunks(), client(), context, owner, from, until);
    return true;
  }

  /** The origin went silent mid-body; the transfer was abandoned, nothing stored. */
  @Override
  public void originStalled() {
    ctx.metrics().originError(originName, "body-timeout");
  }
}
