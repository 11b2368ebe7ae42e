package io.edgecache.proxy.admin;

import io.edgecache.proxy.metrics.ProxyMetrics;
import io.edgecache.proxy.purge.PurgeService;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The numbers behind the status page ({@code GET /api/status}), read from the meters that
 * {@link ProxyMetrics} registers: the same counters {@code /metrics} exposes, never a second set.
 * Requests per second come from {@link RequestRates}, sampled from those counters by
 * {@link #sample()} once a second.
 *
 * <p>Origin latency percentiles are read from the timers' histogram buckets (counted since start),
 * so each is the upper bound of the bucket the percentile falls in: "p99 ≤ 12.5 ms".
 *
 * <p>{@link #build()} reads tier gauges, whose suppliers may touch the disk tier's statistics: call
 * it on a worker thread. {@link #sample()} reads counters only and is fine on an event loop.
 */
public final class StatusReport {
  /** The request outcomes, in the order the page lists them (the {@code outcome} tag values). */
  static final List<String> OUTCOMES = List.of("hit", "stale", "revalidated", "collapsed", "miss", "bypass", "error",
      "purge");
  private static final int RING_SECONDS = 180;
  private static final double[] PERCENTILES = {0.5, 0.9, 0.99};

  /** What the status report reads besides the meters. */
  public record Sources(String version, Instant startedAt, String configFile, int eventLoops, String transport,
      Supplier<JsonObject> origins, Supplier<JsonObject> cluster, PurgeService purges) {}

  private final MeterRegistry registry;
  private final Clock clock;
  private final Sources sources;
  private final RequestRates rates = new RequestRates(OUTCOMES, RING_SECONDS + 1);

  public StatusReport(MeterRegistry registry, Clock clock, Sources sources) {
    this.registry = registry;
    this.clock = clock;
    this.sources = sources;
  }

  /** Takes one sample of the request counters for the requests-per-second series. */
  public void sample() {
    rates.sample(clock.millis(), requestTotals());
  }

  /** The whole report; see the README's "Status page" for the fields. */
  public JsonObject build() {
    long[] totals = requestTotals();
    JsonObject byOutcome = new JsonObject();
    for (int i = 0; i < OUTCOMES.size(); i++) {
      byOutcome.put(OUTCOMES.get(i), totals[i]);
    }
    Instant now = clock.instant();
    JsonObject build = new JsonObject().put("version", sources.version())
        .put("startedAt", sources.startedAt().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString())
        .put("uptimeSeconds", Duration.between(sources.startedAt(), now).toSeconds())
        .put("java", Runtime.version().toString())
        .put("configFile", sources.configFile())
        .put("eventLoops", sources.eventLoops())
        .put("transport", sources.transport());
    return new JsonObject()
        .put("now", now.truncatedTo(java.time.temporal.ChronoUnit.MILLIS).toString())
        .put("build", build)
        .put("requests", new JsonObject().put("total", byOutcome).put("hitRatio", hitRatio(byOutcome))
            .put("sampleSeconds", 1).put("window", rates.toJson()))
        .put("servedBytes", tagged("edgecache.served.bytes", "source"))
        .put("tiers", tiers())
        .put("origins", origins())
        .put("purges", tagged("edgecache.purges", "kind"))
        .put("cluster", cluster());
  }

  /**
   * Hit ratio as the README's metric table and the Grafana dashboard define it:
   * (hit + stale + revalidated) / (those + miss + collapsed); null before any cache lookup.
   */
  static Double hitRatio(JsonObject byOutcome) {
    long served = byOutcome.getLong("hit", 0L) + byOutcome.getLong("stale", 0L) + byOutcome.getLong("revalidated", 0L);
    long lookups = served + byOutcome.getLong("miss", 0L) + byOutcome.getLong("collapsed", 0L);
    return lookups == 0 ? null : Math.round(served * 10_000.0 / lookups) / 10_000.0;
  }

  private long[] requestTotals() {
    long[] totals = new long[OUTCOMES.size()];
    for (Counter c : registry.find("edgecache.requests").counters()) {
      int i = OUTCOMES.indexOf(c.getId().getTag("outcome"));
      if (i >= 0) {
        totals[i] += (long) c.count();
      }
    }
    return totals;
  }

  /** Sums the counters named {@code name} by the value of {@code tag}. */
  private JsonObject tagged(String name, String tag) {
    Map<String, Long> sums = new TreeMap<>();
    for (Counter c : registry.find(name).counters()) {
      sums.merge(c.getId().getTag(tag), (long) c.count(), Long::sum);
    }
    return new JsonObject(new java.util.LinkedHashMap<>(sums));
  }

  private JsonArray tiers() {
    JsonArray out = new JsonArray();
    for (String tier : List.of("memory", "disk")) {
      Gauge entries = registry.find("edgecache.cache.entries").tag("tier", tier).gauge();
      if (entries == null) {
        continue;
      }
      JsonObject t = new JsonObject().put("tier", tier)
          .put("entries", (long) entries.value())
          .put("bytes", gauge("edgecache.cache.size", tier))
          .put("maxBytes", gauge("edgecache.cache.max", tier))
          .put("evictions", functionCount("edgecache.cache.evictions", tier))
          .put("rejected", functionCount("edgecache.cache.rejected", tier));
      if (tier.equals("disk")) {
        t.put("checksumFailures", functionCount("edgecache.disk.checksum.failures", tier))
            .put("storeErrors", functionCount("edgecache.disk.store.errors", tier))
            .put("readErrors", functionCount("edgecache.disk.read.errors", tier));
      }
      out.add(t);
    }
    return out;
  }

  private long gauge(String name, String tier) {
    Gauge g = registry.find(name).tag("tier", tier).gauge();
    return g == null ? 0 : (long) g.value();
  }

  private long functionCount(String name, String tier) {
    FunctionCounter c = registry.find(name).tag("tier", tier).functionCounter();
    return c == null ? 0 : (long) c.count();
  }

  /** Each configured origin: its servers' state (from the pools), latency percentiles and error counts. */
  private JsonArray origins() {
    Map<String, JsonObject> byName = new java.util.LinkedHashMap<>();
    JsonArray pools = sources.origins().get().getJsonArray("origins", new JsonArray());
    for (int i = 0; i < pools.size(); i++) {
      JsonObject p = pools.getJsonObject(i);
      byName.put(p.getString("name"), new JsonObject().put("name", p.getString("name"))
          .put("balance", p.getString("balance")).put("servers", p.getJsonArray("servers", new JsonArray()))
          .put("errors", new JsonObject()).put("latency", new JsonObject().put("count", 0L)));
    }
    for (Timer t : registry.find("edgecache.origin.request").timers()) {
      String name = t.getId().getTag("origin");
      byName.computeIfAbsent(name, StatusReport::unlisted).put("latency", latency(t.takeSnapshot()));
    }
    for (Counter c : registry.find("edgecache.origin.errors").counters()) {
      String name = c.getId().getTag("origin");
      JsonObject errors = byName.computeIfAbsent(name, StatusReport::unlisted).getJsonObject("errors");
      errors.put(c.getId().getTag("kind"), errors.getLong(c.getId().getTag("kind"), 0L) + (long) c.count());
    }
    return new JsonArray(new ArrayList<>(byName.values()));
  }

  /** An origin a reload removed whose meters remain. */
  private static JsonObject unlisted(String name) {
    return new JsonObject().put("name", name).put("servers", new JsonArray()).put("errors", new JsonObject())
        .put("latency", new JsonObject().put("count", 0L));
  }

  /** {@code {"count": n, "p50Ms": ..., "p90Ms": ..., "p99Ms": ...}}: bucket upper bounds, null past the last bucket. */
  static JsonObject latency(HistogramSnapshot s) {
    JsonObject out = new JsonObject().put("count", s.count());
    CountAtBucket[] buckets = s.histogramCounts();
    for (double p : PERCENTILES) {
      String key = "p" + (int) Math.round(p * 100) + "Ms";
      if (s.count() == 0) {
        out.putNull(key);
        continue;
      }
      double wanted = Math.ceil(p * s.count());
      Double bound = null;
      for (CountAtBucket b : buckets) { // cumulative counts, ascending bounds
        if (b.count() >= wanted) {
          bound = Math.round(b.bucket(TimeUnit.MILLISECONDS) * 1000.0) / 1000.0;
          break;
        }
      }
      out.put(key, bound);
    }
    return out;
  }

  private JsonObject cluster() {
    JsonObject c = sources.cluster().get().copy();
    PurgeService.LastFanout last = sources.purges().lastFanout();
    if (last != null) {
      c.put("lastFanout", new JsonObject().put("at", last.at().toString()).put("purge", last.purge())
          .put("soft", last.soft()).put("nodes", new JsonObject(new java.util.LinkedHashMap<>(last.nodes())))
          .put("missing", new JsonArray(last.missing())));
    }
    return c;
  }
}
