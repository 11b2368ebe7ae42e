package io.edgecache.proxy.http;

import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.tls.TlsListener;
import io.edgecache.proxy.tls.TlsMaterial;
import io.edgecache.storage.ReadBatch;
import io.netty.channel.SingleThreadEventLoop;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.impl.Http1xServerConnection;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.net.impl.VertxConnection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One event loop's share of the traffic port: an HTTP server (all instances share the port) and
 * its own pooled origin client. Everything here runs on this verticle's event loop.
 *
 * <p>Slow-header defence: a connection must deliver a complete request header within
 * {@code limits.headerTimeout} of connecting, and the next one within {@code limits.idleTimeout}
 * of the previous response; the idle timeout alone would let a client that sends one byte a
 * minute hold a connection forever.
 *
 * <p>Connection cap: at most {@code limits.maxConnections} client connections are open at once
 * across all event loops. One beyond the cap is accepted, its first request is answered
 * {@code 503} with {@code Connection: close} and {@code Retry-After: 1}, and it is closed; it
 * gets at most one second to send that request. A 503 rather than a bare close at accept: a
 * client or load balancer then knows the proxy is full (and may retry elsewhere) instead of
 * seeing a reset it would take for a network fault, while a refused connection costs only its
 * socket for a second.
 *
 * <p>HTTPS: an instance made with a certificate supplier serves {@code listen.tls.port} with TLS
 * and ALPN ({@link TlsListener}); the request path is the same. An HTTP/2 connection carries
 * many requests at once as streams, so what is per connection in HTTP/1 is per stream there:
 * the head deadline waits until no stream is open, the write queue and its drain are the
 * stream's (HTTP/2 flow control, not the socket's water mark), a refusal or an error ends its
 * stream without {@code Connection: close} (a connection-specific field HTTP/2 forbids, RFC 9113
 * 8.2.2), and the HTTP/1 request decoder is not replaced (the HTTP/2 codec frames requests and
 * refuses connection-specific fields and ambiguous lengths itself).
 */
public final class ProxyVerticle extends VerticleBase {
  /**
   * Bytes a client connection may have queued in the transport before a writer waits for it to
   * drain (Netty's high water mark; writing resumes below half of it). Vert.x's default, 64 KiB,
   * made a hit on any body above that wait for a drain event per 64 KiB, an event-loop turn each
   * while the socket had room: with this bound and 256 KiB memory slices
   * ({@link StoredDelivery#MEMORY_SLICE_BYTES}), 100 KiB hits went from 31k to 34k-46k req/s and
   * 1 MiB hits from 3.4k-4.0k to 4.2k-5.1k ({@code loadtests/run.sh}, edgecache alone, 2 runs of 2
   * rounds each). A reader that stops holds at most this plus one slice of direct memory.
   */
  static final int CLIENT_WRITE_QUEUE_BYTES = 256 * 1024;
  private final java.util.function.Supplier<ProxyContext> contexts;
  private final Map<HttpConnection, HeadDeadline> deadlines = new HashMap<>();
  /** Client connections open on every event loop together (shared by the instances). */
  private final AtomicInteger openConnections;
  /** This loop's connections accepted beyond the cap, to be answered 503 and closed. */
  private final Set<HttpConnection> overCap = new HashSet<>();
  private HttpServer server;
  private HttpServerOptions serverOptions;
  private final HttpClient client;
  private volatile Thread loopThread;
  /** The certificate to start with (the HTTPS listener), or null for plain HTTP. */
  private final java.util.function.Supplier<TlsMaterial> certificate;

