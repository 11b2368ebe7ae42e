package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.edgecache.proxy.cache.QueryRule;
import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.TtlRules;
import io.edgecache.proxy.policy.Vary;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RouteRequestTest {
  @Test
  void matchPath_decodesUnreservedOnly_andRemovesDotSegments() {
    assertEquals("/api/x", RouteRequest.matchPath("/%61%70%69/x?y=1"));
    assertEquals("/a%2Fb", RouteRequest.matchPath("/a%2Fb"), "an encoded slash stays encoded");
    assertEquals("/api/x", RouteRequest.matchPath("/static/../api/x"));
    assertEquals("/a/", RouteRequest.matchPath("/a/b/.."));
    assertEquals("/x", RouteRequest.matchPath("/../../x"));
    assertEquals("/a/b", RouteRequest.matchPath("/a/./b"));
    assertEquals("/a%", RouteRequest.matchPath("/a%"));
    assertEquals("/a%zz", RouteRequest.matchPath("/a%zz"));
  }

  @Test
  void cookie_findsTheNamedOne() {
    Headers h = Headers.of("Cookie", "a=1; currency=EUR", "cookie", "b=2");
    assertEquals("EUR", RouteRequest.cookie(h, "currency"));
    assertEquals("2", RouteRequest.cookie(h, "b"));
    assertNull(RouteRequest.cookie(h, "Currency"));
    assertNull(RouteRequest.cookie(Headers.EMPTY, "a"));
  }

  @Test
  void withKeyFields_addsTheRouteKeyAndCookieValues() {
    ProxyConfig.Route r = new ProxyConfig.Route("/", Set.of(), false, QueryRule.KEEP_ALL, List.of("accept-language"),
        List.of("currency", "lang"), TtlRules.NONE);
    Headers h = RouteRequest.withKeyFields(Headers.of("Cookie", "currency=EUR"), r);
    assertEquals("accept-language, :cookie:currency, :cookie:lang", h.get(Vary.ROUTE_KEY_FIELD));
    assertEquals("EUR", h.get(":cookie:currency"));
    assertNull(h.get(":cookie:lang"));
    assertEquals(List.of(":cookie:currency", ":cookie:lang", "accept-language", "x"),
        Vary.names(Headers.of("Vary", "X"), h));
    Headers plain = Headers.of("A", "b");
    ProxyConfig.Route none = new ProxyConfig.Route("/", Set.of(), false, QueryRule.KEEP_ALL, List.of(), List.of(),
        TtlRules.NONE);
    assertSame(plain, RouteRequest.withKeyFields(plain, none));
  }
}
