package io.edgecache.proxy.http;

import io.edgecache.proxy.metrics.ProxyMetrics;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * How one request was served and what it cost: the outcome and byte source for the metrics, the
 * origin's time to answer and the total time for the access log. Written once, when the response
 * is complete.
 *
 * <p>Used on the exchange's event loop.
 */
final class RequestRecord {
  private final long startNanos = System.nanoTime();
  private ProxyMetrics.Outcome outcome = ProxyMetrics.Outcome.BYPASS;
  private ProxyMetrics.Source source = ProxyMetrics.Source.ORIGIN;
  /** Where a stored response came from, for the served-bytes metric. */
  private ProxyMetrics.Source storedIn = ProxyMetrics.Source.MEMORY;
  private long originStartNanos;
  private long originNanos = -1;

  /** The lookup found its response in the disk tier ({@code true}) or in memory. */
  void storedIn(boolean disk) {
    storedIn = disk ? ProxyMetrics.Source.DISK : ProxyMetrics.Source.MEMORY;
  }

  /** Served from the cache. */
  void fromCache(ProxyMetrics.Outcome o) {
    outcome = o;
    source = storedIn;
  }

  /** Relayed from the origin (directly or through a coalesced fetch). */
  void fromOrigin(ProxyMetrics.Outcome o) {
    outcome = o;
    source = ProxyMetrics.Source.ORIGIN;
  }

  /** Made here (errors, purge answers). */
  void generated(ProxyMetrics.Outcome o) {
    outcome = o;
    source = ProxyMetrics.Source.GENERATED;
  }

  void originRequested() {
    originStartNanos = System.nanoTime();
  }

  /** The origin's response head arrived: its latency goes to the metrics of {@code originName}. */
  void originAnswered(ProxyMetrics metrics, String originName) {
    originNanos = System.nanoTime() - originStartNanos;
    metrics.originLatency(originName, originNanos);
  }

  /** Writes the request metrics and the access log line. */
  void finish(ProxyContext ctx, HttpServerRequest req, String method) {
    HttpServerResponse resp = req.response();
    int status = resp.getStatusCode();
    ctx.metrics().request(outcome, method == null ? req.method().name() : method, status);
    ctx.metrics().servedBytes(source, resp.bytesWritten());
    ctx.metrics().requestDuration(outcome, System.nanoTime() - startNanos);
    if (ctx.config().accessLog().enabled()) {
      AccessLog.write(ctx.config().accessLog().format(), req, status, resp.bytesWritten(),
          resp.headers().get(Messages.CACHE_STATUS), originNanos, System.nanoTime() - startNanos);
    }
  }
}