  /**
   * {@code contexts} yields the current shared state (a reload swaps it between requests);
   * {@code openConnections} is shared by every instance on the port (the cap is for them all); an
   * instance of the HTTPS listener ({@code listen.tls}) when {@code certificate} is not null, which
   * yields the pair to serve at start ({@link #serve} replaces it later).
   *
   * <p>{@code client} is made by {@link #originClient} before the instances are deployed: making an
   * HTTP client takes an event loop for its pool's idle-connection timer, and an instance that did
   * so in {@link #start} while the next instance was being given its event loop took that loop's
   * turn, so two instances could land on one event loop and the other serve no connection at all
   * (seen in about 2 of 5 starts with 2 event loops).
   */
  public ProxyVerticle(java.util.function.Supplier<ProxyContext> contexts, AtomicInteger openConnections,
      java.util.function.Supplier<TlsMaterial> certificate, HttpClient client) {
    this.contexts = contexts;
    this.openConnections = openConnections;
    this.certificate = certificate;
    this.client = client;
  }

  /** The pooled client to the origins, as every instance uses it. */
  public static HttpClient originClient(Vertx vertx, ProxyConfig cfg) {
    ProxyConfig.Upstream up = cfg.upstream();
    HttpClientOptions co = new HttpClientOptions()
        .setKeepAlive(true)
        .setKeepAliveTimeout((int) Math.max(1, up.idleTimeoutMs() / 1000))
        .setConnectTimeout((int) up.connectTimeoutMs())
        .setMaxHeaderSize(64 * 1024)
        .setDecompressionSupported(false)
        .setTcpNoDelay(true)
        // https:// origin servers get their configured host name as SNI even when it has no dot
        // (localhost, a Kubernetes service's short name), which the JDK alone would leave out
        .setForceSni(true);
    // A protocol error on a pooled origin connection (e.g. an origin that sent more body bytes
    // than its Content-Length said) closes that connection at once, so the next request does not
    // inherit the garbage.
    return vertx.httpClientBuilder()
        .with(co)
        // Vert.x 5 drops an expired idle connection only when this cleaner runs (1 s by default),
        // not when it hands one out: a quarter second keeps OriginFramingGuard's one-second
        // Keep-Alive margin a margin
        .with(new PoolOptions().setHttp1MaxSize(up.maxConnectionsPerOrigin()).setCleanerPeriod(250))
        .withConnectHandler(conn -> {
          conn.exceptionHandler(t -> conn.close());
          if (conn instanceof VertxConnection vc) {
            dropChunkedWriter(vc);
          }
          OriginFramingGuard.install(conn, (int) Math.max(1, up.idleTimeoutMs() / 1000));
        })
        .build();
  }

  /**
   * Takes Netty's {@code ChunkedWriteHandler} off an HTTP/1 connection. Vert.x puts it on every
   * TLS connection and, on io_uring (no {@code FileRegion} there), on every connection, for
   * {@code sendFile}; edgecache never sends a file or a {@code ChunkedInput}, so the handler only
   * queued and flushed each write once more (about 4% of a pass-through request's event-loop time
   * in a profile on io_uring). Vert.x removes it when a connection upgrades; this finds it by
   * class, not by the name Vert.x gives it.
   */
  static void dropChunkedWriter(VertxConnection conn) {
    io.netty.channel.ChannelPipeline p = conn.channelHandlerContext().pipeline();
    if (p.get(io.netty.handler.stream.ChunkedWriteHandler.class) != null) {
      p.remove(io.netty.handler.stream.ChunkedWriteHandler.class);
    }
  }

  /** Client connections closed since start because a write found no memory ({@link DirectWriteGuard}). */
  public static java.util.concurrent.atomic.AtomicLong closedOutOfMemory() {
    return DirectWriteGuard.CLOSED;
  }

  /** Direct memory in use by the transport, in bytes. */
  public static long directMemoryUsed() {
    return ClientQueue.directBytesUsed();
  }

  /** Bytes of direct memory held by copies of large memory bodies ({@link DirectBodies}). */
  public static long directCopyBytes() {
    return DirectBodies.bytes();
  }

  /** The event loop this instance runs on (its connections' and its origin client's). */
  public Thread eventLoopThread() {
    return loopThread;
  }

