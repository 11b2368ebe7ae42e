package io.edgecache.proxy.http;

import io.edgecache.bench.Inputs;
import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.HopByHop;
import io.edgecache.proxy.policy.ResponseView;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.http.impl.headers.HeadersMultiMap;
import java.nio.charset.StandardCharsets;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The header work of a request: reading the client's fields into the policy's {@link Headers}
 * (once per request, at RECV) and writing a response's header section.
 *
 * <p>This class sits in the proxy's {@code http} package (in the bench module, so nothing is
 * widened for it) because the parts are package-private there. Writing needs a live
 * {@code HttpServerResponse}, so the benchmarks build what it would hold: a Vert.x
 * {@link HeadersMultiMap} (the map an HTTP/1.x server response keeps), filled in the order
 * {@code StoredDelivery.respond} fills it for a 200 hit (Age, {@link ClientHeaders#write} of the
 * stored fields with Via and Cache-Status, Content-Length), and {@code ...Encoded} also renders
 * it into a reused {@link ByteBuf} with the call Vert.x's response encoder makes, so those show
 * the cost of the bytes on the wire minus the status line. The Cache-Status member is built per
 * call as {@code Exchange.onLookup} builds it.
 *
 * <pre>java -jar bench/target/benchmarks.jar HitHeadersBenchmark -prof gc</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class HitHeadersBenchmark {
  private HeadersMultiMap request;
  /** The stored response's fields (hop-by-hop removed, as stored). */
  private Headers stored;
  private ResponseView storedView;
  /** The origin's fields of a miss (hop-by-hop removed, as {@code OriginFetch.view} passes them on). */
  private Headers fromOrigin;
  private long ageSeconds;
  private long ttlSeconds;
  private ByteBuf wire;

  @Setup
  public void setup() {
    long now = System.currentTimeMillis();
    request = HeadersMultiMap.httpHeaders();
    Headers browser = Inputs.browserNavigation();
    for (int i = 0; i < browser.size(); i++) {
      request.add(browser.name(i), browser.value(i));
    }
    ResponseView view = Inputs.storedResponse(now, 30, true);
    storedView = view;
    stored = view.headers();
    fromOrigin = HopByHop.strip(Inputs.originResponse(now, 0, true));
    ageSeconds = 30;
    ttlSeconds = 270;
    wire = Unpooled.buffer(4096);
    String rendered = hitHeadersEncodedText();
    if (!rendered.contains("Age: 30\r\n") || !rendered.contains("Cache-Status: edgecache; hit; ttl=270\r\n")
        || !rendered.contains("Content-Length: 1024\r\n") || rendered.contains("Keep-Alive")
        || rendered.contains("Surrogate-Key")) {
      throw new IllegalStateException("unexpected hit header section:\n" + rendered);
    }
  }

  private String hitHeadersEncodedText() {
    hitHeadersEncoded();
    return wire.toString(StandardCharsets.ISO_8859_1);
  }

  @TearDown
  public void release() {
    wire.release();
  }

  /** Chrome's 16 request fields, from the Vert.x request map into {@link Headers}. */
  @Benchmark
  public Headers requestHeaders() {
    return Messages.toHeaders(request);
  }

  /** The header map of a 200 hit, built as {@code StoredDelivery.respond} builds it. */
  @Benchmark
  public HeadersMultiMap hitHeaders() {
    CacheStatus cs = CacheStatus.hit().param("ttl", ttlSeconds);
    HeadersMultiMap h = HeadersMultiMap.httpHeaders();
    h.set(Messages.AGE, Long.toString(ageSeconds));
    ClientHeaders.writeStored(storedView, cs, false, false, h);
    h.set("Content-Length", Long.toString(Inputs.BODY_BYTES));
    return h;
  }

  /** {@link #hitHeaders}, then rendered as the response encoder renders it. */
  @Benchmark
  public int hitHeadersEncoded() {
    HeadersMultiMap h = hitHeaders();
    wire.clear();
    h.encode(wire, false);
    return wire.writerIndex();
  }

  /** The header map of a 304 answered from the cache ({@code StoredDelivery.respond}, notModified). */
  @Benchmark
  public HeadersMultiMap notModifiedHeaders() {
    CacheStatus cs = CacheStatus.hit().param("ttl", ttlSeconds);
    HeadersMultiMap h = HeadersMultiMap.httpHeaders();
    h.set(Messages.AGE, Long.toString(ageSeconds));
    Messages.copyInto(ClientHeaders.notModified(stored, cs, false), h);
    return h;
  }

  /** The header map of a miss relayed and stored ({@code ClientResponse.head}), rendered. */
  @Benchmark
  public int missHeadersEncoded() {
    CacheStatus cs = CacheStatus.fwd(CacheStatus.Fwd.URI_MISS).param("fwd-status", 200).param("stored")
        .param("ttl", 300);
    HeadersMultiMap h = HeadersMultiMap.httpHeaders();
    ClientHeaders.write(fromOrigin, cs, false, false, false, h);
    wire.clear();
    h.encode(wire, false);
    return wire.writerIndex();
  }
}
