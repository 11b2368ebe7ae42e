package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.policy.Headers;
import io.vertx.core.MultiMap;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ForwardHeadersTest {
  private static MultiMap build(boolean lookup, Set<String> stripped, String... nameValues) {
    return ForwardHeaders.build(MultiMap.caseInsensitiveMultiMap(), Headers.of(nameValues), "10.0.0.1", "edge.test",
        "1.1", lookup, null, stripped, "http");
  }

  @Test
  void build_defaultStripSet_removesEveryReroutingFieldWhateverItsCase() {
    MultiMap out = build(true, ProxyConfig.Upstream.DEFAULT_STRIP_REQUEST_HEADERS,
        "X-Original-URL", "/admin", "x-rewrite-url", "/admin", "X-HTTP-Method-Override", "DELETE",
        "X-HTTP-Method", "DELETE", "X-Method-Override", "DELETE", "X-Forwarded-Scheme", "nothttps",
        "X-Forwarded-Port", "1337", "X-Forwarded-Server", "evil.test", "X-HOST", "evil.test",
        "X-Forwarded-Prefix", "/evil", "Forwarded", "host=evil.test", "Accept", "text/html");

    assertEquals(Set.of("accept", "via", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
        "surrogate-capability"), lowerNames(out));
  }

  @Test
  void build_configuredStripNames_matchFieldsInAnyCase() {
    Set<String> configured = new ProxyConfig.Upstream(1, 1, 1, 1, Set.of("x-tenant"), 1).stripRequestHeaders();
    MultiMap out = build(true, configured, "X-TENANT", "other", "Accept", "*/*");

    assertNull(out.get("X-Tenant"));
    assertEquals("*/*", out.get("Accept"));
  }

  @Test
  void build_emptyStripSet_forwardsThoseFields() {
    MultiMap out = build(true, Set.of(), "X-Original-URL", "/admin");

    assertEquals("/admin", out.get("X-Original-URL"));
  }

  @Test
  void build_lookupWithContentLength_dropsIt() {
    assertNull(build(true, Set.of(), "Content-Length", "11").get("Content-Length"));
  }

  @Test
  void build_passWithContentLength_keepsIt() {
    assertEquals("11", build(false, Set.of(), "Content-Length", "11").get("Content-Length"));
  }

  @Test
  void build_clientForwardedHost_isReplacedByOurs() {
    assertEquals("edge.test", build(true, Set.of(), "X-Forwarded-Host", "evil.test").get("X-Forwarded-Host"));
  }

  private static Set<String> lowerNames(MultiMap m) {
    return m.names().stream().map(n -> n.toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
  }

  @Test
  void build_fromHttp2Client_joinsCookieLinesDropsPseudoFieldsAndSaysHttps() {
    MultiMap out = ForwardHeaders.build(MultiMap.caseInsensitiveMultiMap(),
        Headers.of(":path", "/x", "cookie", "a=1", "Accept", "*/*", "cookie", "b=2"),
        "10.0.0.1", "edge.test", "2", true, null, Set.of(), "https");

    assertEquals(java.util.List.of("a=1; b=2"), out.getAll("Cookie"));
    assertNull(out.get(":path"));
    assertEquals("https", out.get("X-Forwarded-Proto"));
    assertEquals("2 edgecache", out.get("Via"));
  }

  @Test
  void build_dropsHopByHopFieldsAndThoseConnectionNames_inAnyCase() {
    MultiMap out = build(true, Set.of(), "CONNECTION", "keep-alive, X-Private", "Keep-Alive", "timeout=5",
        "x-private", "secret", "TE", "trailers", "Upgrade", "h2c", "Accept", "*/*");

    assertEquals(Set.of("accept", "via", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
        "surrogate-capability"), lowerNames(out));
  }

  @Test
  void build_fromHttp1Client_keepsCookieLinesAsSent() {
    assertEquals(2, build(true, Set.of(), "Cookie", "a=1", "Cookie", "b=2").getAll("Cookie").size());
  }
}
