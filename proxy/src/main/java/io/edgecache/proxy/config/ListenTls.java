package io.edgecache.proxy.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads {@code listen.tls}: the HTTPS listener. Only the shape is checked here (keys, types,
 * ranges); whether the PEM files hold a usable certificate and key is checked when they are
 * loaded ({@code tls.TlsMaterial}), at start-up and on every reload, so that a broken new file
 * keeps the running certificate instead of refusing the whole configuration.
 *
 * <p>Messages follow {@link ConfigLoader}'s: one line naming the file, the key and the problem.
 */
final class ListenTls {
  static final int DEFAULT_PORT = 8443;
  static final int DEFAULT_MAX_CONCURRENT_STREAMS = 128;
  static final long DEFAULT_WATCH_INTERVAL_MS = 5_000;
  static final List<String> DEFAULT_PROTOCOLS = List.of("TLSv1.2", "TLSv1.3");
  private static final String P = "listen.tls.";

  private final String file;

  private ListenTls(String file) {
    this.file = file;
  }

  /** {@code raw} is the value of {@code listen.tls}; null when absent. */
  static ProxyConfig.Tls parse(String file, Object raw) {
    if (raw == null) {
      return null;
    }
    return new ListenTls(file).parse(raw);
  }

  private ProxyConfig.Tls parse(Object raw) {
    if (!(raw instanceof JsonObject o)) {
      throw err("listen.tls", "expected an object such as {\"port\": 8443, \"certFile\": \"cert.pem\", \"keyFile\": \"key.pem\"}");
    }
    Set<String> keys = Set.of("port", "certFile", "keyFile", "protocols", "http2", "maxConcurrentStreams", "watchInterval",
        "engine");
    for (String k : o.fieldNames()) {
      if (!keys.contains(k)) {
        throw err(P + k, "unknown key (expected one of " + String.join(", ", keys.stream().sorted().toList()) + ")");
      }
    }
    int port = integer(o, "port", DEFAULT_PORT, 0, 65535);
    String cert = file(o, "certFile");
    String key = file(o, "keyFile");
    List<String> protocols = DEFAULT_PROTOCOLS;
    Object rawProtocols = o.getValue("protocols");
    if (rawProtocols != null) {
      if (!(rawProtocols instanceof JsonArray arr) || arr.isEmpty()) {
        throw err(P + "protocols", "expected a non-empty list such as [\"TLSv1.2\", \"TLSv1.3\"]");
      }
      List<String> out = new ArrayList<>();
      for (int i = 0; i < arr.size(); i++) {
        Object v = arr.getValue(i);
        if (!"TLSv1.2".equals(v) && !"TLSv1.3".equals(v)) {
          throw err(P + "protocols[" + i + "]", "expected \"TLSv1.2\" or \"TLSv1.3\" (older versions are not offered), got "
              + (v instanceof String s ? "\"" + s + "\"" : String.valueOf(v)));
        }
        if (!out.contains(v)) {
          out.add((String) v);
        }
      }
      protocols = out;
    }
    Object h2 = o.getValue("http2");
    if (h2 != null && !(h2 instanceof Boolean)) {
      throw err(P + "http2", "expected true or false, got " + h2);
    }
    int streams = integer(o, "maxConcurrentStreams", DEFAULT_MAX_CONCURRENT_STREAMS, 1, 65535);
    long watch = watchInterval(o.getValue("watchInterval"));
    Object engine = o.getValue("engine");
    ProxyConfig.Tls.Engine e = engine == null || "auto".equals(engine) ? ProxyConfig.Tls.Engine.AUTO
        : "jdk".equals(engine) ? ProxyConfig.Tls.Engine.JDK : "openssl".equals(engine) ? ProxyConfig.Tls.Engine.OPENSSL : null;
    if (e == null) {
      throw err(P + "engine", "expected \"auto\", \"openssl\" or \"jdk\", got "
          + (engine instanceof String s ? "\"" + s + "\"" : String.valueOf(engine)));
    }
    return new ProxyConfig.Tls(port, cert, key, protocols, h2 == null || (Boolean) h2, streams, watch, e);
  }

  private String file(JsonObject o, String key) {
    Object v = o.getValue(key);
    if (v == null) {
      throw err(P + key, "missing: the path of a PEM file");
    }
    if (!(v instanceof String s) || s.isBlank()) {
      throw err(P + key, "expected the path of a PEM file, got " + v);
    }
    return s;
  }

  private int integer(JsonObject o, String key, int def, int min, int max) {
    Object v = o.getValue(key);
    if (v == null) {
      return def;
    }
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.longValue() < min
        || n.longValue() > max) {
      throw err(P + key, "expected an integer from " + min + " to " + max + ", got "
          + (v instanceof String s ? "\"" + s + "\"" : String.valueOf(v)));
    }
    return n.intValue();
  }

  /** A duration from 1s to 1h, or {@code "0s"} (no watching: files are read again on reload only). */
  private long watchInterval(Object v) {
    if (v == null) {
      return DEFAULT_WATCH_INTERVAL_MS;
    }
    if (!(v instanceof String s)) {
      throw err(P + "watchInterval", "expected a duration such as \"5s\", got " + v);
    }
    if (s.trim().matches("0+\\s*(ms|s|m|h|d)?")) {
      return 0;
    }
    long ms;
    try {
      ms = Units.parseDurationMillis(s);
    } catch (IllegalArgumentException e) {
      throw err(P + "watchInterval", e.getMessage());
    }
    if (ms < 1000 || ms > 3_600_000) {
      throw err(P + "watchInterval", "expected from 1s to 1h, or \"0s\" to check only on reload, got \"" + s + "\"");
    }
    return ms;
  }

  private ConfigException err(String key, String what) {
    return new ConfigException(file + ": " + key + ": " + what);
  }
}
