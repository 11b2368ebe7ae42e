package io.edgecache.proxy.http;

import io.edgecache.proxy.cache.CacheKey;
import io.edgecache.proxy.cache.CachedResponse;
import io.edgecache.proxy.cache.HttpCache;
import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.metrics.ProxyMetrics;
import io.edgecache.proxy.policy.Authorization;
import io.edgecache.proxy.policy.ByteRange;
import io.edgecache.proxy.policy.CacheControl;
import io.edgecache.proxy.policy.Conditionals;
import io.edgecache.proxy.policy.FreshnessPolicy;
import io.edgecache.proxy.policy.HeaderUpdate;
import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.RequestDirectives;
import io.edgecache.proxy.policy.ResponseView;
import io.edgecache.proxy.policy.Reuse;
import io.edgecache.proxy.policy.Storability;
import io.edgecache.proxy.purge.PurgeService;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.HostAndPort;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client request, from receipt to the last byte sent, as a small state machine.
 *
 * <p>The steps follow Varnish's request FSM: {@code RECV} (validate, route, key) → {@code LOOKUP}
 * → {@code HIT} (deliver stored) | {@code MISS} (fetch and maybe store) | {@code REVALIDATE}
 * (conditional fetch, then 304 freshens the stored response) | {@code PASS} (unsafe methods and
 * everything the cache must not answer) → {@code DELIVER} or {@code SYNTH} (a response made here:
 * errors and refusals); {@code PURGE} hands over to {@link PurgeService}. Each step decides and
 * hands the work to a part: the RFC rules in {@code policy/}, {@link OriginFetch} (the origin
 * request, retry, timeout), {@link ForwardedResponse} (whether and where an origin's response is
 * stored, the head the client gets, and the {@link CacheTee} that streams the body to the client
 * while collecting for the cache under the {@link FillBudget}), {@link StoredDelivery} (memory
 * and disk bodies, ranges, 304), {@link Waiter} (a coalesced request), {@link BackgroundRefresh}
 * (stale-while-revalidate).
 *
 * <p>Every method runs on the event loop of the connection's context; completions from the cache
 * hop back to it ({@link OnContext}). Nothing here blocks. The trail of steps is logged at TRACE.
 */
final class Exchange implements ForwardedResponse.Owner, StoredDelivery.Owner {
  private static final Logger log = LoggerFactory.getLogger(Exchange.class);

  enum Step { RECV, LOOKUP, HIT, MISS, REVALIDATE, PASS, PURGE, DELIVER, SYNTH }

  /** What an origin fetch is for: a miss may be stored, a revalidation sends validators, a pass neither. */
  private enum Mode { MISS, REVALIDATE, PASS }

  private final ProxyContext ctx;
  private final Vertx vertx;
  private final Context context;
  private final HttpClient client;
  private final HttpServerRequest req;
  private final HttpServerResponse resp;
  private final RequestRecord record = new RequestRecord();
  private Step step = Step.RECV;

  private String method;
  private String primaryKey;
  private Headers reqHeaders;
  private CacheControl reqControl;
  /** The origin's route for this request ({@code origins[].routes}), or null. */
  private ProxyConfig.Route route;
  /** Freshness rules: the configured ones with the route's on top. */
  private FreshnessPolicy freshness;
  /** The origin this request is routed to, the authority it asked for and the target sent on. */
  private ProxyConfig.Origin routed;
  private HostAndPort authority;
  private String target;
  /** The fetch from the origin, made on first use ({@link #origin()}), which a hit never needs. */
  private OriginFetch originFetch;
  /** Whether this request is a peer fill from another member (then never sent on to a third one). */
  private boolean fromPeer;
  /** The member asked for this fill (sharded mode), or null. */
  private String viaPeer;
  private StoredDelivery delivery;
  private boolean clientGone;
  /**
   * This request's place at the per-variant revalidation gate: made on the first stale lookup
   * ({@link #turn()}); most requests never need one.
   */
  private RevalidationTurn turn;
  /** The purge epoch when the origin fetch began: a purge since then voids the store. */
  private long epochAtFetch = -1;
  /** The shared fetch this exchange leads, until its response goes to the {@link CacheTee}. */
  private SharedFetch shared;
  /** Told when the client goes away before its response is done, or null. */
  private Runnable leftListener;