  @Override
  public Future<?> start() {
    ProxyConfig cfg = contexts.get().config();
    ProxyConfig.Limits limits = cfg.limits();
    HttpServerOptions so = new HttpServerOptions()
        .setHost(cfg.listen().host())
        .setPort(certificate != null ? cfg.listen().tls().port() : cfg.listen().port())
        .setMaxInitialLineLength(limits.maxRequestLineBytes())
        .setMaxHeaderSize(limits.maxHeaderBytes())
        .setIdleTimeout((int) limits.idleTimeoutMs())
        .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
        .setHandle100ContinueAutomatically(true)
        .setHttp2ClearTextEnabled(false)
        .setTcpNoDelay(true)
        .setCompressionSupported(false)
        .setDecompressionSupported(false)
        // the proxy never terminates a WebSocket (Upgrade is a hop-by-hop field it drops), so
        // Vert.x's extension handler would only look at every request and response in passing
        .setPerFrameWebSocketCompressionSupported(false)
        .setPerMessageWebSocketCompressionSupported(false);
    if (certificate != null) {
      TlsListener.apply(so, cfg.listen().tls(), certificate.get(), limits.maxHeaderBytes());
    }
    loopThread = Thread.currentThread();
    if (((ContextInternal) context).nettyEventLoop() instanceof SingleThreadEventLoop loop) {
      ReadBatch.installOnThisThread(loop::executeAfterEventLoopIteration);
    }
    serverOptions = so;
    server = vertx.createHttpServer(so)
        .connectionHandler(this::onConnection)
        .requestHandler(this::onRequest);
    return server.listen();
  }

  /**
   * Serves {@code next} on new TLS handshakes of this listener; open connections keep theirs.
   * Completes when the listener has it (false: Vert.x saw no change).
   */
  public Future<Boolean> serve(TlsMaterial next) {
    return server.updateSSLOptions(TlsListener.withMaterial(serverOptions, next), true);
  }

  private void onConnection(HttpConnection conn) {
    if (conn instanceof VertxConnection vc) {
      DirectWriteGuard.install(vc);
      dropChunkedWriter(vc);
    } else if (conn instanceof io.vertx.core.net.impl.ConnectionBase h2) {
      StreamWritabilityCheck.install(h2);
    }
    if (conn instanceof io.vertx.core.net.impl.ConnectionBase c) {
      DirectWriteGuard.installBelowTls(c.channel());
    }
    if (conn instanceof Http1xServerConnection) { // HTTP/2 frames its own requests and flow-controls each stream
      StrictRequestDecoder.install(conn, serverOptions);
      if (conn instanceof VertxConnection vc) {
        vc.doSetWriteQueueMaxSize(CLIENT_WRITE_QUEUE_BYTES);
      }
    }
    ProxyConfig.Limits limits = contexts.get().config().limits();
    boolean refused = openConnections.incrementAndGet() > limits.maxConnections();
    if (refused) {
      overCap.add(conn);
    }
    HeadDeadline deadline = new HeadDeadline(conn);
    deadlines.put(conn, deadline);
    deadline.expectHeadWithin(refused ? Math.min(1000, limits.headerTimeoutMs()) : limits.headerTimeoutMs());
    conn.closeHandler(v -> {
      openConnections.decrementAndGet();
      overCap.remove(conn);
      HeadDeadline d = deadlines.remove(conn);
      if (d != null) {
        d.cancel();
      }
    });
  }

  /**
   * When a connection must have delivered its next request head, checked lazily: one timer per
   * connection that, when it fires, closes the connection if the deadline passed and otherwise sets
   * itself again for what is left. A request and its response only move the deadline (two field
   * writes), instead of cancelling and scheduling a timer each, which cost a few percent of a
   * cache hit's CPU. Event-loop confined.
   */
  private final class HeadDeadline {
    private static final long NONE = Long.MAX_VALUE;
    private final HttpConnection conn;
    private long deadlineNanos = NONE;
    /** Requests (HTTP/2: streams) of this connection whose response is not done. */
    private int inFlight;
    /** The connection closed: no deadline ever again. */
    private boolean cancelled;
    private long timerId = -1;
    private long timerFiresNanos = NONE;

