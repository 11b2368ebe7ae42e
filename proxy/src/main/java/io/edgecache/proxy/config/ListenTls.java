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

  private final ConfigFields loader;

  private ListenTls(ConfigFields loader) {
    this.loader = loader;
  }

  /** {@code raw} is the value of {@code listen.tls}; null when absent. */
  static ProxyConfig.Tls parse(ConfigFields loader, Object raw) {
    if (raw == null) {
      return null;
    }
    return new ListenTls(loader).parse(raw);
  }

  private ProxyConfig.Tls parse(Object raw) {
    if (!(raw instanceof JsonObject o)) {
      throw err("listen.tls", "expected an object such as {\"port\": 8443, \"certFile\": \"cert.pem\", \"keyFile\": \"key.pem\"}");
    }
    loader.known(o, P, Set.of("port", "certFile", "keyFile", "protocols", "http2", "maxConcurrentStreams",
        "watchInterval", "engine"));
    int port = loader.integer(o, P, "port", DEFAULT_PORT, 0, 65535);
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
    boolean h2 = loader.bool(o, P, "http2", true);
    int streams = loader.integer(o, P, "maxConcurrentStreams", DEFAULT_MAX_CONCURRENT_STREAMS, 1, 65535);
    long watch = watchInterval(o);
    ProxyConfig.Tls.Engine e = switch (loader.oneOf(o, P, "engine", "auto", "auto", "openssl", "jdk")) {
      case "jdk" -> ProxyConfig.Tls.Engine.JDK;
      case "openssl" -> ProxyConfig.Tls.Engine.OPENSSL;
      default -> ProxyConfig.Tls.Engine.AUTO;
    };
    return new ProxyConfig.Tls(port, cert, key, protocols, h2, streams, watch, e);
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

  /** A duration from 1s to 1h, or {@code "0s"} (no watching: files are read again on reload only). */
  private long watchInterval(JsonObject o) {
    long ms = loader.durationOrZero(o, P, "watchInterval", DEFAULT_WATCH_INTERVAL_MS);
    if (ms != 0 && (ms < 1000 || ms > 3_600_000)) {
      throw err(P + "watchInterval", "expected from 1s to 1h, or \"0s\" to check only on reload, got \""
          + o.getValue("watchInterval") + "\"");
    }
    return ms;
  }

  private ConfigException err(String key, String what) {
    return loader.err(key, what);
  }
}