  Exchange(ProxyContext ctx, Vertx vertx, HttpClient client, HttpServerRequest req) {
    this.ctx = ctx;
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.client = client;
    this.req = req;
    this.resp = req.response();
  }

  private void enter(Step next) {
    if (log.isTraceEnabled()) {
      log.trace("{} {} {} -> {}", method, primaryKey, step, next);
    }
    step = next;
  }

  /**
   * {@code r} runs when the client goes away (connection closed, HTTP/2 stream reset) before the
   * response is done; at once if it already has. Listeners add up, and run in the order given.
   */
  @Override
  public void whenClientLeft(Runnable r) {
    if (clientGone) {
      r.run();
      return;
    }
    Runnable before = leftListener;
    leftListener = before == null ? r : () -> {
      before.run();
      r.run();
    };
  }

  /** Called once when the response has been fully written: metrics and the access log. */
  void finished() {
    releaseRevalidation();
    record.finish(ctx, req, method);
  }

  // ---------------------------------------------------------------- RECV

  private OriginFetch origin() {
    if (originFetch == null) {
      originFetch = new OriginFetch(vertx, client, ctx.config().upstream(), ctx.clock(), routed, req, authority,
          target, reqHeaders).pooled(ctx.pools(), primaryKey);
    }
    return originFetch;
  }

  private RevalidationTurn turn() {
    if (turn == null) {
      turn = new RevalidationTurn(ctx.revalidations(), vertx, context, ctx.config().upstream().responseTimeoutMs());
    }
    return turn;
  }

  void recv() {
    if (RequestCheck.forwardsBody(req.method(), req.headers())) {
      req.pause(); // until the body is piped to the origin (or discarded by a response made here)
    }
    method = req.method().name();
    resp.closeHandler(v -> clientLeft());
    RequestCheck.Result checked = RequestCheck.check(req.method(), req.headers(), req.uri(), req.authority(),
        ctx.config().limits().maxHeaderCount());
    if (checked instanceof RequestCheck.Rejected r) {
      if (r.allow() != null) {
        resp.putHeader("Allow", r.allow());
      }
      synth(r.status(), r.message(), r.fwd(), r.close());
      return;
    }
    RequestCheck.Accepted request = (RequestCheck.Accepted) checked;
    authority = request.authority();
    routed = ctx.router().route(authority.host());
    if (routed == null) {
      synth(421, "no origin is configured for host " + authority.host(), CacheStatus.Fwd.BYPASS, false);
      return;
    }
    boolean https = req.isSSL();
    if (routed.redirectHttps() && !https && !method.equals("PURGE")) {
      redirectHttps(request.target());
      return;
    }
    route = routed.routes().isEmpty() ? null : routed.route(RouteRequest.matchPath(request.target()), method);
    // the query the cache keys on is the query the origin is asked for: no hidden variants
    target = route == null ? request.target() : route.query().apply(request.target());
    primaryKey = CacheKey.of(https ? "https" : "http", authority.host(), authority.port(), target);
    fromPeer = ctx.peers().isPeerFill(req.getHeader(Peers.HEADER));
    reqHeaders = Messages.toHeaders(req.headers());
    if (route != null) {
      reqHeaders = RouteRequest.withKeyFields(reqHeaders, route);
    }
    freshness = route == null ? ctx.freshness() : ctx.freshness().withTtl(route.ttl());
    reqControl = RequestDirectives.honored(reqHeaders, ctx.config().cache().honorClientDirectives());
    // a member filling for another gets the purge tags too, so that tag purges reach the copy it keeps
    delivery = new StoredDelivery(req, reqHeaders, context, exposeTags(), primaryKey, this, ctx.cache());
    if (method.equals("PURGE")) {
      purge();
    } else if (route != null && route.bypass()) {
      enter(Step.PASS);
      fetch(Mode.PASS, CacheStatus.Fwd.BYPASS, null);
    } else if (req.method() == HttpMethod.GET || req.method() == HttpMethod.HEAD) {
      lookup();
    } else {
      enter(Step.PASS);
      fetch(Mode.PASS, CacheStatus.Fwd.METHOD, null);
    }
  }

