package io.edgecache.proxy.metrics;

import io.edgecache.storage.StoreStats;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The one catalogue of edgecache's own meters. Every meter is declared here with its
 * description; the registry is injected (Prometheus in production, a simple registry in tests).
 *
 * <p>Names follow Prometheus conventions once rendered ({@code edgecache_} prefix, {@code _total}
 * for counters, base units {@code _bytes} and {@code _seconds}); label values come from small fixed
 * sets (outcome, method class, status class, tier, source, origin name, origin server as configured,
 * error kind), never from a URL, so cardinality stays bounded. Thread-safe.
 */
public final class ProxyMetrics {
  /** What happened to a request, as counted in {@code edgecache_requests_total{outcome}}. */
  public enum Outcome { HIT, MISS, STALE, REVALIDATED, BYPASS, COLLAPSED, ERROR, PURGE }

  /** Where served body bytes came from. */
  public enum Source { MEMORY, DISK, ORIGIN, GENERATED }

  private final MeterRegistry registry;
  private static final String[] METHODS = {"get", "head", "purge", "other"};
  private static final String[] STATUSES = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
  private final java.util.concurrent.atomic.AtomicReferenceArray<Counter> requests =
      new java.util.concurrent.atomic.AtomicReferenceArray<>(Outcome.values().length * METHODS.length * STATUSES.length);
  private final Counter[] servedBytes = new Counter[Source.values().length];
  private final Timer[] durations = new Timer[Outcome.values().length];
  private final ConcurrentHashMap<String, Timer> originLatency = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> originErrors = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> purges = new ConcurrentHashMap<>();
  private final Counter coalescedWaiters;
  private final Counter diskFills;
  /**
   * The state objects of function counters: Micrometer holds them only weakly, so a supplier
   * nothing else refers to is collected at the next GC and its counter freezes at its last value.
   */
  private final java.util.List<Object> functionCounterState = new java.util.concurrent.CopyOnWriteArrayList<>();

  public ProxyMetrics(MeterRegistry registry) {
    this.registry = registry;
    for (Source s : Source.values()) {
      servedBytes[s.ordinal()] = Counter.builder("edgecache.served.bytes")
          .description("Response body bytes sent to clients, by where they came from")
          .baseUnit("bytes").tag("source", lower(s)).register(registry);
    }
    for (Outcome o : Outcome.values()) {
      durations[o.ordinal()] = Timer.builder("edgecache.request.duration")
          .description("Client requests from the request head until the last response byte was written, by cache outcome")
          .tag("outcome", lower(o)).publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(50_000))
          .maximumExpectedValue(Duration.ofSeconds(60)).register(registry);
    }
    coalescedWaiters = Counter.builder("edgecache.coalesced.waiters")
        .description("Requests that waited for another request's origin fetch of the same URL instead of fetching")
        .register(registry);
    diskFills = Counter.builder("edgecache.disk.fills")
        .description("Responses too large for the memory tier written to the disk tier as they arrived (begun, not"
            + " necessarily committed)")
        .register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** Counts one finished request; allocation-free once the counter for its labels exists. */
  public void request(Outcome outcome, String method, int status) {
    int m = switch (method) {
      case "GET" -> 0;
      case "HEAD" -> 1;
      case "PURGE" -> 2;
      default -> 3;
    };
    int s = status >= 100 && status < 600 ? status / 100 - 1 : 5;
    int index = (outcome.ordinal() * METHODS.length + m) * STATUSES.length + s;
    Counter c = requests.get(index);
    if (c == null) {
      c = Counter.builder("edgecache.requests")
          .description("Client requests by cache outcome, method class and status class")
          .tag("outcome", lower(outcome)).tag("method", METHODS[m]).tag("status", STATUSES[s]).register(registry);
      requests.set(index, c);
    }
    c.increment();
  }

