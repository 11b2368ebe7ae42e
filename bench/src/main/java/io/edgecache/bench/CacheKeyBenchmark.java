package io.edgecache.bench;

import io.edgecache.proxy.cache.CacheKey;
import io.edgecache.proxy.policy.Headers;
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

/**
 * Building the cache key of a request, as the request path does once per GET or HEAD: the primary
 * key from the Host and the origin-form target ({@link CacheKey#of}, called by {@code Exchange}
 * at RECV), and, for a URL whose responses vary, the secondary key from the request's selecting
 * fields ({@link Vary#secondaryKey}, called by {@code HttpCache.lookup} with the names the stored
 * Vary spec lists, and again when a fill is stored).
 *
 * <p>Targets cycle through 1,024 realistic paths so the JIT cannot fold a constant key.
 *
 * <pre>java -jar bench/target/benchmarks.jar CacheKeyBenchmark -prof gc</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class CacheKeyBenchmark {
  private static final int TARGETS = 1024;

  private String[] targets;
  private int next;
  private Headers browser;
  private List<String> acceptEncoding;
  private List<String> encodingAndLanguage;

  @Setup
  public void setup() {
    targets = Inputs.targets(TARGETS, 0).toArray(new String[0]);
    browser = Inputs.browserNavigation();
    // as HttpCache keeps them: Vary.names of the stored response (lower-case, sorted)
    acceptEncoding = Vary.names(Headers.of("Vary", "Accept-Encoding"));
    encodingAndLanguage = Vary.names(Headers.of("Vary", "Accept-Language, Accept-Encoding"));
  }

  private String target() {
    String t = targets[next];
    next = (next + 1) & (TARGETS - 1);
    return t;
  }

  /** {@code Host: www.example.com}: lower-case already, no port. */
  @Benchmark
  public String primaryKey() {
    return CacheKey.of("http", Inputs.HOST, -1, target());
  }

  /** {@code Host: WWW.Example.com:8080}: lower-cased, the non-default port kept. */
  @Benchmark
  public String primaryKeyMixedCaseHostAndPort() {
    return CacheKey.of("http", "WWW.Example.com", 8080, target());
  }

  /** {@code Vary: Accept-Encoding} against Chrome's {@code gzip, deflate, br, zstd}. */
  @Benchmark
  public String secondaryKeyAcceptEncoding() {
    return Vary.secondaryKey(acceptEncoding, browser);
  }

  /** {@code Vary: Accept-Language, Accept-Encoding}: the language list is normalised too. */
  @Benchmark
  public String secondaryKeyEncodingAndLanguage() {
    return Vary.secondaryKey(encodingAndLanguage, browser);
  }
}
