package io.edgecache.proxy.http;

import io.edgecache.proxy.cache.CachedResponse;
import io.edgecache.proxy.cache.HttpCache;
import io.edgecache.proxy.cache.Tags;
import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.metrics.ProxyMetrics;
import io.edgecache.proxy.policy.ByteRange;
import io.edgecache.proxy.policy.CacheControl;
import io.edgecache.proxy.policy.Conditionals;
import io.edgecache.proxy.policy.FreshnessPolicy;
import io.edgecache.proxy.policy.HeaderUpdate;
import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.HopByHop;
import io.edgecache.proxy.policy.HttpDates;
import io.edgecache.proxy.policy.RequestDirectives;
import io.edgecache.proxy.policy.ResponseView;
import io.edgecache.proxy.policy.Reuse;
import io.edgecache.proxy.policy.Storability;
import io.edgecache.proxy.policy.Vary;
import io.edgecache.proxy.purge.PurgeAuthorizer;
import io.edgecache.storage.DiskBody;
import io.netty.buffer.Unpooled;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.SocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client request, from receipt to the last byte sent, as a small state machine.
 *
 * <p>The steps follow Varnish's request FSM: {@code RECV} (validate, route, key) → {@code LOOKUP}
 * → {@code HIT} (deliver stored) | {@code MISS} (fetch and maybe store) | {@code REVALIDATE}
 * (conditional fetch, then 304 freshens the stored response) | {@code PASS} (unsafe methods and
 * everything the cache must not answer) → {@code DELIVER} or {@code SYNTH} (a response made here:
 * errors and refusals). Every method runs on the event loop of the connection's context; nothing
 * here blocks. Bodies stream with backpressure; a copy for the cache is collected only while it
 * stays under {@code memory.maxObjectBytes}.
 */