    HeadDeadline(HttpConnection conn) {
      this.conn = conn;
    }

    /** The next request head must arrive within {@code ms} from now. */
    void expectHeadWithin(long ms) {
      if (cancelled) {
        return;
      }
      long now = System.nanoTime();
      deadlineNanos = now + TimeUnit.MILLISECONDS.toNanos(ms);
      if (timerId >= 0 && timerFiresNanos > deadlineNanos) {
        vertx.cancelTimer(timerId); // set for later than the new deadline (idleTimeout < headerTimeout)
        timerId = -1;
      }
      if (timerId < 0) {
        arm(ms);
      }
    }

    /** A request head arrived: no deadline until its response (and every other in flight) is done. */
    Turn requestArrived() {
      inFlight++;
      deadlineNanos = NONE;
      return new Turn();
    }

    /**
     * One request's part in the deadline: {@link #done} once its response was written or its
     * stream closed; the last one done sets the deadline for the next head.
     */
    final class Turn {
      private boolean over;

      void done(boolean connectionOpen) {
        if (over) {
          return;
        }
        over = true;
        if (--inFlight == 0 && connectionOpen) {
          expectHeadWithin(contexts.get().config().limits().idleTimeoutMs());
        }
      }
    }

    private void arm(long ms) {
      long delay = Math.max(1, ms);
      timerFiresNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay);
      timerId = vertx.setTimer(delay, id -> fired());
    }

    private void fired() {
      timerId = -1;
      timerFiresNanos = NONE;
      if (deadlineNanos == NONE) {
        return; // a request is in flight; its response sets the next deadline
      }
      long left = deadlineNanos - System.nanoTime();
      if (left <= 0) {
        deadlines.remove(conn);
        StrictRequestDecoder.closeNow(conn);
      } else {
        arm(TimeUnit.NANOSECONDS.toMillis(left) + 1);
      }
    }

    void cancel() {
      cancelled = true;
      deadlineNanos = NONE;
      if (timerId >= 0) {
        vertx.cancelTimer(timerId);
        timerId = -1;
      }
    }
  }

  private void onRequest(HttpServerRequest req) {
    ProxyContext ctx = contexts.get();
    HttpConnection conn = req.connection();
    HeadDeadline deadline = deadlines.get(conn);
    HeadDeadline.Turn turn = deadline != null ? deadline.requestArrived() : null;
    if (overCap.contains(conn)) {
      refuse(req);
      return;
    }
    Exchange exchange = new Exchange(ctx, vertx, client, req);
    req.response().endHandler(v -> {
      exchange.finished();
      if (turn != null) {
        turn.done(!req.response().closed());
      }
    });
    if (turn != null) {
      // an HTTP/2 stream reset ends no response; an HTTP/1 close ends the connection (and its deadline)
      exchange.whenClientLeft(() -> turn.done(req.version() == HttpVersion.HTTP_2));
    }
    exchange.recv();
  }

  /** Answers a request on a connection beyond {@code limits.maxConnections}: 503, then close. */
  private static void refuse(HttpServerRequest req) {
    if (req.version() != HttpVersion.HTTP_2) {
      req.response().putHeader("Connection", "close"); // HTTP/2: the GOAWAY of close() says it
    }
    req.response().setStatusCode(503)
        .putHeader("Retry-After", "1")
        .putHeader("Content-Type", "text/plain; charset=utf-8")
        .putHeader("Cache-Status", "edgecache; fwd=bypass; detail=\"too-many-connections\"")
        .end("503 Service Unavailable: too many connections\n")
        .onComplete(x -> req.connection().close());
  }

  /** The port actually bound (useful when configured as 0). */
  public int actualPort() {
    return server.actualPort();
  }

  /** Stops accepting, lets in-flight requests finish within {@code shutdown.drainTimeout}, then closes. */
  @Override
  public Future<?> stop() {
    long drain = contexts.get().config().shutdown().drainTimeoutMs();
    return server.shutdown(drain, TimeUnit.MILLISECONDS).eventually(() -> client.close());
  }
}
