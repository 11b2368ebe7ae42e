package io.edgecache.proxy.admin;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The body of {@code POST /purge}: {@code {"urls": [...], "prefixes": [...], "tags": [...],
 * "all": false, "soft": false}}. URLs and prefixes are absolute ({@code http://host/path}; https
 * is accepted and means the same cache key). Parsing fails with an IllegalArgumentException whose
 * message names the offending field.
 */
record PurgeRequest(List<String> urlKeys, List<String> prefixKeys, List<String> tags, boolean all, boolean soft) {
  private static final Set<String> FIELDS = Set.of("urls", "prefixes", "tags", "all", "soft");

  static PurgeRequest parse(String body) {
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
      urls.add(key(u, "urls"));
    }
    List<String> prefixes = new ArrayList<>();
    for (String p : strings(o, "prefixes")) {
      prefixes.add(key(p, "prefixes"));
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

  /** The cache key of an absolute URL: http://host[:port]/path?query, host lower case, port 80 dropped. */
  static String key(String url, String field) {
    URI u;
    try {
      u = new URI(url);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(field + ": not a URL: " + url);
    }
    String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
    if (!(scheme.equals("http") || scheme.equals("https")) || u.getHost() == null) {
      throw new IllegalArgumentException(field + ": expected an absolute http(s) URL, got " + url);
    }
    int port = u.getPort();
    String host = u.getHost().toLowerCase(Locale.ROOT) + (port > 0 && port != 80 && port != 443 ? ":" + port : "");
    String path = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
    return "http://" + host + path + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
  }
}
