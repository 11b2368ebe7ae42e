package io.edgecache.proxy.config;

import io.edgecache.storage.DiskOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads and validates {@code proxy.json}. Every problem becomes a {@link ConfigException} whose
 * message is one line naming the file, the key and what is wrong, for example
 * {@code conf/proxy.json: listen.port: expected an integer from 0 to 65535, got "http"}.
 * Unknown keys are errors too: a typo must not silently fall back to a default.
 */
public final class ConfigLoader {
  private final String file;

  private ConfigLoader(String file) {
    this.file = file;
  }

  public static ProxyConfig load(Path path) {
    ConfigLoader l = new ConfigLoader(path.toString());
    String text;
    try {
      text = Files.readString(path, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigException(path + ": file not found");
    } catch (IOException e) {
      throw new ConfigException(path + ": cannot read: " + e.getMessage());
    }
    return l.parse(text);
  }

  /** Parses JSON text; {@code file} names it in messages. */
  public static ProxyConfig parse(String file, String json) {
    return new ConfigLoader(file).parse(json);
  }

  /** Validates an already-parsed JSON object (used by tests that build configs in code). */
  public static ProxyConfig fromJson(String file, JsonObject root) {
    return new ConfigLoader(file).build(root);
  }

  private ProxyConfig parse(String text) {
    JsonObject root;
    try {
      if (!text.strip().startsWith("{")) {
        throw new ConfigException(file + ": invalid JSON: the top level must be an object ({ ... })");
      }
      root = new JsonObject(text);
    } catch (DecodeException e) {
      String msg = e.getMessage() == null ? "" : e.getMessage().replace('\n', ' ');
      msg = msg.replaceFirst("^Failed to decode:\\s*", "");
      msg = msg.replaceAll("\\[Source: [^;\\]]*; (line: \\d+, column: \\d+)\\]", "$1").replaceAll("\\s+", " ");
      throw new ConfigException(file + ": invalid JSON: " + msg.trim());
    } catch (ClassCastException e) {
      throw new ConfigException(file + ": invalid JSON: the top level must be an object");
    }
    return build(root);
  }

  private ProxyConfig build(JsonObject root) {
    known(root, "", Set.of("listen", "admin", "origins", "memory", "disk", "upstream", "limits", "cache", "purge", "accessLog",
        "shutdown", "cluster", "startup"));

    JsonObject listen = object(root, "listen");
    known(listen, "listen.", Set.of("host", "port", "eventLoops", "tls", "plain", "transport"));
    int cores = Runtime.getRuntime().availableProcessors();
    ProxyConfig.Tls tls = ListenTls.parse(this, listen.getValue("tls"));
    boolean plain = bool(listen, "listen.", "plain", true);
    if (!plain && tls == null) {
      throw err("listen.plain", "false needs listen.tls: without plain HTTP and HTTPS nothing would listen");
    }
    ProxyConfig.Listen l = new ProxyConfig.Listen(
        string(listen, "listen.", "host", "0.0.0.0"),
        port(listen, "listen.", "port", 8080),
        integer(listen, "listen.", "eventLoops", cores, 1, 256), tls, plain,
        ProxyConfig.Transport.valueOf(oneOf(listen, "listen.", "transport", "auto", java.util.Arrays
            .stream(ProxyConfig.Transport.values()).map(ProxyConfig.Transport::value).toArray(String[]::new))
            .toUpperCase(java.util.Locale.ROOT)));
    if (tls != null && plain && tls.port() == l.port() && tls.port() != 0) {
      throw err("listen.tls.port", "must differ from listen.port (" + l.port() + ")");
    }

    JsonObject admin = object(root, "admin");
    known(admin, "admin.", Set.of("host", "port", "token"));
    ProxyConfig.Admin a = new ProxyConfig.Admin(
        string(admin, "admin.", "host", "127.0.0.1"), port(admin, "admin.", "port", 9090),
        secret(admin, "admin.", "token"));

    JsonObject purge = object(root, "purge");
    known(purge, "purge.", Set.of("allow", "token", "exposeTags"));
    List<io.edgecache.proxy.purge.Cidr> allow = new ArrayList<>();
    Object allowRaw = purge.getValue("allow");
    if (allowRaw == null) {
      allow.add(io.edgecache.proxy.purge.Cidr.parse("127.0.0.0/8"));
      allow.add(io.edgecache.proxy.purge.Cidr.parse("::1/128"));
    } else if (!(allowRaw instanceof JsonArray allowArr)) {
      throw err("purge.allow", "expected a list of CIDRs such as [\"10.0.0.0/8\"], got " + describe(allowRaw));
    } else {
      for (int i = 0; i < allowArr.size(); i++) {
        if (!(allowArr.getValue(i) instanceof String c)) {
          throw err("purge.allow[" + i + "]", "expected a CIDR string, got " + describe(allowArr.getValue(i)));
        }
        try {
          allow.add(io.edgecache.proxy.purge.Cidr.parse(c));
        } catch (IllegalArgumentException e) {
          throw err("purge.allow[" + i + "]", e.getMessage());
        }
      }
    }
    ProxyConfig.Purge pg = new ProxyConfig.Purge(List.copyOf(allow), secret(purge, "purge.", "token"),
        bool(purge, "purge.", "exposeTags", false));

    List<ProxyConfig.Origin> origins = origins(root);
    for (int i = 0; i < origins.size(); i++) {
      if (origins.get(i).redirectHttps() && (tls == null || !plain)) {
        throw err("origins[" + i + "].redirectHttps", "needs listen.tls and plain HTTP (listen.plain) to redirect from");
      }
    }

    JsonObject memory = object(root, "memory");
    known(memory, "memory.", Set.of("maxBytes", "maxObjectBytes", "fillBufferBytes", "pressureThreshold"));
    long maxBytes = size(memory, "memory.", "maxBytes", 256L << 20);
    long maxObject = size(memory, "memory.", "maxObjectBytes", 8L << 20);
    if (maxObject > maxBytes) {
      throw err("memory.maxObjectBytes", "must not exceed memory.maxBytes (" + maxObject + " > " + maxBytes + ")");
    }
    if (maxBytes <= 0) {
      throw err("memory.maxBytes", "must be positive");
    }

    JsonObject disk = object(root, "disk");
    known(disk, "disk.", Set.of("path", "maxBytes", "maxObjectBytes", "chunkBytes", "retryAfter", "minFreeBytes", "indexMaxBytes"));
    String diskPath = disk.getValue("path") == null ? null : string(disk, "disk.", "path", null);
    long diskMax = size(disk, "disk.", "maxBytes", 10L << 30);
    long diskMaxObject = size(disk, "disk.", "maxObjectBytes", 64L << 20);
    long chunk = size(disk, "disk.", "chunkBytes", 256L << 10);
    if (chunk < 4096 || chunk > (16L << 20)) {
      throw err("disk.chunkBytes", "expected a size from 4KiB to 16MiB, got " + chunk);
    }
    if (diskPath != null && diskMaxObject > diskMax) {
      throw err("disk.maxObjectBytes", "must not exceed disk.maxBytes (" + diskMaxObject + " > " + diskMax + ")");
    }
    if (diskPath != null && diskMaxObject > (long) DiskOptions.MAX_CHUNKS * chunk) {
      throw err("disk.maxObjectBytes", "expected at most " + DiskOptions.MAX_CHUNKS + " chunks of disk.chunkBytes ("
          + (long) DiskOptions.MAX_CHUNKS * chunk + " bytes with chunks of " + chunk + "; raise disk.chunkBytes), got "
          + diskMaxObject);
    }
    if (diskPath != null && diskMax < (1L << 20)) {
      throw err("disk.maxBytes", "must be at least 1MiB, got " + diskMax);
    }
    long indexMax = size(disk, "disk.", "indexMaxBytes", 128L << 20);
    if (indexMax < (1L << 20)) {
      throw err("disk.indexMaxBytes", "must be at least 1MiB, got " + indexMax);
    }
    ProxyConfig.Disk d = new ProxyConfig.Disk(diskPath, diskMax, diskMaxObject, (int) chunk,
        duration(disk, "disk.", "retryAfter", 30_000), size(disk, "disk.", "minFreeBytes", 64L << 20), indexMax);

    JsonObject up = object(root, "upstream");
    known(up, "upstream.", Set.of("connectTimeout", "responseTimeout", "idleTimeout", "maxConnectionsPerOrigin",
        "stripRequestHeaders", "bodyIdleTimeout"));
    ProxyConfig.Upstream u = new ProxyConfig.Upstream(
        duration(up, "upstream.", "connectTimeout", 5_000),
        duration(up, "upstream.", "responseTimeout", 30_000),
        duration(up, "upstream.", "idleTimeout", 60_000),
        integer(up, "upstream.", "maxConnectionsPerOrigin", 256, 1, 65536),
        fieldNames(up, "upstream.", "stripRequestHeaders", ProxyConfig.Upstream.DEFAULT_STRIP_REQUEST_HEADERS),
        duration(up, "upstream.", "bodyIdleTimeout", 60_000));

    JsonObject lim = object(root, "limits");
    known(lim, "limits.", Set.of("maxRequestLineBytes", "maxHeaderBytes", "maxHeaderCount", "headerTimeout", "idleTimeout",
        "maxConnections", "maxVariants"));
    ProxyConfig.Limits li = new ProxyConfig.Limits(
        integer(lim, "limits.", "maxRequestLineBytes", 8192, 256, 1 << 20),
        integer(lim, "limits.", "maxHeaderBytes", 16384, 1024, 1 << 20),
        integer(lim, "limits.", "maxHeaderCount", 100, 8, 10000),
        duration(lim, "limits.", "headerTimeout", 10_000),
        duration(lim, "limits.", "idleTimeout", 60_000),
        integer(lim, "limits.", "maxConnections", 4096, 1, 1_000_000),
        integer(lim, "limits.", "maxVariants", 64, 1, 1024));

    JsonObject cache = object(root, "cache");
    known(cache, "cache.", Set.of("heuristicFraction", "heuristicMaxAge", "storeSetCookie", "staleOnOriginFailure",
        "clientDirectives"));
    double frac = number(cache, "cache.", "heuristicFraction", 0.1);
    if (frac < 0 || frac > 1) {
      throw err("cache.heuristicFraction", "expected a number from 0 to 1, got " + frac);
    }
    ProxyConfig.Cache c = new ProxyConfig.Cache(frac,
        duration(cache, "cache.", "heuristicMaxAge", 86_400_000) / 1000,
        bool(cache, "cache.", "storeSetCookie", false),
        durationOrZero(cache, "cache.", "staleOnOriginFailure", 600_000) / 1000,
        oneOf(cache, "cache.", "clientDirectives", "ignore", "ignore", "honor").equals("honor"));

    JsonObject al = object(root, "accessLog");
    known(al, "accessLog.", Set.of("enabled", "format"));
    String format = string(al, "accessLog.", "format", "combined");
    if (!format.equals("combined") && !format.equals("json")) {
      throw err("accessLog.format", "expected \"combined\" or \"json\", got \"" + format + "\"");
    }
    ProxyConfig.AccessLog accessLog = new ProxyConfig.AccessLog(bool(al, "accessLog.", "enabled", true), format);
    JsonObject sd = object(root, "shutdown");
    known(sd, "shutdown.", Set.of("drainTimeout"));
    ProxyConfig.Shutdown shutdown = new ProxyConfig.Shutdown(duration(sd, "shutdown.", "drainTimeout", 30_000));
    JsonObject su = object(root, "startup");
    known(su, "startup.", Set.of("warmup"));
    long warmup = durationOrZero(su, "startup.", "warmup", 10_000);
    if (warmup > 60_000) {
      throw err("startup.warmup", "must be at most 60s, got " + warmup + "ms");
    }
    long fillBuffer = size(memory, "memory.", "fillBufferBytes", 256L << 20);
    if (fillBuffer < 1 << 20) {
      throw err("memory.fillBufferBytes", "must be at least 1MiB, got " + fillBuffer);
    }
    double pressure = number(memory, "memory.", "pressureThreshold", 0.9);
    if (pressure < 0.2 || pressure > 0.98) {
      throw err("memory.pressureThreshold", "expected a fraction of the heap from 0.2 to 0.98, got " + pressure);
    }
    ProxyConfig.Cluster cl = cluster(root);
    if (!plain && cl.mode() == ProxyConfig.Cluster.Mode.SHARDED && cl.enabled()) {
      throw err("listen.plain", "false cannot be used with cluster.mode \"sharded\": members fetch from each other over plain HTTP");
    }
    return new ProxyConfig(file, l, a, origins, new ProxyConfig.Memory(maxBytes, maxObject, fillBuffer, pressure), d, u,
        li, c, pg, accessLog, shutdown, cl, new ProxyConfig.Startup(warmup));
  }

  private ProxyConfig.Cluster cluster(JsonObject root) {
    JsonObject c = object(root, "cluster");
    known(c, "cluster.", Set.of("enabled", "name", "bind", "members", "kubernetes", "mode", "advertiseUrl", "token",
        "eventBusPort", "peerTimeout", "purgeTimeout", "memberTimeout"));
    if (!bool(c, "cluster.", "enabled", false)) {
      return ProxyConfig.Cluster.DISABLED;
    }
    String name = string(c, "cluster.", "name", "edgecache");
    String bind = envOr(c, "cluster.", "bind", "127.0.0.1:5801");
    String[] hp = hostPort("cluster.bind", bind);
    List<String> members = new ArrayList<>();
    Object raw = c.getValue("members");
    if (raw != null) {
      if (!(raw instanceof JsonArray arr)) {
        throw err("cluster.members", "expected a list of host:port such as [\"10.0.0.1:5801\"], got " + describe(raw));
      }
      for (int i = 0; i < arr.size(); i++) {
        if (!(arr.getValue(i) instanceof String m)) {
          throw err("cluster.members[" + i + "]", "expected host:port, got " + describe(arr.getValue(i)));
        }
        String[] mp = hostPort("cluster.members[" + i + "]", m);
        members.add(mp[0] + ":" + mp[1]);
      }
    }
    String dns = null;
    if (c.getValue("kubernetes") != null) {
      JsonObject k = object(c, "kubernetes");
      known(k, "cluster.kubernetes.", Set.of("service", "namespace"));
      String service = requiredString(k, "cluster.kubernetes.", "service");
      String namespace = string(k, "cluster.kubernetes.", "namespace", "default");
      dns = service + "." + namespace + ".svc.cluster.local";
    }
    if (members.isEmpty() == (dns == null)) {
      throw err("cluster.members", members.isEmpty()
          ? "missing: list the members (host:port) or set cluster.kubernetes {\"service\": ...}"
          : "cluster.members and cluster.kubernetes exclude each other: use one way to find members");
    }
    String modeName = string(c, "cluster.", "mode", "replicated");
    ProxyConfig.Cluster.Mode mode = switch (modeName) {
      case "replicated" -> ProxyConfig.Cluster.Mode.REPLICATED;
      case "sharded" -> ProxyConfig.Cluster.Mode.SHARDED;
      default -> throw err("cluster.mode", "expected \"replicated\" or \"sharded\", got \"" + modeName + "\"");
    };
    String advertise = c.getValue("advertiseUrl") == null ? null : envOr(c, "cluster.", "advertiseUrl", null);
    if (advertise != null) {
      try {
        java.net.URI u = new java.net.URI(advertise);
        if (!"http".equals(u.getScheme()) || u.getHost() == null || u.getPort() < 0
            || u.getRawPath() != null && !u.getRawPath().isEmpty() && !u.getRawPath().equals("/")) {
          throw err("cluster.advertiseUrl", "expected http://host:port of this node's traffic port, got \"" + advertise
              + "\"");
        }
      } catch (java.net.URISyntaxException e) {
        throw err("cluster.advertiseUrl", "not a URL: \"" + advertise + "\"");
      }
      advertise = advertise.endsWith("/") ? advertise.substring(0, advertise.length() - 1) : advertise;
    }
    if (c.getValue("token") == null) {
      throw err("cluster.token", "missing: a shared secret of 16 characters or more (or \"env:NAME\") signs member"
          + " proofs and purges");
    }
    String token = secret(c, "cluster.", "token");
    int eventBusPort = port(c, "cluster.", "eventBusPort", 0);
    long peerTimeout = duration(c, "cluster.", "peerTimeout", 2000);
    long purgeTimeout = duration(c, "cluster.", "purgeTimeout", 1500);
    if (purgeTimeout > 10_000) {
      throw err("cluster.purgeTimeout", "at most 10s: a purge answer waits this long for missing members");
    }
    long memberTimeout = duration(c, "cluster.", "memberTimeout", 10_000);
    if (memberTimeout < 2000) {
      throw err("cluster.memberTimeout", "at least 2s: heartbeats are sent every second");
    }
    return new ProxyConfig.Cluster(true, name, hp[0], Integer.parseInt(hp[1]), members, dns, mode,
        advertise, token, eventBusPort,
        peerTimeout, purgeTimeout, memberTimeout);
  }

  /** A string that may be {@code "env:NAME"}, read from the environment (e.g. a pod IP expanded into it). */
  private String envOr(JsonObject o, String prefix, String key, String def) {
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
  private String[] hostPort(String key, String s) {
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

  private List<ProxyConfig.Origin> origins(JsonObject root) {
    Object raw = root.getValue("origins");
    if (raw == null) {
      throw err("origins", "missing: list at least one origin, e.g. [{\"name\": \"web\", \"url\": \"http://127.0.0.1:8000\", \"hosts\": [\"*\"]}]");
    }
    if (!(raw instanceof JsonArray arr)) {
      throw err("origins", "expected a list, got " + describe(raw));
    }
    if (arr.isEmpty()) {
      throw err("origins", "must list at least one origin");
    }
    List<ProxyConfig.Origin> out = new ArrayList<>();
    Map<String, String> hostOwner = new HashMap<>();
    Map<String, Integer> names = new HashMap<>();
    for (int i = 0; i < arr.size(); i++) {
      String p = "origins[" + i + "].";
      if (!(arr.getValue(i) instanceof JsonObject o)) {
        throw err("origins[" + i + "]", "expected an object, got " + describe(arr.getValue(i)));
      }
      known(o, p, union(Set.of("name", "hosts", "preserveHost", "routes", "redirectHttps"), PoolLoader.KEYS));
      String name = requiredString(o, p, "name");
      if (names.putIfAbsent(name, i) != null) {
        throw err(p + "name", "duplicate origin name \"" + name + "\"");
      }
      PoolLoader.Parsed pool = new PoolLoader(this).parse(o, p);
      Object hostsRaw = o.getValue("hosts");
      if (!(hostsRaw instanceof JsonArray hostsArr) || hostsArr.isEmpty()) {
        throw err(p + "hosts", "expected a non-empty list of host names or \"*\", got " + describe(hostsRaw));
      }
      List<String> hosts = new ArrayList<>();
      for (int j = 0; j < hostsArr.size(); j++) {
        if (!(hostsArr.getValue(j) instanceof String h) || h.isBlank()) {
          throw err(p + "hosts[" + j + "]", "expected a host name, got " + describe(hostsArr.getValue(j)));
        }
        String norm = normaliseHost(h);
        String prev = hostOwner.putIfAbsent(norm, name);
        if (prev != null) {
          throw err(p + "hosts[" + j + "]", "duplicate host \"" + norm + "\" (already routed to origin \"" + prev + "\")");
        }
        hosts.add(norm);
      }
      out.add(new ProxyConfig.Origin(name, pool.scheme(), pool.first().host(), pool.first().port(), List.copyOf(hosts),
          bool(o, p, "preserveHost", true), pool.pool(), new RouteLoader(this).routes(o, p), bool(o, p, "redirectHttps", false)));
    }
    return List.copyOf(out);
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> all = new java.util.HashSet<>(a);
    all.addAll(b);
    return all;
  }

  /** Lower case, without a port; IPv6 literals keep their brackets. */
  public static String normaliseHost(String h) {
    String s = h.trim().toLowerCase(Locale.ROOT);
    if (s.startsWith("[")) {
      int end = s.indexOf(']');
      return end > 0 ? s.substring(0, end + 1) : s;
    }
    int colon = s.indexOf(':');
    return colon >= 0 ? s.substring(0, colon) : s;
  }

  void known(JsonObject o, String prefix, Set<String> keys) {
    for (String k : o.fieldNames()) {
      if (!keys.contains(k)) {
        throw err(prefix + k, "unknown key (expected one of " + String.join(", ", keys.stream().sorted().toList()) + ")");
      }
    }
  }

  private JsonObject object(JsonObject root, String key) {
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
  private String secret(JsonObject o, String prefix, String key) {
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

  private int port(JsonObject o, String prefix, String key, int def) {
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

  private double number(JsonObject o, String prefix, String key, double def) {
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
  private Set<String> fieldNames(JsonObject o, String prefix, String key, Set<String> def) {
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

  private long size(JsonObject o, String prefix, String key, long def) {
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
