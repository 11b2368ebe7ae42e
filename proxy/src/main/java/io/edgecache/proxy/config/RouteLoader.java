package io.edgecache.proxy.config;

import io.edgecache.proxy.cache.QueryRule;
import io.edgecache.proxy.policy.TtlRules;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads {@code origins[].routes}: per-path rules for the cache key, freshness and bypass (README,
 * "Routes"). Errors name the file and the key, as every configuration error does.
 */
final class RouteLoader {
  private static final String TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
  private final ConfigFields loader;

  RouteLoader(ConfigFields loader) {
    this.loader = loader;
  }

  /** The routes of origin {@code o} (key prefix {@code p}), longest path first; empty when absent. */
  List<ProxyConfig.Route> routes(JsonObject o, String p) {
    Object raw = o.getValue("routes");
    if (raw == null) {
      return List.of();
    }
    if (!(raw instanceof JsonArray arr)) {
      throw loader.err(p + "routes", "expected a list of routes such as [{\"path\": \"/api/\", \"bypass\": true}], got "
          + ConfigFields.describe(raw));
    }
    List<ProxyConfig.Route> out = new ArrayList<>();
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < arr.size(); i++) {
      String at = p + "routes[" + i + "]";
      if (!(arr.getValue(i) instanceof JsonObject r)) {
        throw loader.err(at, "expected an object, got " + ConfigFields.describe(arr.getValue(i)));
      }
      ProxyConfig.Route route = route(r, at + ".");
      String id = route.path() + " " + new TreeSet<>(route.methods());
      Integer before = seen.putIfAbsent(id, i);
      if (before != null) {
        throw loader.err(at + ".path", "same path and methods as " + p + "routes[" + before + "]");
      }
      out.add(route);
    }
    out.sort(Comparator.comparingInt((ProxyConfig.Route r) -> r.path().length()).reversed()
        .thenComparing(r -> r.methods().isEmpty()));
    return List.copyOf(out);
  }

  private ProxyConfig.Route route(JsonObject r, String p) {
    loader.known(r, p, Set.of("path", "methods", "bypass", "cacheKey", "ttl"));
    String path = loader.requiredString(r, p, "path");
    if (!path.startsWith("/") || path.contains("?") || path.contains("#")) {
      throw loader.err(p + "path", "expected a path prefix starting with \"/\" (no query), got \"" + path + "\"");
    }
    Set<String> methods = methods(r, p);
    boolean bypass = loader.bool(r, p, "bypass", false);
    JsonObject key = r.getValue("cacheKey") == null ? new JsonObject() : object(r, p, "cacheKey");
    String kp = p + "cacheKey.";
    loader.known(key, kp, Set.of("query", "keepParams", "dropParams", "sortParams", "headers", "cookies"));
    QueryRule query = query(key, kp);
    List<String> headers = names(key, kp, "headers", true);
    List<String> cookies = names(key, kp, "cookies", false);
    if (bypass && r.getValue("ttl") != null) {
      throw loader.err(p + "ttl", "a bypass route stores nothing, so it has no ttl");
    }
    TtlRules ttl = r.getValue("ttl") == null ? TtlRules.NONE : ttl(object(r, p, "ttl"), p + "ttl.");
    return new ProxyConfig.Route(path, methods, bypass, query, headers, cookies, ttl);
  }

  private Set<String> methods(JsonObject r, String p) {
    Object v = r.getValue("methods");
    if (v == null) {
      return Set.of();
    }
    if (!(v instanceof JsonArray arr) || arr.isEmpty()) {
      throw loader.err(p + "methods", "expected a non-empty list such as [\"GET\", \"HEAD\"], got "
          + ConfigFields.describe(v));
    }
    Set<String> out = new LinkedHashSet<>();
    for (int i = 0; i < arr.size(); i++) {
      if (!(arr.getValue(i) instanceof String m) || !m.matches(TOKEN)) {
        throw loader.err(p + "methods[" + i + "]", "expected a method name, got " + ConfigFields.describe(arr.getValue(i)));
      }
      out.add(m.toUpperCase(Locale.ROOT));
    }
    return out;
  }

  private QueryRule query(JsonObject key, String kp) {
    String mode = loader.oneOf(key, kp, "query", "all", "all", "none");
    boolean sort = loader.bool(key, kp, "sortParams", false);
    List<String> keep = patterns(key, kp, "keepParams");
    List<String> drop = patterns(key, kp, "dropParams");
    if (keep != null && drop != null) {
      throw loader.err(kp + "dropParams", "give keepParams or dropParams, not both");
    }
    if (mode.equals("none")) {
      if (keep != null || drop != null || sort) {
        throw loader.err(kp + "query", "\"none\" drops the whole query: keepParams, dropParams and sortParams do not apply");
      }
      return new QueryRule(QueryRule.Mode.NONE, List.of(), false);
    }
    if (keep != null) {
      return new QueryRule(QueryRule.Mode.KEEP, keep, sort);
    }
    if (drop != null) {
      return new QueryRule(QueryRule.Mode.DROP, drop, sort);
    }
    return sort ? new QueryRule(QueryRule.Mode.ALL, List.of(), true) : QueryRule.KEEP_ALL;
  }

  private List<String> patterns(JsonObject o, String prefix, String field) {
    Object v = o.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof JsonArray arr) || arr.isEmpty()) {
      throw loader.err(prefix + field, "expected a non-empty list of parameter names (\"*\" matches any run), got "
          + ConfigFields.describe(v));
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < arr.size(); i++) {
      if (!(arr.getValue(i) instanceof String s) || s.isEmpty() || s.contains("&") || s.contains("=")) {
        throw loader.err(prefix + field + "[" + i + "]", "expected a parameter name, got " + ConfigFields.describe(arr.getValue(i)));
      }
      out.add(s);
    }
    return out;
  }

  /** Header names (lower-cased) or cookie names (as given) added to the key. */
  private List<String> names(JsonObject o, String prefix, String field, boolean headers) {
    Object v = o.getValue(field);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof JsonArray arr)) {
      throw loader.err(prefix + field, "expected a list of " + (headers ? "header" : "cookie") + " names, got "
          + ConfigFields.describe(v));
    }
    Set<String> out = new LinkedHashSet<>();
    for (int i = 0; i < arr.size(); i++) {
      String at = prefix + field + "[" + i + "]";
      if (!(arr.getValue(i) instanceof String name) || !name.matches(TOKEN)) {
        throw loader.err(at, "expected a " + (headers ? "header" : "cookie") + " name, got "
            + ConfigFields.describe(arr.getValue(i)));
      }
      if (headers && name.equalsIgnoreCase("cookie")) {
        throw loader.err(at, "key on single cookies with cacheKey.cookies; the whole Cookie field would make one entry per visitor");
      }
      out.add(headers ? name.toLowerCase(Locale.ROOT) : name);
    }
    return List.copyOf(out);
  }

  private TtlRules ttl(JsonObject t, String tp) {
    loader.known(t, tp, Set.of("default", "min", "max", "negative", "force"));
    long def = t.getValue("default") == null ? -1 : loader.durationOrZero(t, tp, "default", 0) / 1000;
    long min = loader.durationOrZero(t, tp, "min", 0) / 1000;
    long max = t.getValue("max") == null ? -1 : loader.durationOrZero(t, tp, "max", 0) / 1000;
    if (max >= 0 && min > max) {
      throw loader.err(tp + "min", "is longer than " + tp + "max");
    }
    Map<Integer, Long> negative = new HashMap<>();
    if (t.getValue("negative") != null) {
      JsonObject n = object(t, tp, "negative");
      Set<String> statuses = new HashSet<>(n.fieldNames());
      for (String s : statuses) {
        int status;
        try {
          status = Integer.parseInt(s);
        } catch (NumberFormatException e) {
          status = -1;
        }
        if (!TtlRules.NEGATIVE_STATUSES.contains(status)) {
          throw loader.err(tp + "negative." + s, "only " + new TreeSet<>(TtlRules.NEGATIVE_STATUSES)
              + " may be cached as negative answers: other errors depend on the request (400, 413, 414, 431...)"
              + " or on the origin's health, and caching them would let one request deny the URL to everyone");
        }
        negative.put(status, loader.durationOrZero(n, tp + "negative.", s, 0) / 1000);
      }
    }
    boolean force = loader.bool(t, tp, "force", false);
    if (force && def < 0 && negative.isEmpty()) {
      throw loader.err(tp + "force", "needs a lifetime to force: set " + tp + "default or " + tp + "negative");
    }
    return new TtlRules(def, min, max, negative, force);
  }

  private JsonObject object(JsonObject o, String prefix, String key) {
    Object v = o.getValue(key);
    if (!(v instanceof JsonObject obj)) {
      throw loader.err(prefix + key, "expected an object, got " + ConfigFields.describe(v));
    }
    return obj;
  }
}