  /**
   * {@code origins[].redirectHttps}: nothing is looked up or dialled ({@link Synthetic#redirectHttps}).
   * The location keeps the target as the client sent it, before a route's query rule.
   */
  private void redirectHttps(String requestTarget) {
    enter(Step.SYNTH);
    Messages.resume(req);
    record.generated(ProxyMetrics.Outcome.BYPASS);
    Synthetic.redirectHttps(req, authority, requestTarget, ctx.config().listen().tls().port(), ctx.nowMs());
  }

  // ---------------------------------------------------------------- PURGE

  /** {@code PURGE /path}: never forwarded; {@link PurgeService} authorizes, purges, logs and answers. */
  private void purge() {
    enter(Step.PURGE);
    Messages.resume(req);
    ctx.purges().purgeMethod(ctx.purgeAuthorizer(), primaryKey, OriginFetch.clientAddress(req),
            req.getHeader("authorization"), req.getHeader("Edgecache-Soft-Purge"))
        .whenComplete((answer, err) -> OnContext.run(context,
            () -> purged(answer != null ? answer : PurgeService.Answer.FAILED)));
  }

  private void purged(PurgeService.Answer answer) {
    record.generated(ProxyMetrics.Outcome.PURGE);
    if (!clientGone) {
      enter(Step.SYNTH);
      Synthetic.purge(resp, answer);
    }
  }

  // ---------------------------------------------------------------- LOOKUP

  private void lookup() {
    enter(Step.LOOKUP);
    ctx.cache().lookup(primaryKey, reqHeaders).whenComplete((l, err) -> OnContext.run(context, () -> {
      if (err != null) {
        log.warn("cache lookup failed for {}: {}", primaryKey, err.toString());
        fetch(Mode.MISS, CacheStatus.Fwd.MISS, null);
        return;
      }
      try {
        onLookup(l);
      } catch (RuntimeException e) {
        internalError(e);
      }
    }));
  }

  private void onLookup(HttpCache.Lookup l) {
    CachedResponse stored = l.response();
    record.storedIn(l.fromDisk());
    if (stored == null) {
      miss(l.varyMiss() ? CacheStatus.Fwd.VARY_MISS : CacheStatus.Fwd.URI_MISS);
      return;
    }
    if (!Authorization.storedMayAnswer(reqHeaders, stored.view())) {
      enter(Step.PASS);
      fetch(Mode.MISS, CacheStatus.Fwd.REQUEST, null);
      return;
    }
    Reuse.Decision d = Reuse.decide(freshness, reqControl, stored.view(), ctx.nowMs(), stored.invalidated());
    switch (d.kind()) {
      case FRESH, STALE_OK -> hit(stored, d, CacheStatus.hit().param("ttl", d.ttl()));
      case STALE_WHILE_REVALIDATE -> {
        hit(stored, d, CacheStatus.hit().param("ttl", d.ttl()).detail("stale-while-revalidate"));
        new BackgroundRefresh(ctx, origin(), primaryKey, reqHeaders, reqControl, freshness.ttl(), stored).start();
      }
      case REVALIDATE -> revalidate(stored, d);
    }
  }

  // ---------------------------------------------------------------- HIT

  private void hit(CachedResponse stored, Reuse.Decision d, CacheStatus cs) {
    enter(Step.HIT);
    record.fromCache(d.kind() == Reuse.Kind.FRESH ? ProxyMetrics.Outcome.HIT : ProxyMetrics.Outcome.STALE);
    deliver(stored, cs, d.age());
  }

  // ---------------------------------------------------------------- MISS

  /** Nothing usable stored: a stored partial response, a shared fetch, or the origin. */
  private void miss(CacheStatus.Fwd fwd) {
    if (reqControl.has("only-if-cached")) {
      synth(504, "only-if-cached and nothing stored", CacheStatus.Fwd.URI_MISS, false);
      return;
    }
    enter(Step.MISS);
    if (req.method() == HttpMethod.GET && reqHeaders.contains("range") && !reqHeaders.contains("if-range")
        && !reqHeaders.contains("authorization")) {
      ctx.cache().lookupPartial(primaryKey).whenComplete((partial, err) -> OnContext.run(context, () -> {
        if (err != null || partial == null || !servePartial(partial)) {
          fetchShared(fwd);
        }
      }));
      return;
    }
    fetchShared(fwd);
  }

