package io.edgecache.proxy.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Typed reads of one configuration file's JSON values, shared by {@link ConfigLoader} and the
 * section loaders ({@link ListenTls}, {@link PoolLoader}, {@link RouteLoader}). Each read names the
 * key it reads ({@code prefix + key}, e.g. {@code listen.} and {@code port}); a value of the wrong
 * type or out of range becomes a {@link ConfigException} of one line naming the file, the key and
 * what was expected, for example
 * {@code conf/proxy.json: listen.port: expected an integer from 0 to 65535, got "http"}. An absent
 * key reads as the default given.
 */
final class ConfigFields {
  private final String file;

  ConfigFields(String file) {
    this.file = file;
  }

  /** The file named in messages. */
  String file() {
    return file;
  }

  /** A string that may be {@code "env:NAME"}, read from the environment (e.g. a pod IP expanded into it). */
  String envOr(JsonObject o, String prefix, String key, String def) {
    String s = string(o, prefix, key, def);
    if (s.startsWith("env:")) {
      String value = System.getenv(s.substring(4));
      if (value == null || value.isBlank()) {
        throw err(prefix + key, "environment variable " + s.substring(4) + " is not set");
      }
      return value.strip();
    }
    return s;
  }

  /** {@code host:port} (IPv6 in brackets) split into host and port; a port from 1 to 65535. */
  String[] hostPort(String key, String s) {
    int colon = s.lastIndexOf(':');
    if (colon <= 0 || colon == s.length() - 1) {
      throw err(key, "expected host:port, got \"" + s + "\"");
    }
    String host = s.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw err(key, "expected host:port, got \"" + s + "\"");
    }
    if (port < 1 || port > 65535 || host.isBlank()) {
      throw err(key, "expected host:port with a port from 1 to 65535, got \"" + s + "\"");
    }
    return new String[] {host, Integer.toString(port)};
  }

  void known(JsonObject o, String prefix, Set<String> keys) {
    for (String k : o.fieldNames()) {
      if (!keys.contains(k)) {
        throw err(prefix + k, "unknown key (expected one of " + String.join(", ", keys.stream().sorted().toList()) + ")");
      }
    }
  }

  JsonObject object(JsonObject root, String key) {
    Object v = root.getValue(key);
    if (v == null) {
      return new JsonObject();
    }
    if (!(v instanceof JsonObject o)) {
      throw err(key, "expected an object, got " + describe(v));
    }
    return o;
  }

  String string(JsonObject o, String prefix, String key, String def) {
    Object v = o.getValue(key);
    if (v == null) {
      return def;
    }
    if (!(v instanceof String s) || s.isBlank()) {
      throw err(prefix + key, "expected a non-empty string, got " + describe(v));
    }
    return s;
  }

  /**
   * A secret: null when absent; a literal string; or {@code "env:NAME"}, read from the environment
   * (so a Kubernetes Secret can supply it). An empty or missing variable is an error, and a token
   * from either source must have 16 characters or more.
   */
  String secret(JsonObject o, String prefix, String key) {
    Object v = o.getValue(key);
    if (v == null) {
      return null;
    }
    String s = string(o, prefix, key, null);
    if (s.startsWith("env:")) {
      String value = System.getenv(s.substring(4));
      if (value == null || value.isEmpty()) {
        throw err(prefix + key, "environment variable " + s.substring(4) + " is not set");
      }
      // strip: a Secret made with --from-file usually ends in a newline no client would send
      if (value.strip().length() < 16) { // the value itself never goes into the message
        throw err(prefix + key, "environment variable " + s.substring(4) + " holds a token under 16 characters");
      }
      return value.strip();
    }
    if (s.length() < 16) {
      throw err(prefix + key, "a token must be at least 16 characters");
    }
    return s;
  }

  /** A string that must be one of {@code allowed}; {@code def} when absent. */
  String oneOf(JsonObject o, String prefix, String key, String def, String... allowed) {
    String v = string(o, prefix, key, def);
    for (String a : allowed) {
      if (a.equals(v)) {
        return v;
      }
    }
    throw err(prefix + key, "expected one of \"" + String.join("\", \"", allowed) + "\", got \"" + v + "\"");
  }

  String requiredString(JsonObject o, String prefix, String key) {
    if (o.getValue(key) == null) {
      throw err(prefix + key, "missing");
    }
    return string(o, prefix, key, null);
  }

  int port(JsonObject o, String prefix, String key, int def) {
    return integer(o, prefix, key, def, 0, 65535);
  }

  int integer(JsonObject o, String prefix, String key, int def, int min, int max) {
    Object v = o.getValue(key);
    if (v == null) {
      return def;
    }
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())
        || n.longValue() < min || n.longValue() > max) {
      throw err(prefix + key, "expected an integer from " + min + " to " + max + ", got " + describe(v));
    }
    return n.intValue();
  }

  double number(JsonObject o, String prefix, String key, double def) {
    Object v = o.getValue(key);
    if (v == null) {
      return def;
    }
    if (!(v instanceof Number n)) {
      throw err(prefix + key, "expected a number, got " + describe(v));
    }
    return n.doubleValue();
  }

  boolean bool(JsonObject o, String prefix, String key, boolean def) {
    Object v = o.getValue(key);
    if (v == null) {
      return def;
    }
    if (!(v instanceof Boolean b)) {
      throw err(prefix + key, "expected true or false, got " + describe(v));
    }
    return b;
  }

  /**
   * A list of header field names (RFC 9110 5.1 tokens), lower-cased; {@code def} when absent. The
   * fields that frame or address a message are the proxy's own and cannot be listed.
   */
  Set<String> fieldNames(JsonObject o, String prefix, String key, Set<String> def) {
    Object v = o.getValue(key);
    if (v == null) {
      return def;
    }
    if (!(v instanceof JsonArray arr)) {
      throw err(prefix + key, "expected a list of header names such as [\"X-Original-URL\"], got " + describe(v));
    }
    Set<String> out = new LinkedHashSet<>();
    for (int i = 0; i < arr.size(); i++) {
      String at = prefix + key + "[" + i + "]";
      if (!(arr.getValue(i) instanceof String name) || !name.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
        throw err(at, "expected a header name, got " + describe(arr.getValue(i)));
      }
      String lower = name.toLowerCase(Locale.ROOT);
      if (lower.equals("host") || lower.equals("content-length") || lower.equals("transfer-encoding")) {
        throw err(at, "\"" + name + "\" is set by the proxy itself and cannot be removed");
      }
      out.add(lower);
    }
    return out;
  }

  long size(JsonObject o, String prefix, String key, long def) {
    Object v = o.getValue(key);
    if (v == null) {
      return def;
    }
    if (v instanceof Number n && n.longValue() >= 0 && n.doubleValue() == Math.rint(n.doubleValue())) {
      return n.longValue();
    }
    if (!(v instanceof String s)) {
      throw err(prefix + key, "expected a size such as \"256MiB\", got " + describe(v));
    }
    try {
      return Units.parseSize(s);
    } catch (IllegalArgumentException e) {
      throw err(prefix + key, e.getMessage());
    }
  }

  long durationOrZero(JsonObject o, String prefix, String key, long defMs) {
    Object v = o.getValue(key);
    if (v instanceof String s && s.trim().matches("0+\\s*(ms|s|m|h|d)?")) {
      return 0;
    }
    return duration(o, prefix, key, defMs);
  }

  long duration(JsonObject o, String prefix, String key, long defMs) {
    Object v = o.getValue(key);
    if (v == null) {
      return defMs;
    }
    if (!(v instanceof String s)) {
      throw err(prefix + key, "expected a duration such as \"5s\", got " + describe(v));
    }
    try {
      long ms = Units.parseDurationMillis(s);
      if (ms <= 0) {
        throw err(prefix + key, "must be positive, got \"" + s + "\"");
      }
      return ms;
    } catch (IllegalArgumentException e) {
      throw err(prefix + key, e.getMessage());
    }
  }

  static String describe(Object v) {
    if (v == null) {
      return "nothing";
    }
    if (v instanceof String s) {
      return "\"" + s + "\"";
    }
    if (v instanceof JsonObject) {
      return "an object";
    }
    if (v instanceof JsonArray) {
      return "a list";
    }
    return String.valueOf(v);
  }

  ConfigException err(String key, String what) {
    return new ConfigException(file + ": " + key + ": " + what);
  }
}
