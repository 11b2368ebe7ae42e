package io.edgecache.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.cache.QueryRule;
import io.edgecache.proxy.policy.TtlRules;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@code origins[].routes} and {@code cache.clientDirectives}: what is read and the one-line errors. */
class RouteLoaderTest {
  private static final String FILE = "conf/proxy.json";

  private static ProxyConfig withRoutes(String routes) {
    return ConfigLoader.parse(FILE, "{\"origins\": [{\"name\": \"web\", \"url\": \"http://127.0.0.1:8000\", "
        + "\"hosts\": [\"*\"], \"routes\": " + routes + "}]}");
  }

  private static String error(String routes) {
    ConfigException e = assertThrows(ConfigException.class, () -> withRoutes(routes));
    String msg = e.getMessage();
    assertFalse(msg.contains("\n"), msg);
    assertTrue(msg.startsWith(FILE + ": origins[0].routes"), msg);
    return msg;
  }

  @Test
  void fullRoute_readsEveryKey() {
    ProxyConfig.Route r = withRoutes("[{\"path\": \"/static/\", \"methods\": [\"get\", \"HEAD\"], "
        + "\"cacheKey\": {\"dropParams\": [\"utm_*\"], \"sortParams\": true, \"headers\": [\"Accept-Language\"], "
        + "\"cookies\": [\"currency\"]}, \"ttl\": {\"default\": \"10m\", \"min\": \"1m\", \"max\": \"1d\", "
        + "\"negative\": {\"404\": \"30s\", \"410\": \"5m\"}, \"force\": true}}]").origins().get(0).routes().get(0);
    assertEquals("/static/", r.path());
    assertEquals(Set.of("GET", "HEAD"), r.methods());
    assertFalse(r.bypass());
    assertEquals(new QueryRule(QueryRule.Mode.DROP, List.of("utm_*"), true), r.query());
    assertEquals(List.of("accept-language"), r.keyHeaders());
    assertEquals(List.of("currency"), r.keyCookies());
    assertEquals(new TtlRules(600, 60, 86400, Map.of(404, 30L, 410, 300L), true), r.ttl());
  }

  @Test
  void routes_longestPathFirst_methodSpecificBeforeAny() {
    ProxyConfig.Origin o = withRoutes("[{\"path\": \"/\"}, {\"path\": \"/a/b/\", \"bypass\": true}, "
        + "{\"path\": \"/a/\"}, {\"path\": \"/a/\", \"methods\": [\"POST\"]}]").origins().get(0);
    assertEquals("/a/b/", o.route("/a/b/c", "GET").path());
    assertTrue(o.route("/a/b/c", "GET").bypass());
    assertEquals(Set.of("POST"), o.route("/a/x", "POST").methods());
    assertEquals(Set.of(), o.route("/a/x", "GET").methods());
    assertEquals("/", o.route("/z", "GET").path());
    assertNull(withRoutes("[{\"path\": \"/a/\"}]").origins().get(0).route("/b", "GET"));
  }

  @Test
  void defaults_noRoutes_andClientDirectivesIgnored() {
    ProxyConfig c = ConfigLoader.parse(FILE, "{\"origins\": [{\"name\": \"web\", \"url\": \"http://127.0.0.1:8000\", "
        + "\"hosts\": [\"*\"]}]}");
    assertEquals(List.of(), c.origins().get(0).routes());
    assertFalse(c.cache().honorClientDirectives());
    ProxyConfig.Route r = withRoutes("[{\"path\": \"/\"}]").origins().get(0).routes().get(0);
    assertEquals(QueryRule.KEEP_ALL, r.query());
    assertEquals(TtlRules.NONE, r.ttl());
  }

  @Test
  void clientDirectives_honorOrIgnore_elseOneLineError() {
    String base = "{\"origins\": [{\"name\": \"web\", \"url\": \"http://127.0.0.1:8000\", \"hosts\": [\"*\"]}], ";
    assertTrue(ConfigLoader.parse(FILE, base + "\"cache\": {\"clientDirectives\": \"honor\"}}").cache().honorClientDirectives());
    ConfigException e = assertThrows(ConfigException.class,
        () -> ConfigLoader.parse(FILE, base + "\"cache\": {\"clientDirectives\": \"honour\"}}"));
    assertEquals(FILE + ": cache.clientDirectives: expected one of \"ignore\", \"honor\", got \"honour\"", e.getMessage());
  }

  @Test
  void errors_nameTheKey() {
    assertTrue(error("{}").startsWith(FILE + ": origins[0].routes: expected a list"));
    assertTrue(error("[{}]").contains("routes[0].path: missing"));
    assertTrue(error("[{\"path\": \"api\"}]").contains("routes[0].path: expected a path prefix"));
    assertTrue(error("[{\"path\": \"/a\", \"colour\": 1}]").contains("routes[0].colour: unknown key"));
    assertTrue(error("[{\"path\": \"/a\"}, {\"path\": \"/a\"}]").contains("routes[1].path: same path and methods as"));
    assertTrue(error("[{\"path\": \"/a\", \"methods\": []}]").contains("routes[0].methods: expected a non-empty list"));
    assertTrue(error("[{\"path\": \"/a\", \"bypass\": true, \"ttl\": {\"default\": \"1m\"}}]")
        .contains("routes[0].ttl: a bypass route stores nothing"));
    assertTrue(error("[{\"path\": \"/a\", \"cacheKey\": {\"keepParams\": [\"a\"], \"dropParams\": [\"b\"]}}]")
        .contains("routes[0].cacheKey.dropParams: give keepParams or dropParams, not both"));
    assertTrue(error("[{\"path\": \"/a\", \"cacheKey\": {\"query\": \"none\", \"sortParams\": true}}]")
        .contains("routes[0].cacheKey.query: \"none\" drops the whole query"));
    assertTrue(error("[{\"path\": \"/a\", \"cacheKey\": {\"query\": \"some\"}}]")
        .contains("routes[0].cacheKey.query: expected one of \"all\", \"none\""));
    assertTrue(error("[{\"path\": \"/a\", \"cacheKey\": {\"headers\": [\"Cookie\"]}}]")
        .contains("routes[0].cacheKey.headers[0]: key on single cookies"));
    assertTrue(error("[{\"path\": \"/a\", \"cacheKey\": {\"cookies\": [\"a b\"]}}]")
        .contains("routes[0].cacheKey.cookies[0]: expected a cookie name"));
    assertTrue(error("[{\"path\": \"/a\", \"ttl\": {\"negative\": {\"414\": \"1m\"}}}]")
        .contains("routes[0].ttl.negative.414: only [404, 405, 410, 501] may be cached"));
    assertTrue(error("[{\"path\": \"/a\", \"ttl\": {\"force\": true}}]")
        .contains("routes[0].ttl.force: needs a lifetime to force"));
    assertTrue(error("[{\"path\": \"/a\", \"ttl\": {\"min\": \"1h\", \"max\": \"1m\"}}]")
        .contains("routes[0].ttl.min: is longer than"));
    assertTrue(error("[{\"path\": \"/a\", \"ttl\": {\"default\": \"soon\"}}]").contains("routes[0].ttl.default:"));
  }
}
