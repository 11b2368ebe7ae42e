package io.edgecache.proxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.edgecache.proxy.policy.HttpDates;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Age, Expires and CDN-Cache-Control values that do not parse, through the real jar: an invalid
 * {@code Age} is ignored and a list uses its first member (RFC 9111 5.1), an {@code Expires} that is
 * not exactly an HTTP-date is already expired (RFC 9111 5.3), and a {@code CDN-Cache-Control} that
 * is not a valid Structured Field Dictionary, or has a directive of the wrong type, is ignored as a
 * whole so {@code Cache-Control} applies (RFC 9213 2.1).
 *
 * <p>One proxy and one origin for the class; each case has its own path, is fetched twice, and
 * the second answer must be a hit (one origin request) or not (two).
 */
class FieldParsingJarIT {
  private static final String HOST = "edge.test";
  /** An Expires an hour after the proxy receives the response (the proxy supplies Date). */
  private static final String IN_AN_HOUR = HttpDates.format(System.currentTimeMillis() + 3_600_000L);

  @TempDir
  static Path dir;
  private static CountingOrigin origin;
  private static JarProxy proxy;

  /** Path, the origin's header fields (name, value, ...), whether the second GET is a hit. */
  private static final Map<String, List<String>> FIELDS = Map.ofEntries(
      Map.entry("/age-list", List.of("Cache-Control", "max-age=3600", "Age", "0, 7200")),
      Map.entry("/age-invalid", List.of("Cache-Control", "max-age=3600", "Age", "abc")),
      Map.entry("/age-huge", List.of("Cache-Control", "max-age=3600", "Age", "2147483648")),
      Map.entry("/expires-valid", List.of("Expires", IN_AN_HOUR)),
      Map.entry("/expires-lowercase-gmt", List.of("Expires", IN_AN_HOUR.replace("GMT", "gmt"))),
      Map.entry("/expires-extra-spaces", List.of("Expires", IN_AN_HOUR.replace(" ", "  "))),
      Map.entry("/expires-utc", List.of("Expires", IN_AN_HOUR.replace("GMT", "UTC"))),
      Map.entry("/cdn-valid", List.of("Cache-Control", "no-store", "CDN-Cache-Control", "max-age=600")),
      Map.entry("/cdn-string-max-age", List.of("Cache-Control", "no-store", "CDN-Cache-Control", "max-age=\"600\"")),
      Map.entry("/cdn-parse-error", List.of("Cache-Control", "no-store", "CDN-Cache-Control", "max-age=600,")),
      Map.entry("/cdn-no-store-with-value", List.of("Cache-Control", "max-age=600", "CDN-Cache-Control", "no-store=5")));

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("/age-list", true),
        Arguments.of("/age-invalid", true),
        Arguments.of("/age-huge", false),
        Arguments.of("/expires-valid", true),
        Arguments.of("/expires-lowercase-gmt", false),
        Arguments.of("/expires-extra-spaces", false),
        Arguments.of("/expires-utc", false),
        Arguments.of("/cdn-valid", true),
        Arguments.of("/cdn-string-max-age", false),
        Arguments.of("/cdn-parse-error", false),
        Arguments.of("/cdn-no-store-with-value", true));
  }

  @BeforeAll
  static void startOriginAndProxy() throws Exception {
    origin = new CountingOrigin(r -> {
      List<String> fields = FIELDS.getOrDefault(r.path(), List.of());
      for (int i = 0; i + 1 < fields.size(); i += 2) {
        r.response().putHeader(fields.get(i), fields.get(i + 1));
      }
      r.response().end("body of " + r.path());
    });
    JsonObject config = new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("eventLoops", 2))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "origin").put("url", origin.url())
            .put("hosts", new JsonArray().add(HOST))))
        .put("memory", new JsonObject().put("maxBytes", "16MiB").put("maxObjectBytes", "1MiB"));
    proxy = JarProxy.start(dir, "proxy", config); // @AfterAll runs even when this fails
  }

  @AfterAll
  static void stopProxyAndOrigin() throws Exception {
    JarProxy.closeAll(proxy, origin);
  }

  @ParameterizedTest(name = "{0} second GET is a hit: {1}")
  @MethodSource("cases")
  void get_twice_secondIsHitOnlyWhenTheFieldsAllowIt(String path, boolean hit) throws Exception {
    Http1.Response first = Http1.once(proxy.port(), "GET", path, HOST);
    assertEquals(200, first.status(), path + ": " + first.text());
    Http1.Response second = Http1.once(proxy.port(), "GET", path, HOST);

    assertEquals(200, second.status(), path + ": " + second.text());
    assertEquals(hit, second.isHit(), path + " with " + FIELDS.get(path) + ": " + second.cacheStatus());
    assertEquals(hit ? 1 : 2, origin.count("GET", path), path + ": origin GETs");
  }
}
