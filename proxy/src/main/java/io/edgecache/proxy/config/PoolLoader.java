package io.edgecache.proxy.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads the server-pool keys of one {@code origins[i]} object for {@link ConfigLoader}: either
 * {@code url} (a pool of one) or {@code servers}, plus {@code balance}, {@code healthCheck},
 * {@code ejectAfter}, {@code ejectFor} and {@code tls}. Messages have ConfigLoader's form:
 * {@code file: origins[0].servers[1].weight: expected an integer from 1 to 1000, got 0}.
 */
final class PoolLoader {
  /** The keys of an origin object read here. */
  static final Set<String> KEYS = Set.of("url", "servers", "balance", "healthCheck", "ejectAfter", "ejectFor", "tls");

  /** The scheme every server of the origin shares, and the pool. */
  record Parsed(String scheme, PoolConfig pool) {
    /** The first server: what {@code ProxyConfig.Origin}'s host and port name. */
    PoolConfig.Server first() {
      return pool.servers().get(0);
    }
  }

  private final ConfigFields loader;

  PoolLoader(ConfigFields loader) {
    this.loader = loader;
  }

  /** Reads the pool of origin object {@code o}, whose keys are named with {@code prefix} ({@code origins[i].}). */
  Parsed parse(JsonObject o, String prefix) {
    Object url = o.getValue("url");
    Object servers = o.getValue("servers");
    if ((url == null) == (servers == null)) {
      throw url == null ? err(prefix + "url", "missing: give the origin's \"url\" (one server) or \"servers\" (a list)")
          : err(prefix + "servers", "\"url\" and \"servers\" exclude each other: list every server under \"servers\"");
    }
    String scheme = null;
    List<PoolConfig.Server> list = new ArrayList<>();
    if (url != null) {
      if (!(url instanceof String u) || u.isBlank()) {
        throw err(prefix + "url", "expected a non-empty string, got " + describe(url));
      }
      Endpoint e = endpoint(prefix + "url", u);
      scheme = e.scheme();
      list.add(new PoolConfig.Server(e.host(), e.port(), 1));
    } else {
      if (!(servers instanceof JsonArray arr) || arr.isEmpty()) {
        throw err(prefix + "servers", "expected a non-empty list of URLs or {\"url\": ..., \"weight\": ...}, got "
            + describe(servers));
      }
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < arr.size(); i++) {
        String at = prefix + "servers[" + i + "]";
        Object s = arr.getValue(i);
        String u;
        int weight = 1;
        if (s instanceof String str) {
          u = str;
        } else if (s instanceof JsonObject so) {
          known(so, at + ".", Set.of("url", "weight"));
          if (!(so.getValue("url") instanceof String str) || str.isBlank()) {
            throw err(at + ".url", so.getValue("url") == null ? "missing" : "expected a URL, got "
                + describe(so.getValue("url")));
          }
          u = str;
          weight = integer(so, at + ".", "weight", 1, 1, 1000);
        } else {
          throw err(at, "expected a URL or {\"url\": ..., \"weight\": ...}, got " + describe(s));
        }
        String urlKey = s instanceof String ? at : at + ".url";
        Endpoint e = endpoint(urlKey, u);
        if (scheme != null && !scheme.equals(e.scheme())) {
          throw err(urlKey, "all servers of an origin share one scheme: expected " + scheme + "://, got \"" + u + "\"");
        }
        scheme = e.scheme();
        PoolConfig.Server server = new PoolConfig.Server(e.host(), e.port(), weight);
        if (!seen.add(server.id())) {
          throw err(urlKey, "duplicate server " + server.id());
        }
        list.add(server);
      }
    }
    PoolConfig.Balance balance = PoolConfig.Balance.ROUND_ROBIN;
    if (o.getValue("balance") != null) {
      String b = string(o, prefix, "balance");
      balance = PoolConfig.Balance.of(b);
      if (balance == null) {
        throw err(prefix + "balance", "expected \"round-robin\", \"least-connections\" or \"hash\", got \"" + b + "\"");
      }
    }
    PoolConfig.HealthCheck hc = o.getValue("healthCheck") == null ? null : healthCheck(o, prefix);
    int ejectAfter = integer(o, prefix, "ejectAfter", PoolConfig.DEFAULT_EJECT_AFTER, 0, 1000);
    long ejectFor = duration(o, prefix, "ejectFor", PoolConfig.DEFAULT_EJECT_FOR_MS);
    PoolConfig.Tls tls = PoolConfig.Tls.DEFAULT;
    if (o.getValue("tls") != null) {
      if (!scheme.equals("https")) {
        throw err(prefix + "tls", "only for https:// servers (this origin's are " + scheme + "://)");
      }
      tls = tls(o, prefix);
    }
    return new Parsed(scheme, new PoolConfig(list, balance, hc, ejectAfter, ejectFor, tls));
  }

  private record Endpoint(String scheme, String host, int port) {}

  private Endpoint endpoint(String key, String url) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw err(key, "not a URL: \"" + url + "\"");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw err(key, "expected an http:// or https:// URL, got \"" + url + "\"");
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw err(key, "URL has no host: \"" + url + "\"");
    }
    if (uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/")) {
      throw err(key, "a path in the origin URL is not supported: \"" + url + "\"");
    }
    int port = uri.getPort() > 0 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
    return new Endpoint(scheme, uri.getHost(), port);
  }

  private PoolConfig.HealthCheck healthCheck(JsonObject o, String prefix) {
    if (!(o.getValue("healthCheck") instanceof JsonObject h)) {
      throw err(prefix + "healthCheck", "expected an object such as {\"path\": \"/healthz\"}, got "
          + describe(o.getValue("healthCheck")));
    }
    String p = prefix + "healthCheck.";
    known(h, p, Set.of("path", "host", "interval", "timeout", "healthy", "unhealthy"));
    String path = h.getValue("path") == null ? "/" : string(h, p, "path");
    if (!path.startsWith("/") || path.chars().anyMatch(c -> c <= ' ' || c >= 0x7f)) {
      throw err(p + "path", "expected an origin-form path such as \"/healthz\", got \"" + path + "\"");
    }
    String host = h.getValue("host") == null ? null : string(h, p, "host");
    if (host != null && !host.matches("[A-Za-z0-9.:\\[\\]-]+")) {
      throw err(p + "host", "expected a host name (and port), got \"" + host + "\"");
    }
    long interval = duration(h, p, "interval", 5_000);
    if (interval < 100) {
      throw err(p + "interval", "at least 100ms (each server is probed this often), got \"" + h.getValue("interval")
          + "\"");
    }
    return new PoolConfig.HealthCheck(path, host, interval, duration(h, p, "timeout", 2_000),
        integer(h, p, "healthy", 2, 1, 100), integer(h, p, "unhealthy", 3, 1, 100));
  }

  private PoolConfig.Tls tls(JsonObject o, String prefix) {
    if (!(o.getValue("tls") instanceof JsonObject t)) {
      throw err(prefix + "tls", "expected an object such as {\"caFile\": \"ca.pem\"}, got " + describe(o.getValue("tls")));
    }
    String p = prefix + "tls.";
    known(t, p, Set.of("caFile", "certFile", "keyFile", "verify"));
    Object v = t.getValue("verify");
    if (v != null && !(v instanceof Boolean)) {
      throw err(p + "verify", "expected true or false, got " + describe(v));
    }
    boolean verify = v == null || (Boolean) v;
    String ca = pem(t, p, "caFile", "CERTIFICATE");
    String cert = pem(t, p, "certFile", "CERTIFICATE");
    String key = pem(t, p, "keyFile", "PRIVATE KEY");
    if ((cert == null) != (key == null)) {
      throw err(p + (cert == null ? "certFile" : "keyFile"), "a client certificate needs both certFile and keyFile");
    }
    if (!verify && ca != null) {
      throw err(p + "caFile", "has no effect with \"verify\": false (nothing is checked): remove one of them");
    }
    return new PoolConfig.Tls(ca, cert, key, verify);
  }

  /** A readable PEM file holding a block whose label ends in {@code label}, or null when the key is absent. */
  private String pem(JsonObject o, String prefix, String key, String label) {
    if (o.getValue(key) == null) {
      return null;
    }
    String f = string(o, prefix, key);
    String text;
    try {
      text = Files.readString(Path.of(f), StandardCharsets.US_ASCII);
    } catch (IOException | RuntimeException e) {
      throw err(prefix + key, "cannot read \"" + f + "\" (" + e.getClass().getSimpleName() + ")");
    }
    if (!text.matches("(?s).*-----BEGIN [A-Z ]*" + label + "-----.*")) {
      throw err(prefix + key, "\"" + f + "\" holds no PEM " + label + " block");
    }
    return f;
  }

  private void known(JsonObject o, String prefix, Set<String> keys) {
    loader.known(o, prefix, keys);
  }

  /** A non-empty string; only called when the key is present. */
  private String string(JsonObject o, String prefix, String key) {
    return loader.string(o, prefix, key, null);
  }

  private int integer(JsonObject o, String prefix, String key, int def, int min, int max) {
    return loader.integer(o, prefix, key, def, min, max);
  }

  private long duration(JsonObject o, String prefix, String key, long defMs) {
    return loader.duration(o, prefix, key, defMs);
  }

  private static String describe(Object v) {
    return ConfigFields.describe(v);
  }

  private ConfigException err(String key, String what) {
    return loader.err(key, what);
  }
}
