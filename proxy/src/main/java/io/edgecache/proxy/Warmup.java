package io.edgecache.proxy;

import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.http.GuardedTransport;
import io.edgecache.proxy.policy.HttpDates;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start-up warm-up ({@code startup.warmup}, the most time it may take): before the real listeners
 * open, a throwaway {@link ProxyServer} on loopback ephemeral ports, on the configured transport,
 * serves {@link #REQUESTS} mixed requests from a built-in origin, then the warm-up waits until the
 * compiler threads have gone quiet, so the JIT compiles the request path (HTTP codec, key building, lookup,
 * policy, header encoding, origin fetch, pass-through) before the first client arrives. A JVM that
 * starts cold serves a fraction of its steady rate for its first seconds, and less still on a
 * machine whose other cores are busy, since compiler threads then compete with the event loops.
 *
 * <p>It begins with a rehearsal: a first throwaway server serves {@link #REHEARSAL} requests, its
 * admin endpoints are asked once, and it is stopped before the second one takes the rest. What
 * the JVM meets for the first time after the request path is compiled can throw that compiled
 * code away (a class that breaks an assumption it was compiled under, a branch its profile never
 * saw): the admin router's request wrapper at the first health check, and the close paths of
 * servers, clients and connections when the warm-up stops. Met during the rehearsal instead,
 * they are in the profiles the request path is compiled from.
 *
 * <p>With {@code listen.tls} half of the connections go to a throwaway HTTPS listener with the
 * configured certificate, protocols, engine and HTTP/2 setting (HTTP/2 when it is on), so the TLS
 * and HTTP/2 codecs are compiled too.
 *
 * <p>Nothing of it is visible afterwards: the throwaway server has its own Vert.x, memory tier and
 * metrics registry, no disk tier, no cluster and no access log, and is stopped before the real
 * server starts. Its traffic never leaves loopback and never reaches a configured origin.
 */
final class Warmup {
  private static final Logger log = LoggerFactory.getLogger("edgecache");
  private static final int CONNECTIONS = 16;
  /** Enough for the request path's methods to pass the JIT's top-tier thresholds several times over. */
  private static final long REQUESTS = 60_000;
  /** Requests through the rehearsal server (see {@link #run}), counted in {@link #REQUESTS}. */
  private static final long REHEARSAL = 2_000;
  /** What load balancers, probes and scrapers ask the admin listener. */
  private static final List<String> ADMIN_PATHS = List.of("/healthz", "/readyz", "/metrics", "/stats");
  /** A silent admin endpoint delays the warm-up by at most this, per path. */
  private static final long ADMIN_TIMEOUT_MS = 2_000;
  private static final long WINDOW_MS = 250;
  private static final int HOT_KEYS = 64;
  private static final byte[] SMALL = body(1024);
  private static final byte[] LARGE = body(100 * 1024);

  private Warmup() {}

  /** What a warm-up did; {@code requests} counts answered requests, {@code failures} the rest. */
  record Result(long requests, long failures, long millis) {}

  /**
   * Runs the warm-up for {@code config.startup().warmupMs()} and stops everything it started. A
   * failure is logged and ignored: a warm-up never prevents start-up.
   */
  static Result run(ProxyConfig config) {
    long budget = config.startup().warmupMs();
    if (budget <= 0) {
      return new Result(0, 0, 0);
    }
    long t0 = System.nanoTime();
    Vertx side = Vertx.builder().with(new VertxOptions().setEventLoopPoolSize(1))
        .withTransport(GuardedTransport.of(NetTransport.choose(config.listen().transport(), config.source()))).build();
    ProxyServer proxy = null;
    AtomicLong ok = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    try {
      HttpServer origin = side.createHttpServer().requestHandler(Warmup::origin).listen(0, "127.0.0.1")
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(budget);
      // the rehearsal (class Javadoc): the admin router's request wrapper is a second implementation
      // of HttpServerRequest, and the stop runs branches of the hot I/O code no request takes
      proxy = new ProxyServer(throwaway(config, origin.actualPort()));
      await(proxy.start(), 30_000);
      int adminPort = proxy.adminPort();
      await(drive(side, proxy, config, deadline, REHEARSAL, ok, failed).compose(v -> askAdmin(side, adminPort)),
          budget + 30_000);
      ProxyServer rehearsed = proxy;
      proxy = null; // stopped here, not again in finally
      await(rehearsed.stop(), 30_000);
      proxy = new ProxyServer(throwaway(config, origin.actualPort()));
      await(proxy.start(), 30_000);
      await(drive(side, proxy, config, deadline, REQUESTS, ok, failed).compose(v -> quietCompiler(side, deadline)),
          budget + 30_000);
    } catch (Exception e) {
      log.warn("start-up warm-up stopped early: {}", e.toString());
    } finally {
      try {
        if (proxy != null) {
          proxy.stop().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
      } catch (Exception e) {
        log.warn("start-up warm-up: stopping its server failed: {}", e.toString());
      }
      try {
        side.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        log.debug("start-up warm-up: closing failed: {}", e.toString());
      }
    }
    Result r = new Result(ok.get(), failed.get(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    log.info("start-up warm-up: {} requests through the request path in {} ms ({} failed, JIT {} ms);"
        + " startup.warmup \"0s\" turns it off", r.requests(), r.millis(), r.failures(), jitMillis());
    return r;
  }

  /** Waits on the calling (start-up) thread, never an event loop. */
  private static void await(Future<?> f, long timeoutMs) throws Exception {
    f.toCompletionStage().toCompletableFuture().get(timeoutMs, TimeUnit.MILLISECONDS);
  }

  /**
   * The running configuration's policy, limits, event loops and HTTPS listener settings (on port
   * 0, not watched); everything else local and throwaway.
   */
  static ProxyConfig throwaway(ProxyConfig c, int originPort) {
    ProxyConfig.Memory m = c.memory();
    long max = Math.min(m.maxBytes(), 64L << 20);
    ProxyConfig.Tls tls = c.listen().tls();
    return new ProxyConfig(c.source(),
        new ProxyConfig.Listen("127.0.0.1", 0, c.listen().eventLoops(), tls == null ? null : new ProxyConfig.Tls(0,
            tls.certFile(), tls.keyFile(), tls.protocols(), tls.http2(), tls.maxConcurrentStreams(), 0, tls.engine()), true,
            c.listen().transport()),
        new ProxyConfig.Admin("127.0.0.1", 0, null),
        List.of(new ProxyConfig.Origin("warmup", "http", "127.0.0.1", originPort, List.of("*"), false)),
        new ProxyConfig.Memory(max, Math.min(m.maxObjectBytes(), max), Math.max(1L << 20, Math.min(m.fillBufferBytes(), max)),
            m.pressureThreshold()),
        new ProxyConfig.Disk(null, c.disk().maxBytes(), c.disk().maxObjectBytes(), c.disk().chunkBytes(),
            c.disk().retryAfterMs(), c.disk().minFreeBytes(), c.disk().indexMaxBytes()),
        c.upstream(), c.limits(), c.cache(), c.purge(), new ProxyConfig.AccessLog(false, c.accessLog().format()),
        c.shutdown(), ProxyConfig.Cluster.DISABLED, new ProxyConfig.Startup(0));
  }

  /**
   * After the requests, waits (without traffic) until the JIT has compiled what they queued: two
   * windows of {@link #WINDOW_MS} in a row in which the compiler threads spent under a tenth of the
   * window compiling, or the deadline. Where the JVM does not report compilation time it returns.
   */
  private static Future<Void> quietCompiler(Vertx side, long deadline) {
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
      return Future.succeededFuture();
    }
    Promise<Void> quiet = Promise.promise();
    long[] state = {jit.getTotalCompilationTime(), 0};
    side.setPeriodic(WINDOW_MS, id -> {
      long now = jit.getTotalCompilationTime();
      state[1] = now - state[0] < WINDOW_MS / 10 ? state[1] + 1 : 0;
      state[0] = now;
      if (state[1] >= 2 || System.nanoTime() >= deadline) {
        side.cancelTimer(id);
        quiet.complete();
      }
    });
    return quiet.future();
  }

  /**
   * {@link #CONNECTIONS} client connections to {@code proxy} (half of them over HTTPS with
   * {@code listen.tls}) send requests until {@code ok + failed} reaches {@code limit} or the
   * deadline passes; then the clients are closed.
   */
  private static Future<Void> drive(Vertx side, ProxyServer proxy, ProxyConfig config, long deadline, long limit,
      AtomicLong ok, AtomicLong failed) {
    HttpClient client = side.httpClientBuilder()
        .with(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true).setDefaultHost("127.0.0.1")
            .setDefaultPort(proxy.port()))
        .with(new PoolOptions().setHttp1MaxSize(CONNECTIONS))
        .build();
    ProxyConfig.Tls tls = config.listen().tls();
    HttpClient tlsClient = tls == null ? null : side.httpClientBuilder()
        .with(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true).setDefaultHost("127.0.0.1")
            .setDefaultPort(proxy.tlsPort()).setSsl(true).setUseAlpn(true).setTrustAll(true).setVerifyHost(false)
            .setProtocolVersion(tls.http2() ? HttpVersion.HTTP_2 : HttpVersion.HTTP_1_1))
        .with(new PoolOptions().setHttp1MaxSize(CONNECTIONS / 2).setHttp2MaxSize(2))
        .build();
    Promise<Void> sent = Promise.promise();
    AtomicLong running = new AtomicLong(CONNECTIONS);
    side.runOnContext(v -> {
      for (int i = 0; i < CONNECTIONS; i++) {
        boolean https = tlsClient != null && i % 2 == 1;
        loop(https ? tlsClient : client, https && tls.http2(), deadline, limit, ok, failed, running, sent);
      }
    });
    return sent.future()
        .compose(v -> client.close())
        .compose(v -> tlsClient == null ? Future.<Void>succeededFuture() : tlsClient.close());
  }

  /** Asks each of the admin endpoints a monitor polls once, one after the other; failures are ignored. */
  private static Future<Void> askAdmin(Vertx side, int adminPort) {
    HttpClient admin = side.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(adminPort));
    Future<Void> asked = Future.succeededFuture();
    for (String path : ADMIN_PATHS) {
      RequestOptions get = new RequestOptions().setMethod(HttpMethod.GET).setURI(path).setIdleTimeout(ADMIN_TIMEOUT_MS);
      asked = asked.eventually(() -> admin.request(get).compose(r -> r.send().compose(resp -> resp.body())).mapEmpty());
    }
    return asked.eventually(admin::close).recover(t -> Future.succeededFuture());
  }

  /**
   * One client connection's worth of work: request after request until the deadline. Over HTTP/2
   * ({@code h2}) the request names its authority in {@code :authority} alone: a Host field that
   * differs from it makes the request malformed (RFC 9113 8.3.1) and the stream is reset.
   */
  private static void loop(HttpClient client, boolean h2, long deadline, long limit, AtomicLong ok, AtomicLong failed,
      AtomicLong running, Promise<Void> done) {
    if (System.nanoTime() >= deadline || ok.get() + failed.get() >= limit) {
      if (running.decrementAndGet() == 0) {
        done.tryComplete();
      }
      return;
    }
    RequestOptions req = next(ThreadLocalRandom.current());
    if (h2) {
      req.removeHeader("Host");
    }
    client.request(req)
        .compose(r -> r.send().compose(resp -> resp.body().map(b -> resp.statusCode())))
        .onComplete(ar -> {
          if (ar.succeeded() && ar.result() < 500) {
            ok.incrementAndGet();
          } else {
            failed.incrementAndGet();
          }
          loop(client, h2, deadline, limit, ok, failed, running, done);
        });
  }

  /**
   * The mix: mostly small hits over a hot set (the common edge case), then uncacheable
   * pass-through (16%: at 8% its first seconds after start ran at a third of the rate they run at
   * now), large hits, misses of fresh keys, conditional and range requests, HEAD, a Vary'd object;
   * each request shaped as a load tool, curl or a browser sends it (one field, three, seven). With
   * one shape only, the JIT compiled the request path for it and deoptimized it when real traffic
   * came: pass-through's first second after start ran at about a quarter of its steady rate.
   */
  static RequestOptions next(ThreadLocalRandom rnd) {
    int dice = rnd.nextInt(100);
    RequestOptions o = new RequestOptions().setHost("127.0.0.1").putHeader("Host", "warmup.local");
    switch (rnd.nextInt(3)) { // requests as load tools, curl and browsers send them: the JIT sees each shape
      case 0 -> { } // the Host field alone
      case 1 -> o.putHeader("User-Agent", "curl/7.88.1").putHeader("Accept", "*/*");
      default -> o.putHeader("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
          .putHeader("Accept", "text/html,application/xhtml+xml,*/*;q=0.8").putHeader("Accept-Language", "en-US,en;q=0.5")
          .putHeader("Accept-Encoding", "gzip, deflate, br").putHeader("Upgrade-Insecure-Requests", "1")
          .putHeader("Sec-Fetch-Mode", "navigate");
    }
    int hot = rnd.nextInt(HOT_KEYS);
    if (dice < 52) {
      return o.setURI("/hit/" + hot + "?v=1");
    } else if (dice < 60) {
      return o.setURI("/large/" + (hot % 8));
    } else if (dice < 76) {
      return o.setURI("/pass/" + hot);
    } else if (dice < 82) {
      return o.setURI("/miss/" + rnd.nextLong(Long.MAX_VALUE));
    } else if (dice < 87) {
      return o.setURI("/hit/" + hot + "?v=1").putHeader("If-None-Match", "\"w" + hot + "\"");
    } else if (dice < 91) {
      return o.setURI("/large/" + (hot % 8)).putHeader("Range", "bytes=100-2099");
    } else if (dice < 94) {
      return o.setMethod(HttpMethod.HEAD).setURI("/hit/" + hot + "?v=1");
    } else if (dice < 97) {
      return o.setURI("/vary/" + (hot % 4)).putHeader("Accept-Language", rnd.nextBoolean() ? "en" : "de");
    } else {
      return o.setURI("/short/" + hot);
    }
  }

  private static void origin(HttpServerRequest req) {
    String path = req.path();
    MultiMap h = req.response().headers();
    // the fields a typical origin server adds to every answer
    h.set("Server", "warmup").set("Date", HttpDates.format(System.currentTimeMillis()))
        .set("Accept-Ranges", "bytes").set("Last-Modified", "Mon, 02 Nov 2020 10:00:00 GMT");
    Buffer body;
    if (path.startsWith("/pass/")) {
      h.set("Cache-Control", "no-store");
      body = Buffer.buffer(SMALL);
    } else if (path.startsWith("/large/")) {
      h.set("Cache-Control", "public, max-age=3600").set("ETag", "\"l" + path.substring(7) + "\"");
      body = Buffer.buffer(LARGE);
    } else if (path.startsWith("/miss/")) {
      h.set("Cache-Control", "public, max-age=60");
      body = Buffer.buffer(SMALL);
    } else if (path.startsWith("/vary/")) {
      h.set("Cache-Control", "public, max-age=3600").set("Vary", "Accept-Language");
      body = Buffer.buffer(SMALL);
    } else if (path.startsWith("/short/")) {
      h.set("Cache-Control", "public, max-age=1, stale-while-revalidate=5");
      body = Buffer.buffer(SMALL);
    } else {
      String tag = path.startsWith("/hit/") ? path.substring(5) : "0";
      h.set("Cache-Control", "public, max-age=3600").set("ETag", "\"w" + tag + "\"")
          .set("Surrogate-Key", "warmup hot-" + tag);
      if (("\"w" + tag + "\"").equals(req.getHeader("If-None-Match"))) {
        req.response().setStatusCode(304).end();
        return;
      }
      body = Buffer.buffer(SMALL);
    }
    h.set("Content-Type", "text/plain");
    req.response().end(body);
  }

  private static long jitMillis() {
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : -1;
  }

  private static byte[] body(int size) {
    byte[] b = new byte[size];
    for (int i = 0; i < size; i++) {
      b[i] = (byte) ('a' + i % 26);
    }
    return b;
  }
}
