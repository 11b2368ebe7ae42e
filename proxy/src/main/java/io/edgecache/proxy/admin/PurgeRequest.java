package io.edgecache.proxy.admin;

import io.edgecache.proxy.cache.CacheKey;
import io.edgecache.proxy.purge.PurgeService;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The body of {@code POST /purge}: {@code {"urls": [...], "prefixes": [...], "tags": [...],
 * "all": false, "soft": false}}. URLs and prefixes are absolute ({@code http://host/path}; https
 * is accepted and names the same entry) and become keys through {@link CacheKey#ofUrl}, the
 * builder every other path uses, so a URL purges exactly what a request for it would find. Parsing fails with an IllegalArgumentException whose
 * message names the offending field.
 */
record PurgeRequest(List<String> urlKeys, List<String> prefixKeys, List<String> tags, boolean all, boolean soft) {
  private static final Set<String> FIELDS = Set.of("urls", "prefixes", "tags", "all", "soft");

  static PurgeRequest parse(String body) {
    return parse(body, UnaryOperator.identity());
  }

  /** As {@link #parse(String)}, each URL's key passed through {@code routedKey} (a route's query rule). */
  static PurgeRequest parse(String body, UnaryOperator<String> routedKey) {
    JsonObject o;
    try {
      o = new JsonObject(body);
    } catch (DecodeException | ClassCastException e) {
      throw new IllegalArgumentException("body: not a JSON object");
    }
    for (String k : o.fieldNames()) {
      if (!FIELDS.contains(k)) {
        throw new IllegalArgumentException(k + ": unknown field (expected urls, prefixes, tags, all, soft)");
      }
    }
    List<String> urls = new ArrayList<>();
    for (String u : strings(o, "urls")) {
      urls.add(routedKey.apply(CacheKey.ofUrl(u, "urls")));
    }
    List<String> prefixes = new ArrayList<>();
    for (String p : strings(o, "prefixes")) {
      prefixes.add(CacheKey.ofUrl(p, "prefixes"));
    }
    List<String> tags = strings(o, "tags");
    boolean all = bool(o, "all");
    if (urls.isEmpty() && prefixes.isEmpty() && tags.isEmpty() && !all) {
      throw new IllegalArgumentException("body: nothing to purge (give urls, prefixes, tags or \"all\": true)");
    }
    return new PurgeRequest(urls, prefixes, tags, all, bool(o, "soft"));
  }

  private static List<String> strings(JsonObject o, String field) {
    Object v = o.getValue(field);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof JsonArray arr)) {
      throw new IllegalArgumentException(field + ": expected a list of strings");
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < arr.size(); i++) {
      if (!(arr.getValue(i) instanceof String s) || s.isBlank()) {
        throw new IllegalArgumentException(field + "[" + i + "]: expected a non-empty string");
      }
      out.add(s.trim());
    }
    return out;
  }

  private static boolean bool(JsonObject o, String field) {
    Object v = o.getValue(field);
    if (v == null) {
      return false;
    }
    if (!(v instanceof Boolean b)) {
      throw new IllegalArgumentException(field + ": expected true or false");
    }
    return b;
  }

  /** The purge to run. */
  PurgeService.Spec spec() {
    return new PurgeService.Spec(urlKeys, prefixKeys, tags, all, soft, false);
  }
}