  /** Fetches, sharing the fetch with concurrent requests for the URL when possible. */
  private void fetchShared(CacheStatus.Fwd fwd) {
    if (coalescable()) {
      Coalescer.Joined joined = ctx.coalescer().join(primaryKey);
      if (joined != null && joined.leader()) {
        shared = new SharedFetch(ctx.coalescer(), joined.fill());
      } else if (joined != null && joined.fill().subscribe(new Waiter(this, client(), context, reqHeaders, fwd))) {
        ctx.metrics().coalescedWaiter();
        return;
      }
    }
    fetch(Mode.MISS, fwd, null);
  }

  /**
   * Only plain GETs share a fetch: a conditional or Range request could make the origin answer
   * 304 or 206, which the others cannot use; Authorization and no-store make it personal.
   */
  private boolean coalescable() {
    return req.method() == HttpMethod.GET && !reqHeaders.contains("authorization") && !reqHeaders.contains("range")
        && !Conditionals.isConditional(reqHeaders) && !reqControl.has("no-store");
  }

  /** A Range inside a fresh stored 206 is served from it (RFC 9111 3.3); false sends it to the origin. */
  private boolean servePartial(CachedResponse partial) {
    ByteRange want = StoredDelivery.rangeInside(partial, reqHeaders.get("range"));
    if (want == null) {
      return false;
    }
    Reuse.Decision d = Reuse.decide(freshness, reqControl, partial.view(), ctx.nowMs(), partial.invalidated());
    if (d.kind() != Reuse.Kind.FRESH && d.kind() != Reuse.Kind.STALE_OK) {
      return false;
    }
    enter(Step.HIT);
    record.fromCache(ProxyMetrics.Outcome.HIT);
    delivery.deliverPartial(partial, want, CacheStatus.hit().param("ttl", d.ttl()), d.age());
    return true;
  }

  // ---------------------------------------------------------------- REVALIDATE

  /**
   * The stored response needs the origin's word. With validators a conditional request is sent;
   * one per stored variant at a time: the others wait for it and look again.
   */
  private void revalidate(CachedResponse stored, Reuse.Decision d) {
    if (reqControl.has("only-if-cached")) {
      synth(504, "only-if-cached and the stored response is stale", CacheStatus.Fwd.STALE, false);
      return;
    }
    enter(Step.REVALIDATE);
    boolean clientAsked = d.reason() != null && d.reason().fromRequest();
    CacheStatus.Fwd why = clientAsked ? CacheStatus.Fwd.REQUEST : CacheStatus.Fwd.STALE;
    Headers h = stored.view().headers();
    boolean validators = h.contains("etag") || h.contains("last-modified");
    if (validators && why == CacheStatus.Fwd.STALE && !turn().waited() && !reqHeaders.contains("authorization")
        && !turn().leadOrWait(RevalidationTurn.variantKey(primaryKey, stored), this::lookAgain)) {
      return; // someone is already asking the origin: look again when they are done
    }
    fetch(validators ? Mode.REVALIDATE : Mode.MISS, why, stored);
  }

  private void lookAgain() {
    if (!clientGone) {
      lookup();
    }
  }

  @Override
  public void releaseRevalidation() {
    if (turn != null) {
      turn.release();
    }
  }

  /** A 304 answered our conditional request: freshen the stored response (RFC 9111 4.3.4) and serve it. */
  private void notModified(CachedResponse stored, ResponseView update, CacheStatus.Fwd fwd) {
    Headers merged = HeaderUpdate.merge(stored.view().headers(), update.headers());
    ResponseView fresh = new ResponseView(stored.view().status(), merged, update.requestTimeMs(), update.responseTimeMs());
    CachedResponse updated = new CachedResponse(fresh, stored.body(), stored.varyNames(), stored.secondaryKey(),
        stored.tags(), false, stored.stream());
    boolean keep = Storability.refusal("GET", reqControl, false, fresh, true, freshness.ttl()) == null;
    if (keep) {
      ctx.cache().freshen(primaryKey, stored, fresh, epochAtFetch);
    }
    releaseRevalidation();
    long age = freshness.currentAgeSeconds(fresh, ctx.nowMs());
    record.fromCache(ProxyMetrics.Outcome.REVALIDATED);
    CacheStatus cs = CacheStatus.fwd(fwd).param("fwd-status", 304);
    if (keep) {
      cs.param("stored");
    }
    deliver(updated, cs.param("ttl", freshness.lifetimeSeconds(fresh) - age), age);
  }

  // ---------------------------------------------------------------- FETCH (miss, revalidate, pass)

