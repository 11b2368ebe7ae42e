package io.edgecache.bench;

import io.edgecache.proxy.cache.CacheKey;
import io.edgecache.proxy.cache.Tags;
import io.edgecache.proxy.policy.Authorization;
import io.edgecache.proxy.policy.CacheControl;
import io.edgecache.proxy.policy.Conditionals;
import io.edgecache.proxy.policy.FreshnessPolicy;
import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.HopByHop;
import io.edgecache.proxy.policy.RequestDirectives;
import io.edgecache.proxy.policy.ResponseView;
import io.edgecache.proxy.policy.Reuse;
import io.edgecache.proxy.policy.Storability;
import io.edgecache.proxy.policy.StoreDecision;
import io.edgecache.proxy.policy.Vary;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The RFC 9111 decisions of the request path, with the calls and arguments the proxy makes:
 *
 * <ul>
 *   <li>{@link #hit}: what a fresh hit runs, in order: the request's directives
 *       ({@code Exchange.recv}), {@link Authorization#storedMayAnswer} and {@link Reuse#decide}
 *       ({@code Exchange.onLookup}), {@link Conditionals#notModified} and the Range check
 *       ({@code StoredDelivery.deliver});</li>
 *   <li>{@link #hitConditional}: the same for a browser that sends its validators (answer: 304);</li>
 *   <li>{@link #fill}: what a miss runs on the origin's answer: the response view with its parsed
 *       directives (as {@code OriginFetch.view} makes it), {@link StoreDecision#of} and
 *       {@link Storability#storedForm} ({@code Exchange.forward}), the purge tags
 *       ({@code Exchange.complete}), the Vary names and secondary key ({@code HttpCache.store});</li>
 *   <li>the parts on their own: {@link #requestDirectives}, {@link #cacheControlParse},
 *       {@link #reuseDecide}, {@link #responseView}, {@link #storeDecision}.</li>
 * </ul>
 *
 * <p>Inputs are {@link Inputs}' Chrome request and nginx page response ({@code public,
 * max-age=300, stale-while-revalidate=30}, ETag, Last-Modified, Vary), stored 30 s before
 * {@code now}, and the freshness settings of the default {@code conf/proxy.json}. Setup checks each
 * decision is the one named, so a change of rules cannot silently move a benchmark to another branch.
 *
 * <pre>java -jar bench/target/benchmarks.jar PolicyBenchmark -prof gc</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class PolicyBenchmark {
  /** {@code cache.heuristicFraction} and {@code cache.heuristicMaxAge} of the default configuration. */
  private final FreshnessPolicy freshness = new FreshnessPolicy(0.1, 86_400);
  /** {@code memory.maxObjectBytes} of the default configuration. */
  private static final long MAX_OBJECT_BYTES = 8L << 20;

  private long nowMs;
  private String primaryKey;
  private Headers browser;
  private Headers conditional;
  private CacheControl browserControl;
  private ResponseView stored;
  private Headers originFields;
  private long requestTimeMs;
  private ResponseView received;
  private String responseCacheControl;

  @Setup
  public void setup() {
    nowMs = System.currentTimeMillis();
    primaryKey = CacheKey.of("http", Inputs.HOST, -1, "/news/2026/11/edge-caching-explained");
    browser = Inputs.browserNavigation();
    conditional = Inputs.browserConditional(nowMs);
    browserControl = RequestDirectives.of(browser);
    stored = Inputs.storedResponse(nowMs, 30, true);
    originFields = Inputs.originResponse(nowMs, 0, true);
    requestTimeMs = nowMs - 12;
    received = new ResponseView(200, HopByHop.strip(originFields), requestTimeMs, nowMs);
    responseCacheControl = originFields.get("cache-control");

    Reuse.Decision d = Reuse.decide(freshness, browserControl, stored, nowMs, false);
    require(d.kind() == Reuse.Kind.FRESH && d.ttl() == 270, "hit: expected FRESH with ttl 270, got " + d);
    require(Authorization.storedMayAnswer(browser, stored), "hit: the stored response must answer the browser");
    require(!Conditionals.notModified(browser, stored), "hit: the plain request must not be answered 304");
    require(Conditionals.notModified(conditional, stored), "hitConditional: expected a 304");
    StoreDecision sd = storeDecision();
    require(sd.stored() && sd.ttl() == 300, "fill: expected stored with ttl 300, got " + sd);
    require(Tags.of(received.headers()).size() == 2, "fill: expected two purge tags");
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalStateException(message);
    }
  }

  /** A fresh hit for Chrome's navigation: every decision up to the first header written. */
  @Benchmark
  public Reuse.Decision hit(Blackhole bh) {
    return hitFor(browser, bh);
  }

  /** A fresh hit for a browser holding the same ETag: the decision is a 304. */
  @Benchmark
  public Reuse.Decision hitConditional(Blackhole bh) {
    return hitFor(conditional, bh);
  }

  private Reuse.Decision hitFor(Headers request, Blackhole bh) {
    CacheControl requestControl = RequestDirectives.of(request);
    bh.consume(Authorization.storedMayAnswer(request, stored));
    Reuse.Decision d = Reuse.decide(freshness, requestControl, stored, nowMs, false);
    boolean notModified = Conditionals.notModified(request, stored);
    bh.consume(notModified);
    // StoredDelivery.rangeFor: the Range field (absent here, so If-Range is not looked at)
    bh.consume(!notModified && request.get("range") != null);
    return d;
  }

  /** A miss's origin answer: view, store decision, stored form, tags, Vary names and secondary key. */
  @Benchmark
  public String fill(Blackhole bh) {
    ResponseView view = new ResponseView(200, HopByHop.strip(originFields), requestTimeMs, nowMs);
    StoreDecision decision = StoreDecision.of(freshness, "GET", false, browserControl,
        browser.contains("authorization"), view, primaryKey, MAX_OBJECT_BYTES, false);
    if (!decision.stored()) {
      return null;
    }
    ResponseView toStore = Storability.storedForm(view);
    bh.consume(decision);
    bh.consume(Tags.of(toStore.headers()));
    List<String> names = Vary.names(toStore.headers());
    return Vary.secondaryKey(names, browser);
  }

  /** The request's Cache-Control (none here, so Pragma is looked at too). */
  @Benchmark
  public CacheControl requestDirectives() {
    return RequestDirectives.of(browser);
  }

  /** {@code public, max-age=300, stale-while-revalidate=30}. */
  @Benchmark
  public CacheControl cacheControlParse() {
    return CacheControl.parse(responseCacheControl);
  }

  /** Freshness lifetime (max-age), current age (Date, Age, the two times) and the reuse rules. */
  @Benchmark
  public Reuse.Decision reuseDecide() {
    return Reuse.decide(freshness, browserControl, stored, nowMs, false);
  }

  /** Hop-by-hop fields stripped, Cache-Control parsed, CDN-Cache-Control / Surrogate-Control looked for. */
  @Benchmark
  public ResponseView responseView() {
    return new ResponseView(200, HopByHop.strip(originFields), requestTimeMs, nowMs);
  }

  /** RFC 9111 section 3 and this cache's limits, on an already parsed response. */
  @Benchmark
  public StoreDecision storeDecision() {
    return StoreDecision.of(freshness, "GET", false, browserControl, browser.contains("authorization"), received,
        primaryKey, MAX_OBJECT_BYTES, false);
  }
}