final class Exchange {
  private static final Logger log = LoggerFactory.getLogger(Exchange.class);
  private static final Logger PURGE_LOG = LoggerFactory.getLogger("edgecache.purge");
  private static final Set<Integer> STALE_IF_ERROR_STATUSES = Set.of(500, 502, 503, 504);
  private static final Set<HttpMethod> SAFE_METHODS =
      Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS, HttpMethod.TRACE);
  private static final Set<HttpMethod> RETRYABLE =
      Set.of(HttpMethod.GET, HttpMethod.HEAD);

  enum Step { RECV, LOOKUP, HIT, MISS, REVALIDATE, PASS, DELIVER, SYNTH }

  private enum Mode { MISS, REVALIDATE, PASS }

  private final ProxyContext ctx;
  private final Vertx vertx;
  private final Context context;
  private final HttpClient client;
  private final HttpServerRequest req;
  private final HttpServerResponse resp;
  private Step step = Step.RECV;

  private ProxyConfig.Origin origin;
  private HostAndPort authority;
  private String target;
  private String method;
  private String primaryKey;
  private Headers reqHeaders;
  private CacheControl reqControl;
  private boolean clientGone;
  private final long startNanos = System.nanoTime();
  private ProxyMetrics.Outcome outcome = ProxyMetrics.Outcome.BYPASS;
  private ProxyMetrics.Source source = ProxyMetrics.Source.ORIGIN;
  /** Where a stored response came from, for the served-bytes metric. */
  private ProxyMetrics.Source hitSource = ProxyMetrics.Source.MEMORY;
  private long originNanos = -1;
  private long originStartNanos;
  /** Set once this request waited for another's revalidation: it will not wait again. */
  private boolean waitedForRevalidation;
  private long waitTimer = -1;
  /** The stored variant whose revalidation this request leads, until it is over. */
  private String revalidationKey;
  /** The purge epoch when the origin fetch began: a purge since then voids the store. */
  private long epochAtFetch = -1;
  /** The shared fetch this exchange leads, while its response may still be shared. */
  private Fill fill;

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

  /** Called once when the response has been fully written: metrics and the access log. */
  void finished() {
    releaseRevalidation();
    int status = resp.getStatusCode();
    ctx.metrics().request(outcome, method == null ? req.method().name() : method, status);
    ctx.metrics().servedBytes(source, resp.bytesWritten());
    if (ctx.config().accessLog().enabled()) {
      AccessLog.write(ctx.config().accessLog().format(), req, status, resp.bytesWritten(),
          resp.headers().get(Messages.CACHE_STATUS), originNanos, System.nanoTime() - startNanos);
    }
  }

  // ---------------------------------------------------------------- RECV

  void recv() {
    if (hasBody()) {
      req.pause(); // until the body is piped to the origin (or discarded by a response made here)
    }
    method = req.method().name();
    resp.closeHandler(v -> {
      clientGone = true;
      releaseRevalidation();
    });
    ProxyConfig.Limits limits = ctx.config().limits();
    if (req.method() == HttpMethod.CONNECT) {
      resp.putHeader("Allow", "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH");
      synth(405, "CONNECT is not supported: edgecache is a reverse proxy, not a forward proxy", "method", true);
      return;
    }
    if (req.headers().size() > limits.maxHeaderCount()) {
      synth(431, "too many header fields (limit " + limits.maxHeaderCount() + ")", "request", true);
      return;
    }
    if (req.headers().contains(StrictRequestDecoder.AMBIGUOUS_FRAMING)
        || (req.headers().contains("transfer-encoding") && req.headers().contains("content-length"))) {
      synth(400, "both Transfer-Encoding and Content-Length: ambiguous framing", "request", true);
      return;
    }
    if (req.headers().getAll("content-length").size() > 1) {
      synth(400, "several Content-Length fields: ambiguous framing", "request", true);
      return;
    }
    authority = req.authority();
    target = req.uri();
    if (!target.startsWith("/") && !target.equals("*")) {
      // absolute-form (RFC 9112 3.2.2): the target's authority wins over Host
      try {
        URI abs = new URI(target);
        if (abs.getHost() == null) {
          synth(400, "invalid request target", "request", true);
          return;
        }
        authority = HostAndPort.create(abs.getHost(), abs.getPort());
        String path = abs.getRawPath() == null || abs.getRawPath().isEmpty() ? "/" : abs.getRawPath();
        target = path + (abs.getRawQuery() == null ? "" : "?" + abs.getRawQuery());
      } catch (java.net.URISyntaxException e) {
        synth(400, "invalid request target", "request", true);
        return;
      }
    }
    if (authority == null || authority.host() == null || authority.host().isEmpty()) {
      synth(400, "missing Host", "request", true);
      return;
    }
    origin = ctx.router().route(authority.host());
    if (origin == null) {
      synth(421, "no origin is configured for host " + authority.host(), "bypass", false);
      return;
    }
    String host = authority.host().toLowerCase(Locale.ROOT);
    int port = authority.port();
    primaryKey = "http://" + host + (port > 0 && port != 80 ? ":" + port : "") + target;
    reqHeaders = Messages.toHeaders(req.headers());
    reqControl = RequestDirectives.of(reqHeaders);
    if (method.equals("PURGE")) {
      purge();
      return;
    }
    if (req.method() == HttpMethod.GET || req.method() == HttpMethod.HEAD) {
      lookup();
    } else {
      enter(Step.PASS);
      fetch(Mode.PASS, "method", null);
    }
  }

  // ---------------------------------------------------------------- PURGE

  /**
   * {@code PURGE /path}: removes (or with {@code Edgecache-Soft-Purge: 1} marks stale) every
   * stored variant of the URL; answers {@code {"purged": N}}. Never forwarded to the origin.
   */
  private void purge() {
    req.resume();
    String who = clientAddress();
    PurgeAuthorizer.Verdict verdict = ctx.purgeAuthorizer().check(who, req.getHeader("authorization"));
    if (verdict != PurgeAuthorizer.Verdict.ALLOWED) {
      int status = verdict == PurgeAuthorizer.Verdict.UNAUTHORIZED ? 401 : 403;
      PURGE_LOG.warn("purge refused: {} {} from {} ({})", status, primaryKey, who,
          verdict == PurgeAuthorizer.Verdict.UNAUTHORIZED ? "missing or wrong token" : "address not in purge.allow");
      if (status == 401) {
        resp.putHeader("WWW-Authenticate", "Bearer realm=\"edgecache purge\"");
      }
      json(status, "{\"error\": \"" + (status == 401 ? "unauthorized" : "forbidden") + "\"}");
      return;
    }
    String softHeader = req.getHeader("Edgecache-Soft-Purge");
    boolean soft = softHeader != null && (softHeader.trim().equals("1") || softHeader.trim().equalsIgnoreCase("true"));
    ctx.cache().purgeUrl(primaryKey, soft).whenComplete((n, err) -> onContext(() -> {
      if (err != null) {
        PURGE_LOG.warn("purge failed: url {} from {}: {}", primaryKey, who, err.toString());
        json(500, "{\"error\": \"purge failed\"}");
        return;
      }
      PURGE_LOG.info("purge kind=url soft={} target={} purged={} by={}", soft, primaryKey, n, who);
      ctx.metrics().purge("url", soft, n);
      json(200, "{\"purged\": " + n + "}");
    }));
  }

  private void json(int status, String body) {
    req.resume();
    outcome = ProxyMetrics.Outcome.PURGE;
    source = ProxyMetrics.Source.GENERATED;
    if (clientGone) {
      return;
    }
    enter(Step.SYNTH);
    resp.setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .putHeader("Cache-Control", "no-store")
        .putHeader(Messages.CACHE_STATUS, CacheStatus.fwd("bypass").detail("purge").toString())
        .end(body + "\n");
  }

  // ---------------------------------------------------------------- LOOKUP

  private void lookup() {
    enter(Step.LOOKUP);
    ctx.cache().lookup(primaryKey, reqHeaders).whenComplete((l, err) -> onContext(() -> {
      if (err != null) {
        log.warn("cache lookup failed for {}: {}", primaryKey, err.toString());
        fetch(Mode.MISS, "miss", null);
      } else {
        try {
          onLookup(l);
        } catch (RuntimeException e) {
          internalError(e);
        }
      }
    }));
  }

  private void onContext(Runnable r) {
    if (Vertx.currentContext() == context) {
      r.run();
    } else {
      context.runOnContext(v -> r.run());
    }
  }

  private void onLookup(HttpCache.Lookup l) {
    CachedResponse stored = l.response();
    hitSource = l.fromDisk() ? ProxyMetrics.Source.DISK : ProxyMetrics.Source.MEMORY;
    boolean onlyIfCached = reqControl.has("only-if-cached");
    if (stored == null) {
      if (onlyIfCached) {
        synth(504, "only-if-cached and nothing stored", "uri-miss", false);
        return;
      }
      enter(Step.MISS);
      String fwd = l.varyMiss() ? "vary-miss" : "uri-miss";
      if (req.method() == HttpMethod.GET && reqHeaders.contains("range") && !reqHeaders.contains("if-range")
          && !reqHeaders.contains("authorization")) {
        ctx.cache().lookupPartial(primaryKey).whenComplete((partial, err) -> onContext(() -> {
          if (err != null || partial == null || !servePartial(partial)) {
            miss(fwd);
          }
        }));
        return;
      }
      miss(fwd);
      return;
    }
    ResponseView view = stored.view();
    if (reqHeaders.contains("authorization")) {
      CacheControl cc = view.effective();
      if (!(cc.has("public") || cc.has("s-maxage") || cc.has("must-revalidate"))) {
        enter(Step.PASS);
        fetch(Mode.MISS, "request", null);
        return;
      }
    }
    long now = ctx.nowMs();
    Reuse.Decision d = Reuse.decide(ctx.freshness(), reqControl, view, now, stored.invalidated());
    switch (d.kind()) {
      case FRESH, STALE_OK -> {
        enter(Step.HIT);
        outcome = d.kind() == Reuse.Kind.FRESH ? ProxyMetrics.Outcome.HIT : ProxyMetrics.Outcome.STALE;
        source = hitSource;
        deliver(stored, CacheStatus.hit().param("ttl", d.ttl()), d.age());
      }
      case STALE_WHILE_REVALIDATE -> {
        enter(Step.HIT);
        outcome = ProxyMetrics.Outcome.STALE;
        source = hitSource;
        deliver(stored, CacheStatus.hit().param("ttl", d.ttl()).detail("stale-while-revalidate"), d.age());
        refreshInBackground(stored);
      }
      case REVALIDATE -> {
        if (onlyIfCached) {
          synth(504, "only-if-cached and the stored response is stale", "stale", false);
          return;
        }
        enter(Step.REVALIDATE);
        String why = d.reason() != null && d.reason().startsWith("request") ? "request" : "stale";
        boolean validators = view.headers().contains("etag") || view.headers().contains("last-modified");
        if (validators && why.equals("stale") && !waitedForRevalidation && !reqHeaders.contains("authorization")) {
          String key = primaryKey + '\u0001' + stored.secondaryKey();
          if (!ctx.revalidations().lead(key, this::retryAfterRevalidation)) {
            // someone is already asking the origin: look again when they are done, or after the timeout
            waitTimer = vertx.setTimer(ctx.config().upstream().responseTimeoutMs(), t -> retryAfterRevalidation());
            return;
          }
          revalidationKey = key;
        }
        fetch(validators ? Mode.REVALIDATE : Mode.MISS, why, stored);
      }
    }
  }

  /** Nothing usable stored: fetch, sharing the fetch with concurrent requests for the URL when possible. */
  private void miss(String fwd) {
    if (coalescable()) {
      Coalescer.Joined joined = ctx.coalescer().join(primaryKey);
      if (joined != null && joined.leader()) {
        fill = joined.fill();
      } else if (joined != null && joined.fill().subscribe(new Waiter(fwd))) {
        ctx.metrics().coalescedWaiter();
        return;
      }
    }
    fetch(Mode.MISS, fwd, null);
  }

  /**
   * Serves a Range request from a stored partial response when the range lies inside it and the
   * response is fresh (RFC 9111 3.3, 4). Returns false when the request must go to the origin.
   */
  private boolean servePartial(CachedResponse partial) {
    ResponseView v = partial.view();
    long[] held = ByteRange.contentRange(v.headers());
    if (held == null || partial.body() == null || partial.body().length != held[1] - held[0] + 1) {
      return false;
    }
    ByteRange want = ByteRange.parse(reqHeaders.get("range"), held[2]);
    if (want == null || want == ByteRange.UNSATISFIABLE || want.first() < held[0] || want.last() > held[1]) {
      return false;
    }
    long now = ctx.nowMs();
    Reuse.Decision d = Reuse.decide(ctx.freshness(), reqControl, v, now, partial.invalidated());
    if (d.kind() != Reuse.Kind.FRESH && d.kind() != Reuse.Kind.STALE_OK) {
      return false;
    }
    enter(Step.HIT);
    outcome = ProxyMetrics.Outcome.HIT;
    source = hitSource;
    resp.putHeader(Messages.AGE, Long.toString(Math.max(0, Math.min(d.age(), CacheControl.MAX_DELTA))));
    resp.setStatusCode(206);
    writeHeaders(v.headers(), CacheStatus.hit().param("ttl", d.ttl()), true);
    resp.headers().set("Content-Range", "bytes " + want.first() + "-" + want.last() + "/" + held[2]);
    resp.putHeader("Content-Length", Long.toString(want.length()));
    resp.end(BufferInternal.buffer(Unpooled.wrappedBuffer(partial.body(), (int) (want.first() - held[0]), (int) want.length())));
    return true;
  }

  /** Runs once, when the revalidation this request waited for ended (or the wait timed out). */
  private void retryAfterRevalidation() {
    onContext(() -> {
      if (waitedForRevalidation) {
        return;
      }
      waitedForRevalidation = true;
      vertx.cancelTimer(waitTimer);
      if (!clientGone) {
        lookup();
      }
    });
  }

  /** The revalidation this request leads is over (freshened, replaced, failed, or the client left). */
  private void releaseRevalidation() {
    String key = revalidationKey;
    if (key != null) {
      revalidationKey = null;
      ctx.revalidations().done(key);
    }
  }

  /**
   * Only plain GETs share a fetch: a conditional or Range request could make the origin answer
   * 304 or 206, which the others cannot use; Authorization and no-store make it personal.
   */
  private boolean coalescable() {
    return req.method() == HttpMethod.GET && !reqHeaders.contains("authorization") && !reqHeaders.contains("range")
        && !Conditionals.isConditional(reqHeaders) && !reqControl.has("no-store");
  }

  /** Stops leading the shared fetch; {@code failure} null sends the waiters to the origin. */
  private void releaseFill(OriginErrors.Failure failure, boolean uncacheable) {
    Fill f = fill;
    if (f == null) {
      return;
    }
    fill = null;
    ctx.coalescer().done(f);
    if (uncacheable) {
      ctx.coalescer().markUncacheable(primaryKey);
    }
    f.abort(failure);
  }

  /** A request waiting on another request's fetch of the same URL; runs on this exchange's context. */
  private final class Waiter implements Fill.Subscriber {
    private final String fwd;
    private boolean detached;

    Waiter(String fwd) {
      this.fwd = fwd;
    }

    @Override
    public Context context() {
      return context;
    }

    @Override
    public void onHead(Fill.Head head) {
      ResponseView view = head.view();
      List<String> names = Vary.names(view.headers());
      if (!names.isEmpty() && !Vary.secondaryKey(names, reqHeaders).equals(head.secondaryKey())) {
        detached = true; // another variant: ask the origin ourselves
        fetch(Mode.MISS, "vary-miss", null);
        return;
      }
      if (clientGone) {
        return;
      }
      enter(Step.DELIVER);
      outcome = ProxyMetrics.Outcome.COLLAPSED;
      resp.setStatusCode(view.status());
      if (head.statusMessage() != null && !head.statusMessage().isEmpty()) {
        resp.setStatusMessage(head.statusMessage());
      }
      writeHeaders(view.headers(), CacheStatus.fwd(fwd).param("fwd-status", view.status()).param("collapsed"), false);
      if (head.contentLength() < 0) {
        if (req.version() == HttpVersion.HTTP_1_0) {
          resp.putHeader("Connection", "close");
        } else {
          resp.setChunked(true);
        }
      }
    }

    @Override
    public void onData(Buffer data) {
      if (!detached && !clientGone) {
        resp.write(data);
      }
    }

    @Override
    public void onEnd() {
      if (!detached && !clientGone) {
        resp.end();
      }
    }

    @Override
    public void onAbort(OriginErrors.Failure failure, boolean headSent) {
      if (detached) {
        return;
      }
      if (headSent) {
        if (!clientGone) {
          resp.reset();
        }
      } else if (failure == null) {
        fetch(Mode.MISS, fwd, null);
      } else {
        synth(failure.status(), failure.status() == 504 ? "origin timed out" : "origin unreachable", fwd, false, failure.detail());
      }
    }
  }

  // ---------------------------------------------------------------- FETCH

  private RequestOptions originRequest(HttpMethod m, Headers validators) {
    boolean cacheable = m == HttpMethod.GET || m == HttpMethod.HEAD;
    RequestOptions o = new RequestOptions()
        .setMethod(m)
        .setServer(SocketAddress.inetSocketAddress(origin.port(), origin.host()))
        .setURI(target)
        .setSsl(origin.tls())
        .setConnectTimeout(ctx.config().upstream().connectTimeoutMs())
        .setHeaders(ForwardHeaders.build(reqHeaders, clientAddress(), hostHeader(),
            req.version() == HttpVersion.HTTP_1_0 ? "1.0" : "1.1", cacheable, validators));
    if (origin.preserveHost()) {
      o.setHost(authority.host()).setPort(authority.port() > 0 ? authority.port() : origin.tls() ? 443 : 80);
    } else {
      o.setHost(origin.host()).setPort(origin.port());
    }
    return o;
  }

  /** The Host as the client addressed it (absolute-form authority included). */
  private String hostHeader() {
    return authority.port() > 0 ? authority.host() + ":" + authority.port() : authority.host();
  }

  private String clientAddress() {
    SocketAddress a = req.remoteAddress();
    return a == null ? "unknown" : a.hostAddress();
  }

  private void fetch(Mode mode, String fwd, CachedResponse stored) {
    fetch(mode, fwd, stored, true);
  }

  /**
   * Sends the request to the origin. A bodiless GET or HEAD that fails on the connection
   * (not a timeout) is tried once more: a pooled keep-alive connection may have been closed by the
   * origin, or poisoned by an earlier response that sent more bytes than it declared.
   */
  private void fetch(Mode mode, String fwd, CachedResponse stored, boolean mayRetry) {
    HttpMethod m = req.method();
    if (mode == Mode.REVALIDATE && m == HttpMethod.HEAD) {
      m = HttpMethod.GET; // a full 200 can then refill the cache
    }
    RequestOptions options = originRequest(m, mode == Mode.REVALIDATE ? stored.view().headers() : null);
    long requestTime = ctx.nowMs();
    originStartNanos = System.nanoTime();
    if (!mayRetry && epochAtFetch >= 0) {
      // a retry keeps the epoch of the first attempt
    } else {
      epochAtFetch = ctx.cache().epoch();
    }
    boolean[] timedOut = {false};
    client.request(options).onComplete(ar -> {
      if (ar.failed()) {
        originFailed(ar.cause(), fwd, stored);
        return;
      }
      HttpClientRequest creq = ar.result();
      boolean retryable = mayRetry && RETRYABLE.contains(req.method()) && !hasBody();
      long timer = vertx.setTimer(ctx.config().upstream().responseTimeoutMs(), id -> {
        timedOut[0] = true;
        creq.reset(0, new TimeoutException("no response from origin within "
            + ctx.config().upstream().responseTimeoutMs() + " ms"));
      });
      boolean hasBody = hasBody();
      (hasBody ? creq.send(req) : creq.send()).onComplete(rr -> {
        vertx.cancelTimer(timer);
        if (rr.failed()) {
          if (!timedOut[0] && retryable && !clientGone
              && OriginErrors.classify(rr.cause()).detail().equals("origin-error")) {
            log.debug("retrying {} {} after {}", method, primaryKey, rr.cause().toString());
            fetch(mode, fwd, stored, false);
            return;
          }
          originFailed(timedOut[0] ? new TimeoutException() : rr.cause(), fwd, stored);
        } else {
          try {
            onOriginResponse(mode, fwd, stored, rr.result(), requestTime);
          } catch (RuntimeException e) {
            internalError(e);
          }
        }
      });
      if (!hasBody) {
        req.resume();
      }
    });
  }

  private boolean hasBody() {
    String cl = req.headers().get("content-length");
    return (cl != null && !cl.trim().equals("0")) || req.headers().contains("transfer-encoding");
  }

  private void onOriginResponse(Mode mode, String fwd, CachedResponse stored, HttpClientResponse cresp, long requestTime) {
    long responseTime = ctx.nowMs();
    int status = cresp.statusCode();
    originNanos = System.nanoTime() - originStartNanos;
    ctx.metrics().originLatency(origin.name(), originNanos);
    if (status >= 500) {
      ctx.metrics().originError(origin.name(), "5xx");
    }
    ResponseView view = originView(cresp, requestTime, responseTime);
    if (mode == Mode.REVALIDATE && status == 304) {
      drain(cresp);
      notModified(stored, view, fwd);
      return;
    }
    if (stored != null && STALE_IF_ERROR_STATUSES.contains(status)
        && Reuse.staleIfErrorAllowed(ctx.freshness(), reqControl, stored.view(), responseTime)) {
      drain(cresp);
      serveStaleOnError(stored, "origin-" + status, status);
      return;
    }
    forward(mode, fwd, cresp, view);
  }

  /**
   * The origin's response as the cache sees it: hop-by-hop fields gone, and a Date added when the
   * origin sent none (RFC 9110 6.6.1: a recipient with a clock must add one before forwarding).
   */
  private static ResponseView originView(HttpClientResponse cresp, long requestTime, long responseTime) {
    Headers h = HopByHop.strip(Messages.toHeaders(cresp.headers()));
    if (!h.contains("date")) {
      h = h.toBuilder().add("Date", HttpDates.format(responseTime)).build();
    }
    return new ResponseView(cresp.statusCode(), h, requestTime, responseTime);
  }

  /** A 304 answered our conditional request: freshen the stored response and serve it. */
  private void notModified(CachedResponse stored, ResponseView update, String fwd) {
    Headers merged = HeaderUpdate.merge(stored.view().headers(), update.headers());
    ResponseView fresh = new ResponseView(stored.view().status(), merged, update.requestTimeMs(), update.responseTimeMs());
    CachedResponse updated = new CachedResponse(fresh, stored.body(), stored.varyNames(), stored.secondaryKey(),
        stored.tags(), false);
    boolean keep = Storability.refusal("GET", reqControl, false, fresh, true) == null;
    if (keep) {
      ctx.cache().freshen(primaryKey, stored, fresh);
    }
    releaseRevalidation();
    long now = ctx.nowMs();
    long lifetime = ctx.freshness().lifetimeSeconds(fresh);
    long age = ctx.freshness().currentAgeSeconds(fresh, now);
    outcome = ProxyMetrics.Outcome.REVALIDATED;
    source = hitSource;
    CacheStatus cs = CacheStatus.fwd(fwd).param("fwd-status", 304);
    if (keep) {
      cs.param("stored");
    }
    deliver(updated, cs.param("ttl", lifetime - age), age);
  }

  private void serveStaleOnError(CachedResponse stored, String detail, int fwdStatus) {
    outcome = ProxyMetrics.Outcome.STALE;
    source = hitSource;
    long age = ctx.freshness().currentAgeSeconds(stored.view(), ctx.nowMs());
    long ttl = ctx.freshness().lifetimeSeconds(stored.view()) - age;
    CacheStatus cs = CacheStatus.hit().param("ttl", ttl).param("fwd", "stale");
    if (fwdStatus > 0) {
      cs.param("fwd-status", fwdStatus);
    }
    deliver(stored, cs.detail("stale-if-error: " + detail), age);
  }

  private void originFailed(Throwable t, String fwd, CachedResponse stored) {
    releaseRevalidation();
    OriginErrors.Failure f = OriginErrors.classify(t);
    ctx.metrics().originError(origin.name(), f.kind());
    releaseFill(f, false);
    if (stored != null && Reuse.staleWhenDisconnectedAllowed(ctx.freshness(), reqControl, stored.view(), ctx.nowMs(),
        ctx.config().cache().staleOnOriginFailureSeconds())) {
      serveStaleOnError(stored, f.detail(), 0);
      return;
    }
    log.debug("origin {} failed for {}: {}", origin.name(), primaryKey, t.toString());
    synth(f.status(), f.status() == 504 ? "origin timed out" : "origin unreachable", fwd, false, f.detail());
  }

  /** Streams the origin's response to the client, collecting a copy for the cache if storable. */
  private void forward(Mode mode, String fwd, HttpClientResponse cresp, ResponseView view) {
    int status = view.status();
    outcome = mode == Mode.PASS ? ProxyMetrics.Outcome.BYPASS : ProxyMetrics.Outcome.MISS;
    source = ProxyMetrics.Source.ORIGIN;
    boolean isGet = req.method() == HttpMethod.GET;
    long maxObject = ctx.config().maxCachedObjectBytes();
    boolean postStorable = mode == Mode.PASS && postResponseStorable(view);
    String refusal = mode == Mode.PASS && !postStorable ? "method"
        : Storability.refusal(postStorable ? "GET" : method, reqControl, reqHeaders.contains("authorization"), view,
            ctx.config().cache().storeSetCookie());
    long lifetime = ctx.freshness().lifetimeSeconds(view);
    if (refusal == null && lifetime <= 0 && !hasValidator(view) && !view.effective().has("stale-if-error")) {
      refusal = "no-freshness";
    }
    long contentLength = parseLength(view.headers().get("content-length"));
    if (refusal == null && contentLength > maxObject) {
      refusal = "too-large";
    }
    CacheStatus cs = CacheStatus.fwd(fwd).param("fwd-status", status);
    if (refusal == null) {
      long age = ctx.freshness().currentAgeSeconds(view, view.responseTimeMs());
      cs.param("stored").param("ttl", lifetime - age);
    } else if (mode != Mode.PASS) {
      cs.detail(refusal);
    }
    ResponseView toStore = refusal == null ? withoutUnstorableFields(view) : null;
    if (fill != null) {
      if (refusal != null || !isGet) {
        releaseFill(null, true);
      } else {
        List<String> names = Vary.names(view.headers());
        fill.head(new Fill.Head(view, cresp.statusMessage(), contentLength,
            names.isEmpty() ? "" : Vary.secondaryKey(names, reqHeaders)));
      }
    }

    if (mode == Mode.PASS && status < 400 && !SAFE_METHODS.contains(req.method())) {
      // before any byte reaches the client, so its next request cannot see the old response
      invalidateAfterUnsafe(view.headers());
      if (postStorable) {
        epochAtFetch = ctx.cache().epoch(); // this response may replace what was just invalidated
      }
    }
    if (clientGone && fill == null) {
      cresp.request().reset();
      return;
    }
    enter(Step.DELIVER);
    resp.setStatusCode(status);
    if (cresp.statusMessage() != null && !cresp.statusMessage().isEmpty()) {
      resp.setStatusMessage(cresp.statusMessage());
    }
    writeHeaders(view.headers(), cs, false);
    boolean bodyless = req.method() == HttpMethod.HEAD || status == 204 || status == 304 || status < 200;
    if (!bodyless && contentLength < 0) {
      if (req.version() == HttpVersion.HTTP_1_0) {
        resp.putHeader("Connection", "close");
      } else {
        resp.setChunked(true);
      }
    }
    BodyCollector collector = toStore != null && (isGet || postStorable) ? new BodyCollector(maxObject, ctx.fillBudget()) : null;
    BodyCollector[] col = {collector};
    // Stores the complete body once. With a Content-Length the client has the whole response as
    // soon as the last byte is written, before the origin's end event: commit before writing it,
    // so the client's next request finds the stored response.
    Runnable commit = () -> {
      if (col[0] != null) {
        BodyCollector c = col[0];
        col[0] = null;
        byte[] bytes = c.bytes();
        c.release();
        ctx.cache().store(primaryKey, reqHeaders, toStore, bytes, Tags.of(toStore.headers()), epochAtFetch);
      }
      releaseRevalidation();
      if (fill != null) {
        Fill f = fill;
        fill = null;
        ctx.coalescer().done(f);
        f.end();
      }
    };
    boolean[] committed = {false};
    cresp.handler(buf -> {
      if (col[0] != null && !col[0].add(buf)) {
        col[0].release();
        col[0] = null;
        if (fill != null) {
          fill.stopRetaining();
          ctx.coalescer().done(fill);
          ctx.coalescer().markUncacheable(primaryKey);
        }
      }
      if (fill != null) {
        fill.data(buf);
      }
      if (col[0] != null && contentLength >= 0 && col[0].size() == contentLength) {
        committed[0] = true;
        commit.run();
      }
      if (!clientGone) {
        resp.write(buf);
        if (resp.writeQueueFull()) {
          cresp.pause();
          resp.drainHandler(v -> cresp.resume());
        }
      } else if (col[0] == null && (fill == null || fill.subscribers() == 0)) {
        releaseFill(new OriginErrors.Failure(502, "origin-error"), false);
        cresp.request().reset();
      }
    });
    resp.closeHandler(v -> {
      clientGone = true;
      releaseRevalidation();
      if (col[0] == null && (fill == null || fill.subscribers() == 0)) {
        releaseFill(new OriginErrors.Failure(502, "origin-error"), false);
        cresp.request().reset();
      } else {
        cresp.resume(); // keep filling the cache even though this client left
      }
    });
    cresp.exceptionHandler(t -> {
      if (col[0] != null) {
        col[0].release();
        col[0] = null;
      }
      releaseFill(new OriginErrors.Failure(502, "origin-error"), false);
      if (!clientGone) {
        log.debug("origin body failed for {}: {}", primaryKey, t.toString());
        resp.reset();
      }
    });
    cresp.endHandler(v -> {
      // store before ending, so a request that follows this response's last byte finds it
      if (!committed[0]) {
        commit.run();
      }
      if (!clientGone) {
        resp.end();
      }
    });
  }

  /**
   * RFC 9110 9.3.3: a response to POST may be reused for a later GET when it has explicit
   * freshness and a Content-Location equal to the POST's target URI.
   */
  private boolean postResponseStorable(ResponseView view) {
    if (req.method() != HttpMethod.POST || view.status() != 200 || !FreshnessPolicy.hasExplicitFreshness(view)) {
      return false;
    }
    String loc = view.headers().get("content-location");
    if (loc == null) {
      return false;
    }
    try {
      URI resolved = URI.create(primaryKey).resolve(loc.trim());
      return resolved.toString().equals(primaryKey);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static boolean hasValidator(ResponseView v) {
    return v.headers().contains("etag") || v.headers().contains("last-modified");
  }

  /**
   * Fields a shared cache must not keep: those named by qualified {@code private="..."} and
   * {@code no-cache="..."} (RFC 9111 5.2.2.4, 5.2.2.7).
   */
  private static ResponseView withoutUnstorableFields(ResponseView v) {
    CacheControl cc = v.cacheControl();
    var names = new java.util.HashSet<String>();
    names.addAll(cc.fieldNames("private"));
    names.addAll(cc.fieldNames("no-cache"));
    if (names.isEmpty()) {
      return v;
    }
    return v.withHeaders(v.headers().without(names::contains), v.requestTimeMs(), v.responseTimeMs());
  }

  static long parseLength(String v) {
    if (v == null) {
      return -1;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static void drain(HttpClientResponse cresp) {
    cresp.handler(b -> { });
    cresp.exceptionHandler(t -> { });
    cresp.resume();
  }

  /** RFC 9111 4.4: a non-error response to an unsafe method invalidates the URI and same-host locations. */
  private void invalidateAfterUnsafe(Headers responseHeaders) {
    HttpCache cache = ctx.cache();
    cache.invalidate(primaryKey);
    for (String field : new String[] {"location", "content-location"}) {
      String loc = responseHeaders.get(field);
      if (loc == null) {
        continue;
      }
      try {
        URI resolved = URI.create(primaryKey).resolve(loc.trim());
        URI base = URI.create(primaryKey);
        if ("http".equalsIgnoreCase(resolved.getScheme()) && base.getRawAuthority().equalsIgnoreCase(resolved.getRawAuthority())) {
          String path = resolved.getRawPath() == null || resolved.getRawPath().isEmpty() ? "/" : resolved.getRawPath();
          String q = resolved.getRawQuery();
          cache.invalidate("http://" + base.getRawAuthority().toLowerCase(Locale.ROOT) + path + (q == null ? "" : "?" + q));
        }
      } catch (IllegalArgumentException e) {
        // an unparseable location invalidates nothing
      }
    }
  }

  // ---------------------------------------------------------------- DELIVER

  /** Serves a stored response: 200/206/304/416 as the client's request asks, with Age. */
  private void deliver(CachedResponse stored, CacheStatus cs, long ageSeconds) {
    enter(Step.DELIVER);
    if (clientGone) {
      return;
    }
    ResponseView v = stored.view();
    long length = stored.bodyLength();
    boolean notModified = (req.method() == HttpMethod.GET || req.method() == HttpMethod.HEAD)
        && Conditionals.notModified(reqHeaders, v);
    ByteRange range = !notModified && v.status() == 200 && req.method() == HttpMethod.GET ? rangeFor(v, length) : null;
    boolean sendsBody = !notModified && req.method() != HttpMethod.HEAD && range != ByteRange.UNSATISFIABLE
        && v.status() != 204 && v.status() != 304 && length > 0;
    DiskBody stream = stored.stream();
    if (sendsBody && stream != null) {
      // Read the first chunk before answering: if it fails its checksum the entry is gone and the
      // request is served from the origin; nothing wrong is ever sent.
      long first = range != null ? range.first() : 0;
      int index = (int) (first / stream.chunkBytes());
      stream.readChunk(index).whenComplete((bytes, err) -> onContext(() -> {
        if (err != null) {
          log.warn("disk body of {} unreadable ({}); fetching from the origin", primaryKey, rootCause(err));
          fetch(Mode.MISS, "miss", null);
          return;
        }
        respond(stored, cs, ageSeconds, notModified, range, sendsBody, bytes, index);
      }));
      return;
    }
    respond(stored, cs, ageSeconds, notModified, range, sendsBody, null, 0);
  }

  private static String rootCause(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c != c.getCause()) {
      c = c.getCause();
    }
    return c.toString();
  }

  /** Writes a stored response: 304, 416, 206 or the stored status, from memory or from disk. */
  private void respond(CachedResponse stored, CacheStatus cs, long ageSeconds, boolean notModified, ByteRange range,
      boolean sendsBody, byte[] firstChunk, int firstIndex) {
    req.resume(); // a request body, if any, is not needed: let Vert.x discard it
    if (clientGone) {
      return;
    }
    ResponseView v = stored.view();
    long length = stored.bodyLength();
    resp.putHeader(Messages.AGE, Long.toString(Math.max(0, Math.min(ageSeconds, CacheControl.MAX_DELTA))));
    if (notModified) {
      resp.setStatusCode(304);
      Headers h = v.headers();
      for (String name : new String[] {"ETag", "Cache-Control", "Content-Location", "Date", "Expires", "Vary", "Last-Modified"}) {
        for (String value : h.all(name)) {
          resp.headers().add(name, value);
        }
      }
      addVia(h.combined("via"));
      resp.putHeader(Messages.CACHE_STATUS, cs.after(h.combined("cache-status")));
      resp.end();
      return;
    }
    if (range == ByteRange.UNSATISFIABLE) {
      resp.setStatusCode(416);
      writeHeaders(v.headers(), cs, true);
      resp.putHeader("Content-Range", "bytes */" + length);
      resp.putHeader("Content-Length", "0");
      resp.end();
      return;
    }
    resp.setStatusCode(range != null ? 206 : v.status());
    writeHeaders(v.headers(), cs, true);
    if (range != null) {
      resp.putHeader("Content-Range", "bytes " + range.first() + "-" + range.last() + "/" + length);
      resp.putHeader("Content-Length", Long.toString(range.length()));
    } else if (!(v.status() == 204 || v.status() == 304)) {
      resp.putHeader("Content-Length", Long.toString(length));
    }
    long first = range != null ? range.first() : 0;
    long last = range != null ? range.last() : length - 1;
    if (!sendsBody) {
      resp.end();
    } else if (firstChunk != null) {
      streamChunks(stored.stream(), firstIndex, firstChunk, first, last);
    } else {
      byte[] body = stored.body();
      resp.end(BufferInternal.buffer(Unpooled.wrappedBuffer(body, (int) first, (int) (last - first + 1))));
    }
  }

  /**
   * Streams bytes {@code first..last} of a disk body chunk by chunk, reading the next chunk only
   * when the client's write queue has room. A chunk that fails its checksum mid-stream resets the
   * connection: the client sees a truncated transfer, never wrong bytes.
   */
  private void streamChunks(DiskBody body, int index, byte[] chunk, long first, long last) {
    if (clientGone) {
      return;
    }
    long chunkStart = (long) index * body.chunkBytes();
    int from = (int) Math.max(0, first - chunkStart);
    int to = (int) Math.min(chunk.length, last - chunkStart + 1);
    Buffer slice = BufferInternal.buffer(Unpooled.wrappedBuffer(chunk, from, to - from));
    if (chunkStart + chunk.length > last) {
      resp.end(slice);
      return;
    }
    resp.write(slice);
    Runnable next = () -> body.readChunk(index + 1).whenComplete((bytes, err) -> onContext(() -> {
      if (err != null) {
        log.warn("disk body of {} failed mid-stream ({}); resetting the client connection", primaryKey, rootCause(err));
        if (!clientGone) {
          resp.reset();
        }
        return;
      }
      streamChunks(body, index + 1, bytes, first, last);
    }));
    if (resp.writeQueueFull()) {
      resp.drainHandler(v -> next.run());
    } else {
      next.run();
    }
  }

  /** The range to serve, honouring If-Range (strong ETag or exact Last-Modified), or null for all. */
  private ByteRange rangeFor(ResponseView v, long length) {
    String range = reqHeaders.get("range");
    if (range == null) {
      return null;
    }
    String ifRange = reqHeaders.get("if-range");
    if (ifRange != null) {
      String t = ifRange.trim();
      if (t.startsWith("\"") || t.startsWith("W/")) {
        String etag = v.headers().get("etag");
        if (etag == null || !Conditionals.isStrong(etag) || !Conditionals.isStrong(t) || !etag.trim().equals(t)) {
          return null;
        }
      } else {
        String lm = v.headers().get("last-modified");
        if (lm == null || HttpDates.parse(lm).isEmpty() || !HttpDates.parse(lm).equals(HttpDates.parse(t))) {
          return null;
        }
      }
    }
    return ByteRange.parse(range, length);
  }

  /**
   * Copies response fields to the client: everything but framing (set by the caller), our own
   * Age (set separately) and Surrogate-Control (consumed by this cache), then Via and Cache-Status.
   */
  private void writeHeaders(Headers h, CacheStatus cs, boolean fromStore) {
    String upstreamStatus = null;
    String via = null;
    for (int i = 0; i < h.size(); i++) {
      String name = h.name(i);
      String lower = name.toLowerCase(Locale.ROOT);
      switch (lower) {
        case "surrogate-control" -> { }
        case "surrogate-key", "cache-tag" -> {
          if (ctx.config().purge().exposeTags()) {
            resp.headers().add(name, h.value(i));
          }
        }
        case "cache-status" -> upstreamStatus = upstreamStatus == null ? h.value(i) : upstreamStatus + ", " + h.value(i);
        case "via" -> via = via == null ? h.value(i) : via + ", " + h.value(i);
        case "content-length", "age" -> {
          if (!fromStore) {
            resp.headers().add(name, h.value(i));
          }
        }
        default -> resp.headers().add(name, h.value(i));
      }
    }
    addVia(via);
    resp.putHeader(Messages.CACHE_STATUS, cs.after(upstreamStatus));
  }

  private void addVia(String upstream) {
    String ours = (req.version() == HttpVersion.HTTP_1_0 ? "1.0 " : "1.1 ") + CacheStatus.NAME;
    resp.putHeader(Messages.VIA, upstream == null ? ours : upstream + ", " + ours);
  }

  // ---------------------------------------------------------------- background refresh

  /** RFC 5861 stale-while-revalidate: one conditional fetch per stored variant, off the request path. */
  private void refreshInBackground(CachedResponse stored) {
    // shares the per-variant gate with foreground revalidations: one conditional request at a time
    String key = primaryKey + '\u0001' + stored.secondaryKey();
    if (!ctx.revalidations().lead(key, () -> { })) {
      return;
    }
    RequestOptions options = originRequest(HttpMethod.GET, stored.view().headers());
    long requestTime = ctx.nowMs();
    long epoch = ctx.cache().epoch();
    long maxObject = ctx.config().maxCachedObjectBytes();
    client.request(options)
        .compose(HttpClientRequest::send)
        .compose(cresp -> {
          long responseTime = ctx.nowMs();
          ResponseView view = originView(cresp, requestTime, responseTime);
          if (view.status() == 304) {
            Headers merged = HeaderUpdate.merge(stored.view().headers(), view.headers());
            ctx.cache().freshen(primaryKey, stored,
                new ResponseView(stored.view().status(), merged, requestTime, responseTime));
            return cresp.end();
          }
          String refusal = Storability.refusal("GET", reqControl, reqHeaders.contains("authorization"), view,
              ctx.config().cache().storeSetCookie());
          if (refusal != null || parseLength(view.headers().get("content-length")) > maxObject) {
            return cresp.end();
          }
          // bounded like any fill: by the object limit and the shared fill budget
          BodyCollector collector = new BodyCollector(maxObject, ctx.fillBudget());
          boolean[] kept = {true};
          cresp.handler(buf -> {
            if (kept[0] && !collector.add(buf)) {
              kept[0] = false;
              collector.release();
            }
          });
          return cresp.end().andThen(ar -> {
            if (ar.succeeded() && kept[0]) {
              ResponseView v = withoutUnstorableFields(view);
              ctx.cache().store(primaryKey, reqHeaders, v, collector.bytes(), Tags.of(v.headers()), epoch);
            }
            collector.release();
          });
        })
        .onComplete(ar -> {
          ctx.revalidations().done(key);
          if (ar.failed()) {
            log.debug("background refresh of {} failed: {}", primaryKey, ar.cause().toString());
          }
        });
  }

  // ---------------------------------------------------------------- SYNTH

  /** A bug must cost one request, never a hung client: 500 if nothing was sent yet, else a reset. */
  private void internalError(RuntimeException e) {
    log.error("internal error on {} {}", method, primaryKey, e);
    if (resp.headWritten()) {
      resp.reset();
    } else {
      synth(500, "internal error", "bypass", true, "internal-error");
    }
  }

  private void synth(int status, String message, String fwd, boolean close) {
    synth(status, message, fwd, close, null);
  }

  private void synth(int status, String message, String fwd, boolean close, String detail) {
    enter(Step.SYNTH);
    req.resume();
    outcome = ProxyMetrics.Outcome.ERROR;
    source = ProxyMetrics.Source.GENERATED;
    if (clientGone || resp.ended()) {
      return;
    }
    byte[] body = (status + " " + message + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
    resp.setStatusCode(status);
    resp.putHeader("Content-Type", "text/plain; charset=utf-8");
    resp.putHeader("Content-Length", Integer.toString(body.length));
    resp.putHeader("Cache-Control", "no-store");
    resp.putHeader("Date", HttpDates.format(ctx.nowMs()));
    CacheStatus cs = CacheStatus.fwd(fwd);
    if (detail != null) {
      cs.detail(detail);
    }
    resp.putHeader(Messages.CACHE_STATUS, cs.toString());
    if (close) {
      resp.putHeader("Connection", "close");
    }
    resp.end(Buffer.buffer(body)).onComplete(v -> {
      if (close) {
        req.connection().close();
      }
    });
  }

  /**
   * Collects a body for the cache, up to the object limit and within the budget all fills share
   * ({@code memory.fillBufferBytes}), so that many large concurrent fills cannot exhaust the heap:
   * when either runs out, this response is simply not stored. {@link #release} returns the
   * reservation; it is idempotent and must run on every path that stops collecting.
   */
  private static final class BodyCollector {
    private final long limit;
    private final java.util.concurrent.atomic.AtomicLong budget;
    private final Buffer buf = Buffer.buffer();
    private long reserved;

    BodyCollector(long limit, java.util.concurrent.atomic.AtomicLong budget) {
      this.limit = limit;
      this.budget = budget;
    }

    boolean add(Buffer b) {
      if (buf.length() + (long) b.length() > limit) {
        return false;
      }
      if (budget.addAndGet(-b.length()) < 0) {
        budget.addAndGet(b.length());
        return false;
      }
      reserved += b.length();
      buf.appendBuffer(b);
      return true;
    }

    void release() {
      budget.addAndGet(reserved);
      reserved = 0;
    }

    byte[] bytes() {
      return buf.getBytes();
    }

    long size() {
      return buf.length();
    }
  }
}