  private void fetch(Mode mode, CacheStatus.Fwd fwd, CachedResponse stored) {
    HttpMethod m = req.method();
    if (mode == Mode.REVALIDATE && m == HttpMethod.HEAD) {
      m = HttpMethod.GET; // a full 200 can then refill the cache
    }
    record.originRequested();
    epochAtFetch = ctx.cache().epoch();
    Headers validators = mode == Mode.REVALIDATE ? stored.view().headers() : null;
    OriginFetch.Callback answered = OriginFetch.callback((response, requestTimeMs) -> {
      try {
        onOriginResponse(mode, fwd, stored, response, requestTimeMs);
      } catch (RuntimeException e) {
        internalError(e);
      }
    }, (failure, cause) -> originFailed(failure, cause, fwd, stored), fields -> {
      if (!clientGone) {
        client().earlyHints(fields); // interim: relayed, never stored (RFC 9110 15.2)
      }
    });
    boolean withBody = RequestCheck.forwardsBody(req.method(), req.headers());
    Peers.Peer owner = mode != Mode.PASS && !withBody && !fromPeer
        && (m == HttpMethod.GET || m == HttpMethod.HEAD) ? ctx.peers().ownerOf(primaryKey) : null;
    if (owner == null) {
      if (withBody) {
        whenClientLeft(origin()::clientLeft);
      }
      origin().send(m, validators, withBody, wholeForRange(mode, m), () -> clientGone, answered);
      return;
    }
    viaPeer = owner.id();
    origin().sendViaPeer(ctx.peers(), owner, m, validators, wholeForRange(mode, m), () -> clientGone, answered,
        () -> viaPeer = null);
  }

  /**
   * A cacheable GET miss with a Range asks for the whole object, which can then be stored; the
   * client's range is cut from it ({@link CacheTee#clientWindow}). Not when the URL was just found
   * uncacheable or too large to store: then the origin serves the range itself.
   */
  private boolean wholeForRange(Mode mode, HttpMethod m) {
    return mode == Mode.MISS && m == HttpMethod.GET && reqHeaders.contains("range")
        && !reqHeaders.contains("authorization") && !reqControl.has("no-store") && !ctx.coalescer().uncacheable(primaryKey);
  }

  private void onOriginResponse(Mode mode, CacheStatus.Fwd fwd, CachedResponse stored, HttpClientResponse cresp,
      long requestTime) {
    long responseTime = ctx.nowMs();
    int status = cresp.statusCode();
    record.originAnswered(ctx.metrics(), origin().originName());
    if (status >= 500) {
      ctx.metrics().originError(origin().originName(), "5xx");
    }
    ResponseView view = OriginFetch.view(cresp, requestTime, responseTime);
    if (mode == Mode.REVALIDATE && status == 304) {
      OriginFetch.discard(cresp);
      notModified(stored, view, fwd);
    } else if (stored != null && Reuse.staleIfErrorStatus(status)
        && Reuse.staleIfErrorAllowed(freshness, reqControl, stored.view(), responseTime)) {
      OriginFetch.discard(cresp);
      serveStaleOnError(stored, "origin-" + status, status); // RFC 5861 4
    } else {
      forward(mode, fwd, cresp, view);
    }
  }

  /** Hands the origin's response to a {@link ForwardedResponse}, with the lead of the shared fetch. */
  private void forward(Mode mode, CacheStatus.Fwd fwd, HttpClientResponse cresp, ResponseView view) {
    SharedFetch lead = shared;
    shared = null;
    ForwardedResponse.Request rq = new ForwardedResponse.Request(req, method, primaryKey, reqHeaders, reqControl,
        freshness, route, viaPeer, mode == Mode.PASS, wholeForRange(mode, req.method()), exposeTags(), epochAtFetch);
    new ForwardedResponse(ctx, vertx, context, this, record, rq, origin().originName(), lead).start(fwd, cresp, view);
  }

  private void originFailed(OriginErrors.Failure f, Throwable cause, CacheStatus.Fwd fwd, CachedResponse stored) {
    releaseRevalidation();
    if (f == OriginErrors.Failure.CLIENT_GONE) { // nobody to answer, nothing the origin did
      releaseShared(null, false);
      return;
    }
    ctx.metrics().originError(origin().originName(), f.metricLabel());
    releaseShared(f, false);
    if (stored != null && Reuse.staleWhenDisconnectedAllowed(freshness, reqControl, stored.view(), ctx.nowMs(),
        ctx.config().cache().staleOnOriginFailureSeconds())) {
      serveStaleOnError(stored, f.detail(), 0);
      return;
    }
    log.debug("origin {} failed for {}: {}", origin().originName(), primaryKey, cause.toString());
    synth(f.status(), f.message(), fwd, false, f.detail());
  }