  /** How long one finished request took (head received to response written). */
  public void requestDuration(Outcome outcome, long nanos) {
    durations[outcome.ordinal()].record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  /** Open client connections on the traffic listener, as a gauge read at scrape time. */
  public void clientConnections(java.util.concurrent.atomic.AtomicInteger open) {
    functionCounterState.add(open);
    io.micrometer.core.instrument.Gauge.builder("edgecache.client.connections", open, java.util.concurrent.atomic.AtomicInteger::get)
        .description("Open client connections on the traffic listener").register(registry);
  }

  /**
   * Client connections closed because a write found no memory (direct memory used up, mostly by
   * what stalled readers have queued): a sign to raise {@code -XX:MaxDirectMemorySize} or to look
   * for slow clients.
   */
  public void clientWritesOutOfMemory(java.util.concurrent.atomic.AtomicLong closed) {
    functionCounterState.add(closed);
    FunctionCounter.builder("edgecache.client.closed.out.of.memory", closed, java.util.concurrent.atomic.AtomicLong::get)
        .description("Client connections closed because a write found no (direct) memory; nothing after the failed"
            + " write was sent").register(registry);
  }

  /**
   * Connections (to clients or origins) ended because a read found no direct memory (io_uring; the
   * event loop goes on): like {@link #clientWritesOutOfMemory}, a sign to raise
   * {@code -XX:MaxDirectMemorySize} or to look for slow clients.
   */
  public void readsOutOfMemory(java.util.concurrent.atomic.AtomicLong ended) {
    functionCounterState.add(ended);
    FunctionCounter.builder("edgecache.connection.ended.read.out.of.memory", ended,
            java.util.concurrent.atomic.AtomicLong::get)
        .description("Connections ended because a read found no (direct) memory; the event loop went on")
        .register(registry);
  }

  /**
   * {@code edgecache_build_info{version, java, transport} 1}: what runs, as the Prometheus
   * convention for an info metric has it (join on it, or count nodes per transport).
   */
  public void buildInfo(String version, String transport) {
    io.micrometer.core.instrument.Gauge.builder("edgecache.build.info", () -> 1)
        .tag("version", version).tag("java", Runtime.version().toString()).tag("transport", transport)
        .description("Always 1: the running version, Java runtime and socket transport (listen.transport resolved)")
        .register(registry);
  }

  /**
   * Direct memory in use and its bound: Netty counts its buffers itself (so the JVM's
   * {@code jvm_buffer_memory_used_bytes{id="direct"}} leaves them out), against
   * {@code -XX:MaxDirectMemorySize}.
   */
  public void directMemory(Supplier<Long> used, long max, Supplier<Long> bodyCopies) {
    functionCounterState.add(used);
    functionCounterState.add(bodyCopies);
    io.micrometer.core.instrument.Gauge.builder("edgecache.memory.direct.copies", bodyCopies, c -> c.get())
        .baseUnit("bytes").description("Direct-memory copies of large memory bodies, written to clients without a copy"
            + " per request (part of edgecache_direct_memory_used_bytes)").register(registry);
    io.micrometer.core.instrument.Gauge.builder("edgecache.direct.memory.used", used, u -> u.get())
        .baseUnit("bytes").description("Direct memory in use by the transport (Netty's count)").register(registry);
    io.micrometer.core.instrument.Gauge.builder("edgecache.direct.memory.max", () -> max)
        .baseUnit("bytes").description("The direct memory bound (-XX:MaxDirectMemorySize)").register(registry);
    io.micrometer.core.instrument.Gauge.builder("edgecache.disk.chunk.buffers", io.edgecache.storage.ChunkBuffers::held)
        .description("Chunks read off disk into direct memory and not yet written to their client").register(registry);
  }

  /**
   * The HTTPS listener's certificate: when the one being served expires, as Unix seconds (alert
   * on {@code edgecache_tls_certificate_not_after_seconds - time() < 14 * 86400}), and the
   * reloads that served a new pair or kept the old one because the new files were unusable.
   * {@code state} is held here (Micrometer holds it only weakly).
   */
  public <T> void tlsCertificate(T state, java.util.function.ToDoubleFunction<T> notAfterSeconds,
      java.util.function.ToDoubleFunction<T> reloaded, java.util.function.ToDoubleFunction<T> kept) {
    functionCounterState.add(state);
    Gauge.builder("edgecache.tls.certificate.not.after", state, notAfterSeconds)
        .description("Expiry (notAfter) of the HTTPS certificate being served, as Unix time").baseUnit("seconds")
        .register(registry);
    FunctionCounter.builder("edgecache.tls.certificate.reloads", state, reloaded)
        .description("Certificate reloads by outcome: a new pair served, or the previous one kept (new files unusable)")
        .tag("result", "reloaded").register(registry);
    FunctionCounter.builder("edgecache.tls.certificate.reloads", state, kept)
        .description("Certificate reloads by outcome: a new pair served, or the previous one kept (new files unusable)")
        .tag("result", "kept").register(registry);
  }

  public void servedBytes(Source source, long bytes) {
    if (bytes > 0) {
      servedBytes[source.ordinal()].increment(bytes);
    }
  }

  public void coalescedWaiter() {
    coalescedWaiters.increment();
  }

  public void diskFill() {
    diskFills.increment();
  }

  /** Time from sending a request to an origin until its response head arrived. */
  public void originLatency(String origin, long nanos) {
    originLatency.computeIfAbsent(origin, o -> Timer.builder("edgecache.origin.request")
        .description("Origin request latency until the response head, per origin")
        .tag("origin", o).publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(60)).register(registry))
        .record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  /** Origin failures by kind: connect, timeout, dns, reset, 5xx. */
  public void originError(String origin, String kind) {
    originErrors.computeIfAbsent(origin + '\u0000' + kind, k -> Counter.builder("edgecache.origin.errors")
        .description("Origin failures by origin and kind (connect, timeout, dns, reset, 5xx, body-timeout)")
        .tag("origin", origin).tag("kind", kind).register(registry)).increment();
  }

  /**
   * The meters of one server of an origin pool, tagged {@code origin} and {@code server}
   * ({@code host:port} from the configuration, so their number is bounded by it).
   */
  public record ServerMeters(FunctionCounter requests, FunctionCounter errors, Timer latency, Gauge up) {}

  /**
   * Registers the meters of server {@code server} of origin {@code origin}, read from {@code state}
   * (which the caller keeps referenced: Micrometer holds it weakly).
   *
   * @param requests requests sent to the server so far (every attempt, failovers included)
   * @param errors failed requests: no response head (connect, timeout, reset) or a 5xx
   * @param up 1 while the server takes traffic, 0 while health checks hold it down or it is ejected
   */
  public <T> ServerMeters originServer(String origin, String server, T state, ToDoubleFunction<T> requests,
      ToDoubleFunction<T> errors, ToDoubleFunction<T> up) {
    return new ServerMeters(
        FunctionCounter.builder("edgecache.origin.server.requests", state, requests)
            .description("Requests sent to one server of an origin pool (each attempt, failovers included)")
            .tag("origin", origin).tag("server", server).register(registry),
        FunctionCounter.builder("edgecache.origin.server.errors", state, errors)
            .description("Requests to one server of an origin pool that got no response head (connect, timeout,"
                + " reset) or a 5xx")
            .tag("origin", origin).tag("server", server).register(registry),
        Timer.builder("edgecache.origin.server.request")
            .description("Latency until the response head, per server of an origin pool")
            .tag("origin", origin).tag("server", server).register(registry),
        Gauge.builder("edgecache.origin.server.up", state, up)
            .description("1 while a server of an origin pool takes traffic, 0 while it is down (health checks)"
                + " or ejected (failures of live requests)")
            .tag("origin", origin).tag("server", server).register(registry));
  }

  /** Unregisters the meters of a server no longer configured (after a reload). */
  public void remove(ServerMeters meters) {
    registry.remove(meters.requests());
    registry.remove(meters.errors());
    registry.remove(meters.latency());
    registry.remove(meters.up());
  }

  /** Purges by kind (url, prefix, tag, all) and whether soft. */
  public void purge(String kind, boolean soft, int purged) {
    purges.computeIfAbsent(kind + soft, k -> Counter.builder("edgecache.purges")
        .description("Purge operations by kind (url, prefix, tag, all) and softness")
        .tag("kind", kind).tag("soft", Boolean.toString(soft)).register(registry)).increment();
    Counter.builder("edgecache.purged.entries").description("Stored responses removed or marked stale by purges")
        .tag("kind", kind).register(registry).increment(purged);
  }

  /** Registers the gauges and counters of one storage tier ({@code memory} or {@code disk}). */
  public void tier(String tier, Supplier<StoreStats> stats) {
    functionCounterState.add(stats);
    Gauge.builder("edgecache.cache.entries", () -> stats.get().entries())
        .description("Entries held by a cache tier").tag("tier", tier).register(registry);
    Gauge.builder("edgecache.cache.size", () -> stats.get().bytes())
        .description("Bytes held by a cache tier").baseUnit("bytes").tag("tier", tier).register(registry);
    Gauge.builder("edgecache.cache.max", () -> stats.get().maxBytes())
        .description("Configured bound of a cache tier").baseUnit("bytes").tag("tier", tier).register(registry);
    FunctionCounter.builder("edgecache.cache.evictions", stats, s -> s.get().evictions())
        .description("Entries evicted from a cache tier to stay within its bound").tag("tier", tier).register(registry);
    FunctionCounter.builder("edgecache.cache.rejected", stats, s -> s.get().rejected())
        .description("Entries a cache tier refused because they alone exceed its object limit").tag("tier", tier)
        .register(registry);
  }

  /** Registers a counter read from a supplier (disk promotions, checksum failures, store errors). */
  public void tierCounter(String name, String description, String tier, Supplier<Long> value) {
    functionCounterState.add(value);
    FunctionCounter.builder(name, value, v -> v.get()).description(description).tag("tier", tier).register(registry);
  }

  /** Registers a gauge read from a supplier (bytes held outside a tier's entries, counted against it). */
  public void tierGauge(String name, String description, String tier, Supplier<Long> value) {
    functionCounterState.add(value);
    Gauge.builder(name, value, v -> v.get()).description(description).baseUnit("bytes").tag("tier", tier)
        .register(registry);
  }

  /**
   * Registers the count of start-ups that found the disk tier's files damaged, by what was done:
   * {@code repaired} (LevelDB's repair) or {@code moved_aside} (the folder moved aside, started empty).
   */
  public void diskRecovery(String action, Supplier<Long> count) {
    functionCounterState.add(count);
    FunctionCounter.builder("edgecache.disk.recoveries", count, v -> v.get())
        .description("Start-ups that found the disk tier damaged: repaired, or moved aside and started empty")
        .tag("tier", "disk").tag("action", action).register(registry);
  }

  private static String lower(Enum<?> e) {
    return e.name().toLowerCase(java.util.Locale.ROOT);
  }
}
