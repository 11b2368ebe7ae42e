package io.edgecache.proxy.http;

import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.HopByHop;
import io.edgecache.proxy.policy.HttpDates;
import io.edgecache.proxy.policy.ResponseView;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.SocketAddress;
import java.time.Clock;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks the origin on behalf of one client request.
 *
 * <h2>What it does</h2>
 * Builds the origin request (target, Host as configured by {@code preserveHost}, the forwarded
 * header section from {@link ForwardHeaders}, validators when revalidating), sends it through the
 * event loop's pooled client, bounds the wait for the response head by
 * {@code upstream.responseTimeout}, and reports either the response or one classified
 * {@link OriginErrors.Failure}.
 *
 * <h2>Servers</h2>
 * Each attempt goes to one server of the origin's {@link OriginPool}, chosen by its balance
 * ({@code round-robin}, {@code least-connections}, or {@code hash} of the cache key) among the
 * servers that are up and not ejected; the attempt's outcome (response head, 5xx, failure) and
 * latency go back to the pool. With no server available the fetch fails at once as
 * {@link OriginErrors.Failure#NO_SERVER} (503, or stale content where that is allowed).
 *
 * <h2>Retry and failover</h2>
 * A request gets at most one more attempt (RFC 9112 9.3.1: a failed automatic retry is not
 * retried), and a peer fill none (its caller asks the origin instead).
 * <ul>
 *   <li>It could not connect (refused, connect timeout, TLS handshake, DNS): the request never
 *   left and its body has not been read, so any request, whatever its method, is sent to another
 *   available server of the pool. With no other server it fails (a refused connect does not heal
 *   in a millisecond).</li>
 *   <li>The connection failed after it was sent, before a response head (not a timeout): a pooled
 *   keep-alive connection may have been closed by the server, or poisoned by an earlier response
 *   that sent more bytes than it declared. The server may have acted on the request, so only an
 *   idempotent method (RFC 9110 9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE) is sent again, to
 *   another server when the pool has one, else to the same one again; and only
 *   when its body can be sent again: none, or one of at most {@link #REPLAYABLE_BODY_BYTES} with a
 *   Content-Length, which is read whole before the origin is asked (as nginx holds a body in its
 *   {@code client_body_buffer_size}). POST and PATCH are never sent twice.</li>
 *   <li>A response timeout is not retried: the server may still be working on it, and a second
 *   wait would double the client's.</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * {@link #send} must be called on the exchange's event loop, and the callback runs there too (the
 * origin client belongs to that event loop's verticle).
 */
final class OriginFetch {
  private static final Logger log = LoggerFactory.getLogger(OriginFetch.class);
  /**
   * How much longer than {@code upstream.connectTimeout} a request may wait for a connection: a
   * wait that ends in a {@link TimeoutException} was for a free pooled connection (the event loop
   * already has {@code upstream.maxConnectionsPerOrigin} to that server), which says the server is
   * busy, not broken, and never counts towards its ejection.
   */
  static final long POOL_WAIT_SLACK_MS = 1000;
  /**
   * The largest request body (with a Content-Length) of an idempotent method that is read whole
   * before the origin is asked, so that it can be sent again; larger ones stream to the origin
   * as they arrive and are never sent twice. As much as the pipe to the origin holds anyway.
   */
  static final int REPLAYABLE_BODY_BYTES = 16 * 1024;

  /** The outcome of one {@link #send}; both methods run on the exchange's event loop. */
  interface Callback {
    /** The response head arrived; its body has not been read yet. */
    void onResponse(HttpClientResponse response, long requestTimeMs);

    /** No response: connect failure, timeout, reset before the head. */
    void onFailure(OriginErrors.Failure failure, Throwable cause);

    /**
     * A {@code 103 Early Hints} interim response arrived (RFC 8297); the final response follows.
     * By default it is dropped: interim responses are never stored.
     */
    default void onEarlyHints(MultiMap fields) {
    }
  }

  /** A callback of two functions. */
  static Callback callback(BiConsumer<HttpClientResponse, Long> onResponse,
      BiConsumer<OriginErrors.Failure, Throwable> onFailure) {
    return callback(onResponse, onFailure, fields -> { });
  }

  /** A callback of three functions, the third for {@link Callback#onEarlyHints}. */
  static Callback callback(BiConsumer<HttpClientResponse, Long> onResponse,
      BiConsumer<OriginErrors.Failure, Throwable> onFailure, Consumer<MultiMap> onEarlyHints) {
    return new Callback() {
      @Override
      public void onEarlyHints(MultiMap fields) {
        onEarlyHints.accept(fields);
      }

      @Override
      public void onResponse(HttpClientResponse response, long requestTimeMs) {
        onResponse.accept(response, requestTimeMs);
      }

      @Override
      public void onFailure(OriginErrors.Failure failure, Throwable cause) {
        onFailure.accept(failure, cause);
      }
    };
  }

  private final Vertx vertx;
  private final HttpClient client;
  private final ProxyConfig.Upstream upstream;
  private final Clock clock;
  private final ProxyConfig.Origin origin;
  private final HttpServerRequest clientRequest;
  private final HostAndPort authority;
  private final String target;
  private final Headers requestHeaders;
  /** Set on a peer fill: the member that owns the key, asked instead of the origin. */
  private Peers.Peer peer;
  private String peerMark;
  private long peerTimeoutMs;
  /** Where the origin's pool is found ({@link #pooled}); null: a pool of its own. */
  private OriginPools pools;
  /** What {@code hash} balancing hashes: the cache key. */
  private String balanceKey;
  private OriginPool pool;
  /** The client's body, read whole so that it can be sent again ({@link #REPLAYABLE_BODY_BYTES}); null: streamed. */
  private io.vertx.core.buffer.Buffer replayBody;
  /** The attempt waiting for its response head, if any. */
  private Attempt waiting;
  /** {@link #clientLeft} was called: an attempt that gets its connection only now is not sent. */
  private boolean left;

  /**
   * @param authority the authority the client addressed (Host, or an absolute-form target's)
   * @param target the origin-form request target
   * @param requestHeaders the client's header fields
   */
  OriginFetch(Vertx vertx, HttpClient client, ProxyConfig.Upstream upstream, Clock clock, ProxyConfig.Origin origin,
      HttpServerRequest clientRequest, HostAndPort authority, String target, Headers requestHeaders) {
    this.vertx = vertx;
    this.client = client;
    this.upstream = upstream;
    this.clock = clock;
    this.origin = origin;
    this.clientRequest = clientRequest;
    this.authority = authority;
    this.target = target;
    this.requestHeaders = requestHeaders;
  }

  /**
   * The same fetch sent to {@code owner}'s traffic port instead of the origin (a peer fill in a
   * sharded cluster), marked with {@code mark} so that the owner goes to the origin itself, and
   * answered within {@code timeoutMs} or failed (the caller then asks the origin). Never retried.
   */
  private OriginFetch viaPeer(Peers.Peer owner, String mark, long timeoutMs) {
    OriginFetch f = new OriginFetch(vertx, client, upstream, clock, origin, clientRequest, authority, target,
        requestHeaders);
    f.peer = owner;
    f.peerMark = mark;
    f.peerTimeoutMs = timeoutMs;
    return f;
  }

  /**
   * Sends this fetch to the servers of the origin's pool in {@code pools}; {@code key} (the cache
   * key) is what {@code hash} balancing hashes. Without this call the origin is a pool of its own.
   */
  OriginFetch pooled(OriginPools pools, String key) {
    this.pools = pools;
    this.balanceKey = key;
    return this;
  }

  private OriginPool pool() {
    if (pool == null) {
      pool = pools != null ? pools.of(origin) : OriginPool.standalone(origin, clock);
    }
    return pool;
  }

  /** The origin's configured name, for metrics and logs. */
  String originName() {
    return origin.name();
  }

  /**
   * Where and how the request goes: method, target, server, TLS and connect bounds. Its fields
   * are not in the options: {@link #forwardedFields} writes them into the request Vert.x made,
   * which saves copying every field from the options' map into the request's.
   *
   * @param server the pool's server to send it to; null for a peer fill
   */
  RequestOptions request(HttpMethod m, OriginPool.Member server) {
    String host = server != null ? server.host : origin.host();
    int port = server != null ? server.port : origin.port();
    RequestOptions o = new RequestOptions()
        .setMethod(m)
        .setServer(SocketAddress.inetSocketAddress(port, host))
        .setURI(target)
        .setSsl(origin.tls())
        // the TCP connect is bounded by upstream.connectTimeout (the client's option); this bound
        // is for the whole wait for a connection, a free pooled one included, and is a little
        // longer so that a server that does not answer a connect fails as a connect timeout
        .setConnectTimeout(upstream.connectTimeoutMs() + POOL_WAIT_SLACK_MS);
    if (peer != null) {
      // the owner routes on the Host the client sent, as this node did
      o.setServer(SocketAddress.inetSocketAddress(peer.port(), peer.host())).setSsl(false)
          .setConnectTimeout(Math.min(upstream.connectTimeoutMs(), peerTimeoutMs))
          .setHost(authority.host()).setPort(authority.port() > 0 ? authority.port() : 80);
    } else if (origin.tls()) {
      // SNI and the certificate check take the name from host/port: the server's, as configured;
      // the Host field, when it is the client's, is set on its own (forwardedFields)
      o.setSslOptions(pool().sslOptions()).setHost(host).setPort(port);
    } else if (origin.preserveHost()) {
      o.setHost(authority.host()).setPort(authority.port() > 0 ? authority.port() : 80);
    } else {
      o.setHost(host).setPort(port);
    }
    return o;
  }

  /**
   * The fields sent to the origin, added to {@code out} (the request's own map).
   *
   * @param validators when revalidating, the stored response's fields; null otherwise
   * @param wholeObject leave the client's Range and If-Range out (see {@link #send})
   */
  void forwardedFields(MultiMap out, HttpMethod m, Headers validators, boolean wholeObject) {
    boolean cacheable = m == HttpMethod.GET || m == HttpMethod.HEAD;
    ForwardHeaders.build(out, requestHeaders, clientAddress(clientRequest), hostHeader(),
        viaVersion(clientRequest.version()), cacheable, validators,
        upstream.stripRequestHeaders(), clientRequest.isSSL() ? "https" : "http");
    if (wholeObject) {
      out.remove("Range").remove("If-Range");
    }
    out.remove(Peers.HEADER); // a member's mark never reaches an origin
    if (peer != null) {
      out.set(Peers.HEADER, peerMark);
    } else if (origin.tls() && origin.preserveHost()) {
      out.set("Host", authority.port() > 0 && authority.port() != 443
          ? authority.host() + ":" + authority.port() : authority.host());
    }
  }

  /**
   * Sends {@code m} (with the client's body when {@code withBody}) and reports to {@code cb}.
   *
   * @param validators see {@link #request}
   * @param clientGone consulted before a retry: nobody is waiting for a client that left
   */
  void send(HttpMethod m, Headers validators, boolean withBody, BooleanSupplier clientGone, Callback cb) {
    send(m, validators, withBody, false, clientGone, cb);
  }

  /**
   * As {@link #send(HttpMethod, Headers, boolean, BooleanSupplier, Callback)}; {@code wholeObject}
   * leaves the client's Range and If-Range out, so that a cacheable miss fetches the whole
   * representation to store (as Varnish does) and the client's range is cut from it while it streams.
   */
  void send(HttpMethod m, Headers validators, boolean withBody, boolean wholeObject, BooleanSupplier clientGone,
      Callback cb) {
    if (peer != null) {
      attempt(m, validators, withBody, wholeObject, false, clientGone, cb, null);
      return;
    }
    if (withBody && replayBody == null && idempotent(m) && !clientRequest.isEnded() && replayableBody()) {
      clientRequest.body().onComplete(b -> {
        if (b.failed()) {
          cb.onFailure(OriginErrors.Failure.CLIENT_GONE, b.cause()); // the client's body broke off: no server to blame
          return;
        }
        replayBody = b.result();
        send(m, validators, true, wholeObject, clientGone, cb);
      });
      Messages.resume(clientRequest); // body() collects what flows; the exchange paused it
      return;
    }
    OriginPool.Member server = pool().pick(balanceKey, null);
    if (server == null) {
      cb.onFailure(OriginErrors.Failure.NO_SERVER,
          new java.util.NoSuchElementException("no server of origin " + origin.name() + " is up"));
      return;
    }
    attempt(m, validators, withBody, wholeObject, true, clientGone, cb, server);
  }

  /**
   * A peer fill in a sharded cluster: sends a bodiless {@code m} to {@code owner}, the member that
   * owns the key (it answers from its cache or fills from the origin); if the owner cannot answer
   * within {@link Peers#timeoutMs()}, {@code onFallback} runs and the same request goes to the
   * origin. Either way {@code cb} gets one answer; each outcome is counted.
   */
  void sendViaPeer(Peers peers, Peers.Peer owner, HttpMethod m, Headers validators, boolean wholeObject,
      BooleanSupplier clientGone, Callback cb, Runnable onFallback) {
    viaPeer(owner, peers.mark(), peers.timeoutMs()).send(m, validators, false, wholeObject, clientGone,
        callback((response, requestTimeMs) -> {
          peers.count("ok");
          cb.onResponse(response, requestTimeMs);
        }, (failure, cause) -> {
          peers.count("fallback");
          log.debug("member {} did not answer for {} ({}); asking the origin", owner.id(), target, cause.toString());
          onFallback.run();
          if (!clientGone.getAsBoolean()) {
            send(m, validators, false, wholeObject, clientGone, cb);
          }
        }, cb::onEarlyHints));
  }

  /**
   * The client went away: an attempt still waiting for its response head is reset (its upload may
   * be cut short, and nobody would read its answer) and fails as
   * {@link OriginErrors.Failure#CLIENT_GONE}, not against its server. For requests with a body,
   * which no other client shares; a fill others wait for goes on without the client that led it.
   */
  void clientLeft() {
    left = true;
    if (waiting != null) {
      waiting.abandon();
    }
  }

  /** RFC 9110 9.2.2: the methods whose effect is the same however many times they are sent. */
  static boolean idempotent(HttpMethod m) {
    return m == HttpMethod.GET || m == HttpMethod.HEAD || m == HttpMethod.OPTIONS || m == HttpMethod.TRACE
        || m == HttpMethod.PUT || m == HttpMethod.DELETE;
  }

  /** A body of a known length small enough to hold until the response head ({@link #REPLAYABLE_BODY_BYTES}). */
  private boolean replayableBody() {
    long length = Messages.contentLength(requestHeaders);
    return length >= 0 && length <= REPLAYABLE_BODY_BYTES && !requestHeaders.contains("transfer-encoding");
  }

  /** The request can go out again after it was sent (see the class comment). */
  private boolean resendable(HttpMethod m, boolean withBody) {
    return idempotent(m) && (!withBody || replayBody != null);
  }

  /**
   * One attempt on {@code server} (null: the peer). With {@code mayRetry}, a failure to connect
   * fails over to another server, and a resendable request whose connection broke is sent once
   * more (see the class comment).
   */
  private void attempt(HttpMethod m, Headers validators, boolean withBody, boolean wholeObject, boolean mayRetry,
      BooleanSupplier clientGone, Callback cb, OriginPool.Member server) {
    long requestTime = clock.millis();
    long startNanos = System.nanoTime();
    if (server != null) {
      pool.started(server);
    }
    RequestOptions options = request(m, server);
    Future<HttpClientRequest> requested;
    try {
      requested = client.request(options);
    } catch (IllegalStateException closed) {
      // the origin client is closed (the proxy is stopping): a failure like any other, not a throw
      // out of the handler that retries
      requested = Future.failedFuture(closed);
    }
    requested.onComplete(ar -> {
      if (ar.failed()) {
        if (server != null) {
          // a TimeoutException here is the wait for a free pooled connection (POOL_WAIT_SLACK_MS)
          if (!(ar.cause() instanceof TimeoutException)) {
            pool.failed(server, ar.cause().toString());
          }
          pool.finished(server);
        }
        OriginPool.Member other = mayRetry && !clientGone.getAsBoolean() ? pool.pick(balanceKey, server) : null;
        if (other != null) {
          log.debug("{} {}: cannot connect to {} ({}); failing over to {}", m, target, server, ar.cause().toString(),
              other);
          attempt(m, validators, withBody, wholeObject, false, clientGone, cb, other);
          return;
        }
        cb.onFailure(OriginErrors.classify(ar.cause()), ar.cause());
        return;
      }
      forwardedFields(ar.result().headers(), m, validators, wholeObject);
      Attempt a = new Attempt(ar.result(), m, validators, withBody, wholeObject, mayRetry, clientGone, cb, requestTime,
          server, startNanos);
      if (left) {
        a.abandon(); // the client left while a connection was found: nothing is sent
        a.onFailed(new java.util.concurrent.CancellationException("the client went away"));
        return;
      }
      a.start();
    });
  }

  /** One request on one connection, with its response deadline. */
  private final class Attempt {
    private final HttpClientRequest request;
    private final HttpMethod method;
    private final Headers validators;
    private final boolean withBody;
    private final boolean wholeObject;
    private final boolean mayRetry;
    private final BooleanSupplier clientGone;
    private final Callback cb;
    private final long requestTime;
    private final OriginPool.Member server;
    private final long startNanos;
    private boolean timedOut;
    /** Reset because the client left ({@link #clientLeft}). */
    private boolean abandoned;
    private Deadlines.Deadline deadline;

    Attempt(HttpClientRequest request, HttpMethod method, Headers validators, boolean withBody, boolean wholeObject,
        boolean mayRetry, BooleanSupplier clientGone, Callback cb, long requestTime, OriginPool.Member server,
        long startNanos) {
      this.server = server;
      this.startNanos = startNanos;
      this.wholeObject = wholeObject;
      this.request = request;
      this.method = method;
      this.validators = validators;
      this.withBody = withBody;
      this.mayRetry = mayRetry;
      this.clientGone = clientGone;
      this.cb = cb;
      this.requestTime = requestTime;
    }

    void start() {
      deadline = Deadlines.of(vertx.getOrCreateContext())
          .after(peer != null ? peerTimeoutMs : upstream.responseTimeoutMs(), this::onTimeout);
      waiting = this;
      request.earlyHintsHandler(cb::onEarlyHints); // 100 Continue is never asked for (Expect is not forwarded)
      Future<HttpClientResponse> sent = !withBody ? request.send()
          : replayBody != null ? request.send(replayBody) : request.send(clientRequest);
      sent.onComplete(rr -> {
        deadline.cancel();
        if (waiting == this) {
          waiting = null;
        }
        if (rr.succeeded()) {
          if (server != null) {
            pool.answered(server, rr.result().statusCode(), System.nanoTime() - startNanos);
            rr.result().end().onComplete(x -> pool.finished(server)); // in flight until the body is over
          }
          cb.onResponse(rr.result(), requestTime);
        } else {
          onFailed(rr.cause());
        }
      });
      if (!withBody) {
        Messages.resume(clientRequest); // nothing to pipe: let Vert.x discard whatever the client sends
      }
    }

    private void onTimeout() {
      timedOut = true;
      request.reset(0, new TimeoutException(
          "no response from " + (peer != null ? "member " + peer.id() : "origin") + " within "
              + (peer != null ? peerTimeoutMs : upstream.responseTimeoutMs()) + " ms"));
    }

    void abandon() {
      abandoned = true;
      request.reset(0, new java.util.concurrent.CancellationException("the client went away"));
    }

    private void onFailed(Throwable cause) {
      if (abandoned || withBody && (clientGone.getAsBoolean() || clientRequest.response().closed())) {
        if (server != null) {
          pool.finished(server); // the client broke it off: says nothing about the server
        }
        cb.onFailure(OriginErrors.Failure.CLIENT_GONE, cause);
        return;
      }
      if (server != null) {
        pool.failed(server, timedOut ? "timeout" : cause.toString());
        pool.finished(server);
      }
      if (timedOut) {
        cb.onFailure(OriginErrors.Failure.TIMEOUT, cause);
        return;
      }
      OriginErrors.Failure f = OriginErrors.classify(cause);
      if (mayRetry && resendable(method, withBody) && f == OriginErrors.Failure.ERROR && !clientGone.getAsBoolean()) {
        OriginPool.Member next = pool.pick(balanceKey, server);
        next = next != null ? next : pool.pick(balanceKey, null); // a pool of one: the same server again
        if (next != null) {
          log.debug("retrying {} {} on {} after {}", method, target, next, cause.toString());
          attempt(method, validators, withBody, wholeObject, false, clientGone, cb, next);
          return;
        }
      }
      cb.onFailure(f, cause);
    }
  }

  /** Reads and drops a response body that is not needed, so the pooled connection can be reused. */
  static void discard(HttpClientResponse response) {
    response.handler(b -> { });
    response.exceptionHandler(t -> { });
    response.resume();
  }

  /** The Host as the client addressed it (absolute-form authority included). */
  private String hostHeader() {
    return authority.port() > 0 ? authority.host() + ":" + authority.port() : authority.host();
  }

  /** The received-protocol version of our Via member (RFC 9110 7.6.3). */
  private static String viaVersion(HttpVersion v) {
    return v == HttpVersion.HTTP_1_0 ? "1.0" : v == HttpVersion.HTTP_2 ? "2" : "1.1";
  }

  static String clientAddress(HttpServerRequest req) {
    SocketAddress a = req.remoteAddress();
    return a == null ? "unknown" : a.hostAddress();
  }

  /**
   * The origin's response as the cache sees it: hop-by-hop fields gone, and a Date added when the
   * origin sent none (RFC 9110 6.6.1: a recipient with a clock must add one before forwarding).
   */
  static ResponseView view(HttpClientResponse response, long requestTimeMs, long responseTimeMs) {
    Headers h = HopByHop.strip(Messages.toHeaders(response.headers()));
    if (!h.contains("date")) {
      h = h.toBuilder().add("Date", HttpDates.format(responseTimeMs)).build();
    }
    return new ResponseView(response.statusCode(), h, requestTimeMs, responseTimeMs);
  }
}