  private void serveStaleOnError(CachedResponse stored, String detail, int fwdStatus) {
    record.fromCache(ProxyMetrics.Outcome.STALE);
    long age = freshness.currentAgeSeconds(stored.view(), ctx.nowMs());
    long ttl = freshness.lifetimeSeconds(stored.view()) - age;
    CacheStatus cs = CacheStatus.hit().param("ttl", ttl).param("fwd", CacheStatus.Fwd.STALE.token());
    if (fwdStatus > 0) {
      cs.param("fwd-status", fwdStatus);
    }
    deliver(stored, cs.detail("stale-if-error: " + detail), age);
  }

  /** Stops leading the shared fetch; {@code failure} null sends the waiters to the origin. */
  private void releaseShared(OriginErrors.Failure failure, boolean uncacheable) {
    if (shared != null) {
      shared.abort(failure, uncacheable);
      shared = null;
    }
  }

  // ---------------------------------------------------------------- DELIVER

  /** Serves a stored response through {@link StoredDelivery}. */
  private void deliver(CachedResponse stored, CacheStatus cs, long ageSeconds) {
    enter(Step.DELIVER);
    if (!clientGone) {
      delivery.deliver(stored, cs, ageSeconds);
    }
  }

  private ClientResponse client() {
    return new ClientResponse(req, exposeTags());
  }

  /** Purge tags stay in responses when configured, and for a member filling for another (its copy needs them). */
  private boolean exposeTags() {
    return ctx.config().purge().exposeTags() || fromPeer;
  }

  // ---------------------------------------------------------------- SYNTH

  /** A bug must cost one request, never a hung client: 500 if nothing was sent yet, else a reset. */
  private void internalError(RuntimeException e) {
    log.error("internal error on {} {}", method, primaryKey, e);
    if (resp.headWritten()) {
      resp.reset();
    } else {
      synth(500, "internal error", CacheStatus.Fwd.BYPASS, true, "internal-error");
    }
  }

  private void synth(int status, String message, CacheStatus.Fwd fwd, boolean close) {
    synth(status, message, fwd, close, null);
  }

  private void synth(int status, String message, CacheStatus.Fwd fwd, boolean close, String detail) {
    enter(Step.SYNTH);
    Messages.resume(req);
    record.generated(ProxyMetrics.Outcome.ERROR);
    if (!clientGone && !resp.ended()) {
      CacheStatus cs = CacheStatus.fwd(fwd);
      Synthetic.error(req, status, message, detail == null ? cs : cs.detail(detail), close, ctx.nowMs());
    }
  }

  // ---------------------------------------------------------------- callbacks from the parts

  @Override
  public boolean clientGone() {
    return clientGone;
  }

  @Override
  public void delivering() {
    enter(Step.DELIVER);
  }

  @Override
  public void clientLeft() {
    clientGone = true;
    if (leftListener != null) {
      leftListener.run();
    }
    releaseRevalidation();
    if (delivery != null) {
      delivery.release();
    }
  }

  @Override
  public void storedBodyUnreadable() {
    fetch(Mode.MISS, CacheStatus.Fwd.MISS, null);
  }

  @Override
  public void refetch(CacheStatus.Fwd fwd) {
    fetch(Mode.MISS, fwd, null);
  }

  @Override
  public void failed(OriginErrors.Failure failure, CacheStatus.Fwd fwd) {
    synth(failure.status(), failure.message(), fwd, false, failure.detail());
  }

  @Override
  public void collapsedHead(Fill.Head head, CacheStatus.Fwd fwd) {
    enter(Step.DELIVER);
    record.fromOrigin(ProxyMetrics.Outcome.COLLAPSED);
    ResponseView view = head.view();
    CacheStatus cs = CacheStatus.fwd(fwd).param("fwd-status", view.status()).param("collapsed");
    client().head(view.status(), head.statusMessage(), view.headers(), cs, head.contentLength(), false);
  }
}
