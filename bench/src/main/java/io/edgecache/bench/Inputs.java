package io.edgecache.bench;

import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.HopByHop;
import io.edgecache.proxy.policy.HttpDates;
import io.edgecache.proxy.policy.ResponseView;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Realistic inputs shared by the benchmarks: the header sets a browser and an origin really send,
 * and request targets shaped like a site's assets, pages and API calls.
 *
 * <p>Everything is built from a fixed seed, so two runs measure the same inputs. The clock is read
 * once per trial by the caller and passed in, as the proxy passes {@code now} to its policy.
 */
public final class Inputs {
  /** The Host the browser sends (no port: the scheme's default). */
  public static final String HOST = "www.example.com";
  /** The ETag of {@link #originResponse}, which {@link #browserConditional} sends back. */
  public static final String ETAG = "\"66f2b1c4-400\"";
  /** Body length of the stored responses. */
  public static final int BODY_BYTES = 1024;

  private Inputs() {}

  /**
   * A top-level navigation by Chrome 131 on Linux: no Cache-Control, a cookie, client hints and
   * fetch metadata, {@code Accept-Encoding: gzip, deflate, br, zstd}. 16 fields.
   */
  public static Headers browserNavigation() {
    return browser(HOST).build();
  }

  /**
   * The same browser asking again for a page whose copy it holds: If-None-Match with the
   * origin's ETag and If-Modified-Since, so a fresh stored response answers 304.
   */
  public static Headers browserConditional(long nowMs) {
    return browser(HOST)
        .add("If-None-Match", ETAG)
        .add("If-Modified-Since", HttpDates.format(lastModifiedMs(nowMs)))
        .build();
  }

  /** The same browser after a reload: {@code Cache-Control: max-age=0} plus the validators. */
  public static Headers browserReload(long nowMs) {
    return browser(HOST)
        .add("Cache-Control", "max-age=0")
        .add("If-None-Match", ETAG)
        .add("If-Modified-Since", HttpDates.format(lastModifiedMs(nowMs)))
        .build();
  }

  private static Headers.Builder browser(String host) {
    return Headers.builder()
        .add("Host", host)
        .add("Connection", "keep-alive")
        .add("sec-ch-ua", "\"Google Chrome\";v=\"131\", \"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\"")
        .add("sec-ch-ua-mobile", "?0")
        .add("sec-ch-ua-platform", "\"Linux\"")
        .add("Upgrade-Insecure-Requests", "1")
        .add("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            + "Chrome/131.0.0.0 Safari/537.36")
        .add("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
            + "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")
        .add("Sec-Fetch-Site", "same-origin")
        .add("Sec-Fetch-Mode", "navigate")
        .add("Sec-Fetch-User", "?1")
        .add("Sec-Fetch-Dest", "document")
        .add("Referer", "https://www.example.com/news/")
        .add("Accept-Encoding", "gzip, deflate, br, zstd")
        .add("Accept-Language", "en-US,en;q=0.9,de;q=0.8")
        .add("Cookie", "_ga=GA1.1.1384762093.1732093611; consent=necessary%2Canalytics; "
            + "_ga_X1Y2Z3=GS1.1.1732093611.4.1.1732095220.0.0.0");
  }

  /**
   * What nginx in front of an application answers for a page: 200, {@code public, max-age=300,
   * stale-while-revalidate=30}, ETag and Last-Modified, {@code Vary: Accept-Encoding} when
   * {@code vary}, security headers, a Surrogate-Key, and the hop-by-hop {@code Connection} and
   * {@code Keep-Alive}. Date is {@code ageSeconds} before {@code nowMs}. 16 or 17 fields.
   */
  public static Headers originResponse(long nowMs, long ageSeconds, boolean vary) {
    Headers.Builder b = Headers.builder()
        .add("Server", "nginx/1.22.1")
        .add("Date", HttpDates.format(nowMs - ageSeconds * 1000))
        .add("Content-Type", "text/html; charset=utf-8")
        .add("Content-Length", Integer.toString(BODY_BYTES))
        .add("Connection", "keep-alive")
        .add("Keep-Alive", "timeout=60")
        .add("Last-Modified", HttpDates.format(lastModifiedMs(nowMs)))
        .add("ETag", ETAG)
        .add("Cache-Control", "public, max-age=300, stale-while-revalidate=30");
    if (vary) {
      b.add("Vary", "Accept-Encoding");
    }
    return b.add("Accept-Ranges", "bytes")
        .add("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        .add("X-Content-Type-Options", "nosniff")
        .add("X-Frame-Options", "SAMEORIGIN")
        .add("Referrer-Policy", "strict-origin-when-cross-origin")
        .add("Content-Security-Policy", "default-src 'self'; img-src 'self' data: https://img.example.com")
        .add("Surrogate-Key", "page-news section-news")
        .build();
  }

  /**
   * The origin's response as the cache holds it after a fill {@code ageSeconds} ago: hop-by-hop
   * fields removed (as the origin fetch does), request and response times {@code ageSeconds} ago.
   */
  public static ResponseView storedResponse(long nowMs, long ageSeconds, boolean vary) {
    long at = nowMs - ageSeconds * 1000;
    return new ResponseView(200, HopByHop.strip(originResponse(nowMs, ageSeconds, vary)), at - 12, at);
  }

  private static long lastModifiedMs(long nowMs) {
    return (nowMs - 2 * 86_400_000L) / 1000 * 1000;
  }

  /**
   * {@code count} distinct origin-form request targets (path and query) in random order: hashed
   * asset names, product images, article slugs, API calls with queries. Sets of different
   * {@code salt} are disjoint (a non-zero salt adds a {@code v=salt} query parameter).
   */
  public static List<String> targets(int count, long salt) {
    Random r = new Random(0x5eed ^ salt * 0x9E3779B97F4A7C15L);
    Set<String> seen = new HashSet<>();
    List<String> out = new ArrayList<>(count);
    while (out.size() < count) {
      int n = r.nextInt(10_000_000);
      String hex = Long.toHexString(r.nextLong() & 0xffffffffL);
      String t = switch (r.nextInt(4)) {
        case 0 -> "/assets/js/chunk-" + hex + ".js";
        case 1 -> "/img/products/" + n + "/" + hex + "-800x600.webp";
        case 2 -> "/news/2026/11/edge-caching-explained-part-" + n;
        default -> "/api/v2/products/" + n + "?fields=name,price,stock&currency=EUR&lang=en";
      };
      if (seen.add(t)) {
        out.add(salt == 0 ? t : t + (t.indexOf('?') >= 0 ? "&" : "?") + "v=" + salt);
      }
    }
    return out;
  }
}
