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
  private final ConfigFields f;

  private ConfigLoader(String file) {
    this.file = file;
    this.f = new ConfigFields(file);
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

  /** The sections in the order they are checked: the first problem found is the one reported. */
  private ProxyConfig build(JsonObject root) {
    f.known(root, "", Set.of("listen", "admin", "origins", "memory", "disk", "upstream", "limits", "cache", "purge",
        "accessLog", "shutdown", "cluster", "startup"));
    ProxyConfig.Listen listen = listen(root);
    ProxyConfig.Admin admin = admin(root);
    ProxyConfig.Purge purge = purge(root);
    List<ProxyConfig.Origin> origins = origins(root);
    for (int i = 0; i < origins.size(); i++) {
      if (origins.get(i).redirectHttps() && (listen.tls() == null || !listen.plain())) {
        throw f.err("origins[" + i + "].redirectHttps", "needs listen.tls and plain HTTP (listen.plain) to redirect from");
      }
    }
    ProxyConfig.Memory memory = memory(root);
    ProxyConfig.Disk disk = disk(root);
    ProxyConfig.Upstream upstream = upstream(root);
    ProxyConfig.Limits limits = limits(root);
    ProxyConfig.Cache cache = cache(root);
    ProxyConfig.AccessLog accessLog = accessLog(root);
    JsonObject sd = f.object(root, "shutdown");
    f.known(sd, "shutdown.", Set.of("drainTimeout"));
    ProxyConfig.Shutdown shutdown = new ProxyConfig.Shutdown(f.duration(sd, "shutdown.", "drainTimeout", 30_000));
    ProxyConfig.Startup startup = startup(root);
    ProxyConfig.Cluster cluster = cluster(root);
    if (!listen.plain() && cluster.mode() == ProxyConfig.Cluster.Mode.SHARDED && cluster.enabled()) {
      throw f.err("listen.plain", "false cannot be used with cluster.mode \"sharded\": members fetch from each other"
          + " over plain HTTP");
    }
    return new ProxyConfig(file, listen, admin, origins, memory, disk, upstream, limits, cache, purge, accessLog,
        shutdown, cluster, startup);
  }

  private ProxyConfig.Listen listen(JsonObject root) {
    JsonObject listen = f.object(root, "listen");
    f.known(listen, "listen.", Set.of("host", "port", "eventLoops", "tls", "plain", "transport"));
    int cores = Runtime.getRuntime().availableProcessors();
    ProxyConfig.Tls tls = ListenTls.parse(f, listen.getValue("tls"));
    boolean plain = f.bool(listen, "listen.", "plain", true);
    if (!plain && tls == null) {
      throw f.err("listen.plain", "false needs listen.tls: without plain HTTP and HTTPS nothing would listen");
    }
    ProxyConfig.Listen l = new ProxyConfig.Listen(
        f.string(listen, "listen.", "host", "0.0.0.0"),
        f.port(listen, "listen.", "port", 8080),
        f.integer(listen, "listen.", "eventLoops", cores, 1, 256), tls, plain,
        ProxyConfig.Transport.valueOf(f.oneOf(listen, "listen.", "transport", "auto", java.util.Arrays
            .stream(ProxyConfig.Transport.values()).map(ProxyConfig.Transport::value).toArray(String[]::new))
            .toUpperCase(java.util.Locale.ROOT)));
    if (tls != null && plain && tls.port() == l.port() && tls.port() != 0) {
      throw f.err("listen.tls.port", "must differ from listen.port (" + l.port() + ")");
    }
    return l;
  }

  private ProxyConfig.Admin admin(JsonObject root) {
    JsonObject admin = f.object(root, "admin");
    f.known(admin, "admin.", Set.of("host", "port", "token"));
    return new ProxyConfig.Admin(f.string(admin, "admin.", "host", "127.0.0.1"), f.port(admin, "admin.", "port", 9090),
        f.secret(admin, "admin.", "token"));
  }

  private ProxyConfig.Purge purge(JsonObject root) {
    JsonObject purge = f.object(root, "purge");
    f.known(purge, "purge.", Set.of("allow", "token", "exposeTags"));
    List<io.edgecache.proxy.purge.Cidr> allow = new ArrayList<>();
    Object allowRaw = purge.getValue("allow");
    if (allowRaw == null) {
      allow.add(io.edgecache.proxy.purge.Cidr.parse("127.0.0.0/8"));
      allow.add(io.edgecache.proxy.purge.Cidr.parse("::1/128"));
    } else if (!(allowRaw instanceof JsonArray allowArr)) {
      throw f.err("purge.allow", "expected a list of CIDRs such as [\"10.0.0.0/8\"], got " + ConfigFields.describe(allowRaw));
    } else {
      for (int i = 0; i < allowArr.size(); i++) {
        if (!(allowArr.getValue(i) instanceof String c)) {
          throw f.err("purge.allow[" + i + "]", "expected a CIDR string, got " + ConfigFields.describe(allowArr.getValue(i)));
        }
        try {
          allow.add(io.edgecache.proxy.purge.Cidr.parse(c));
        } catch (IllegalArgumentException e) {
          throw f.err("purge.allow[" + i + "]", e.getMessage());
        }
      }
    }
    return new ProxyConfig.Purge(List.copyOf(allow), f.secret(purge, "purge.", "token"),
        f.bool(purge, "purge.", "exposeTags", false));
  }

  private ProxyConfig.Memory memory(JsonObject root) {
    JsonObject memory = f.object(root, "memory");
    f.known(memory, "memory.", Set.of("maxBytes", "maxObjectBytes", "fillBufferBytes", "pressureThreshold"));
    long maxBytes = f.size(memory, "memory.", "maxBytes", 256L << 20);
    long maxObject = f.size(memory, "memory.", "maxObjectBytes", 8L << 20);
    if (maxObject > maxBytes) {
      throw f.err("memory.maxObjectBytes", "must not exceed memory.maxBytes (" + maxObject + " > " + maxBytes + ")");
    }
    if (maxBytes <= 0) {
      throw f.err("memory.maxBytes", "must be positive");
    }
    long fillBuffer = f.size(memory, "memory.", "fillBufferBytes", 256L << 20);
    if (fillBuffer < 1 << 20) {
      throw f.err("memory.fillBufferBytes", "must be at least 1MiB, got " + fillBuffer);
    }
    double pressure = f.number(memory, "memory.", "pressureThreshold", 0.9);
    if (pressure < 0.2 || pressure > 0.98) {
      throw f.err("memory.pressureThreshold", "expected a fraction of the heap from 0.2 to 0.98, got " + pressure);
    }
    return new ProxyConfig.Memory(maxBytes, maxObject, fillBuffer, pressure);
  }

  private ProxyConfig.Disk disk(JsonObject root) {
    JsonObject disk = f.object(root, "disk");
    f.known(disk, "disk.", Set.of("path", "maxBytes", "maxObjectBytes", "chunkBytes", "retryAfter", "minFreeBytes",
        "indexMaxBytes"));
    String diskPath = disk.getValue("path") == null ? null : f.string(disk, "disk.", "path", null);
    long diskMax = f.size(disk, "disk.", "maxBytes", 10L << 30);
    long diskMaxObject = f.size(disk, "disk.", "maxObjectBytes", 64L << 20);
    long chunk = f.size(disk, "disk.", "chunkBytes", DiskOptions.DEFAULT_CHUNK_BYTES);
    if (chunk < 4096 || chunk > (16L << 20)) {
      throw f.err("disk.chunkBytes", "expected a size from 4KiB to 16MiB, got " + chunk);
    }
    if (diskPath != null && diskMaxObject > diskMax) {
      throw f.err("disk.maxObjectBytes", "must not exceed disk.maxBytes (" + diskMaxObject + " > " + diskMax + ")");
    }
    if (diskPath != null && diskMaxObject > (long) DiskOptions.MAX_CHUNKS * chunk) {
      throw f.err("disk.maxObjectBytes", "expected at most " + DiskOptions.MAX_CHUNKS + " chunks of disk.chunkBytes ("
          + (long) DiskOptions.MAX_CHUNKS * chunk + " bytes with chunks of " + chunk + "; raise disk.chunkBytes), got "
          + diskMaxObject);
    }
    if (diskPath != null && diskMax < (1L << 20)) {
      throw f.err("disk.maxBytes", "must be at least 1MiB, got " + diskMax);
    }
    long indexMax = f.size(disk, "disk.", "indexMaxBytes", 128L << 20);
    if (indexMax < (1L << 20)) {
      throw f.err("disk.indexMaxBytes", "must be at least 1MiB, got " + indexMax);
    }
    return new ProxyConfig.Disk(diskPath, diskMax, diskMaxObject, (int) chunk,
        f.duration(disk, "disk.", "retryAfter", 30_000), f.size(disk, "disk.", "minFreeBytes", 64L << 20), indexMax);
  }

  private ProxyConfig.Upstream upstream(JsonObject root) {
    JsonObject up = f.object(root, "upstream");
    f.known(up, "upstream.", Set.of("connectTimeout", "responseTimeout", "idleTimeout", "maxConnectionsPerOrigin",
        "stripRequestHeaders", "bodyIdleTimeout"));
    return new ProxyConfig.Upstream(
        f.duration(up, "upstream.", "connectTimeout", 5_000),
        f.duration(up, "upstream.", "responseTimeout", 30_000),
        f.duration(up, "upstream.", "idleTimeout", 60_000),
        f.integer(up, "upstream.", "maxConnectionsPerOrigin", 256, 1, 65536),
        f.fieldNames(up, "upstream.", "stripRequestHeaders", ProxyConfig.Upstream.DEFAULT_STRIP_REQUEST_HEADERS),
        f.duration(up, "upstream.", "bodyIdleTimeout", 60_000));
  }

  private ProxyConfig.Limits limits(JsonObject root) {
    JsonObject lim = f.object(root, "limits");
    f.known(lim, "limits.", Set.of("maxRequestLineBytes", "maxHeaderBytes", "maxHeaderCount", "headerTimeout",
        "idleTimeout", "maxConnections", "maxVariants"));
    return new ProxyConfig.Limits(
        f.integer(lim, "limits.", "maxRequestLineBytes", 8192, 256, 1 << 20),
        f.integer(lim, "limits.", "maxHeaderBytes", 16384, 1024, 1 << 20),
        f.integer(lim, "limits.", "maxHeaderCount", 100, 8, 10000),
        f.duration(lim, "limits.", "headerTimeout", 10_000),
        f.duration(lim, "limits.", "idleTimeout", 60_000),
        f.integer(lim, "limits.", "maxConnections", 4096, 1, 1_000_000),
        f.integer(lim, "limits.", "maxVariants", 64, 1, 1024));
  }

  private ProxyConfig.Cache cache(JsonObject root) {
    JsonObject cache = f.object(root, "cache");
    f.known(cache, "cache.", Set.of("heuristicFraction", "heuristicMaxAge", "storeSetCookie", "staleOnOriginFailure",
        "clientDirectives"));
    double frac = f.number(cache, "cache.", "heuristicFraction", 0.1);
    if (frac < 0 || frac > 1) {
      throw f.err("cache.heuristicFraction", "expected a number from 0 to 1, got " + frac);
    }
    return new ProxyConfig.Cache(frac,
        f.duration(cache, "cache.", "heuristicMaxAge", 86_400_000) / 1000,
        f.bool(cache, "cache.", "storeSetCookie", false),
        f.durationOrZero(cache, "cache.", "staleOnOriginFailure", 600_000) / 1000,
        f.oneOf(cache, "cache.", "clientDirectives", "ignore", "ignore", "honor").equals("honor"));
  }

  private ProxyConfig.AccessLog accessLog(JsonObject root) {
    JsonObject al = f.object(root, "accessLog");
    f.known(al, "accessLog.", Set.of("enabled", "format"));
    String format = f.string(al, "accessLog.", "format", "combined");
    if (!format.equals("combined") && !format.equals("json")) {
      throw f.err("accessLog.format", "expected \"combined\" or \"json\", got \"" + format + "\"");
    }
    return new ProxyConfig.AccessLog(f.bool(al, "accessLog.", "enabled", true), format);
  }

  private ProxyConfig.Startup startup(JsonObject root) {
    JsonObject su = f.object(root, "startup");
    f.known(su, "startup.", Set.of("warmup"));
    long warmup = f.durationOrZero(su, "startup.", "warmup", 10_000);
    if (warmup > 60_000) {
      throw f.err("startup.warmup", "must be at most 60s, got " + warmup + "ms");
    }
    return new ProxyConfig.Startup(warmup);
  }

  private ProxyConfig.Cluster cluster(JsonObject root) {
    JsonObject c = f.object(root, "cluster");
    f.known(c, "cluster.", Set.of("enabled", "name", "bind", "members", "kubernetes", "mode", "advertiseUrl", "token",
        "eventBusPort", "peerTimeout", "purgeTimeout", "memberTimeout"));
    if (!f.bool(c, "cluster.", "enabled", false)) {
      return ProxyConfig.Cluster.DISABLED;
    }
    String name = f.string(c, "cluster.", "name", "edgecache");
    String bind = f.envOr(c, "cluster.", "bind", "127.0.0.1:5801");
    String[] hp = f.hostPort("cluster.bind", bind);
    List<String> members = new ArrayList<>();
    Object raw = c.getValue("members");
    if (raw != null) {
      if (!(raw instanceof JsonArray arr)) {
        throw f.err("cluster.members", "expected a list of host:port such as [\"10.0.0.1:5801\"], got " + ConfigFields.describe(raw));
      }
      for (int i = 0; i < arr.size(); i++) {
        if (!(arr.getValue(i) instanceof String m)) {
          throw f.err("cluster.members[" + i + "]", "expected host:port, got " + ConfigFields.describe(arr.getValue(i)));
        }
        String[] mp = f.hostPort("cluster.members[" + i + "]", m);
        members.add(mp[0] + ":" + mp[1]);
      }
    }
    String dns = null;
    if (c.getValue("kubernetes") != null) {
      JsonObject k = f.object(c, "kubernetes");
      f.known(k, "cluster.kubernetes.", Set.of("service", "namespace"));
      String service = f.requiredString(k, "cluster.kubernetes.", "service");
      String namespace = f.string(k, "cluster.kubernetes.", "namespace", "default");
      dns = service + "." + namespace + ".svc.cluster.local";
    }
    if (members.isEmpty() == (dns == null)) {
      throw f.err("cluster.members", members.isEmpty()
          ? "missing: list the members (host:port) or set cluster.kubernetes {\"service\": ...}"
          : "cluster.members and cluster.kubernetes exclude each other: use one way to find members");
    }
    String modeName = f.string(c, "cluster.", "mode", "replicated");
    ProxyConfig.Cluster.Mode mode = switch (modeName) {
      case "replicated" -> ProxyConfig.Cluster.Mode.REPLICATED;
      case "sharded" -> ProxyConfig.Cluster.Mode.SHARDED;
      default -> throw f.err("cluster.mode", "expected \"replicated\" or \"sharded\", got \"" + modeName + "\"");
    };
    String advertise = c.getValue("advertiseUrl") == null ? null : f.envOr(c, "cluster.", "advertiseUrl", null);
    if (advertise != null) {
      try {
        java.net.URI u = new java.net.URI(advertise);
        if (!"http".equals(u.getScheme()) || u.getHost() == null || u.getPort() < 0
            || u.getRawPath() != null && !u.getRawPath().isEmpty() && !u.getRawPath().equals("/")) {
          throw f.err("cluster.advertiseUrl", "expected http://host:port of this node's traffic port, got \"" + advertise
              + "\"");
        }
      } catch (java.net.URISyntaxException e) {
        throw f.err("cluster.advertiseUrl", "not a URL: \"" + advertise + "\"");
      }
      advertise = advertise.endsWith("/") ? advertise.substring(0, advertise.length() - 1) : advertise;
    }
    if (c.getValue("token") == null) {
      throw f.err("cluster.token", "missing: a shared secret of 16 characters or more (or \"env:NAME\") signs member"
          + " proofs and purges");
    }
    String token = f.secret(c, "cluster.", "token");
    int eventBusPort = f.port(c, "cluster.", "eventBusPort", 0);
    long peerTimeout = f.duration(c, "cluster.", "peerTimeout", 2000);
    long purgeTimeout = f.duration(c, "cluster.", "purgeTimeout", 1500);
    if (purgeTimeout > 10_000) {
      throw f.err("cluster.purgeTimeout", "at most 10s: a purge answer waits this long for missing members");
    }
    long memberTimeout = f.duration(c, "cluster.", "memberTimeout", 10_000);
    if (memberTimeout < 2000) {
      throw f.err("cluster.memberTimeout", "at least 2s: heartbeats are sent every second");
    }
    return new ProxyConfig.Cluster(true, name, hp[0], Integer.parseInt(hp[1]), members, dns, mode,
        advertise, token, eventBusPort,
        peerTimeout, purgeTimeout, memberTimeout);
  }

  private List<ProxyConfig.Origin> origins(JsonObject root) {
    Object raw = root.getValue("origins");
    if (raw == null) {
      throw f.err("origins", "missing: list at least one origin, e.g. [{\"name\": \"web\", \"url\": \"http://127.0.0.1:8000\", \"hosts\": [\"*\"]}]");
    }
    if (!(raw instanceof JsonArray arr)) {
      throw f.err("origins", "expected a list, got " + ConfigFields.describe(raw));
    }
    if (arr.isEmpty()) {
      throw f.err("origins", "must list at least one origin");
    }
    List<ProxyConfig.Origin> out = new ArrayList<>();
    Map<String, String> hostOwner = new HashMap<>();
    Map<String, Integer> names = new HashMap<>();
    for (int i = 0; i < arr.size(); i++) {
      String p = "origins[" + i + "].";
      if (!(arr.getValue(i) instanceof JsonObject o)) {
        throw f.err("origins[" + i + "]", "expected an object, got " + ConfigFields.describe(arr.getValue(i)));
      }
      f.known(o, p, union(Set.of("name", "hosts", "preserveHost", "routes", "redirectHttps"), PoolLoader.KEYS));
      String name = f.requiredString(o, p, "name");
      if (names.putIfAbsent(name, i) != null) {
        throw f.err(p + "name", "duplicate origin name \"" + name + "\"");
      }
      PoolLoader.Parsed pool = new PoolLoader(f).parse(o, p);
      Object hostsRaw = o.getValue("hosts");
      if (!(hostsRaw instanceof JsonArray hostsArr) || hostsArr.isEmpty()) {
        throw f.err(p + "hosts", "expected a non-empty list of host names or \"*\", got " + ConfigFields.describe(hostsRaw));
      }
      List<String> hosts = new ArrayList<>();
      for (int j = 0; j < hostsArr.size(); j++) {
        if (!(hostsArr.getValue(j) instanceof String h) || h.isBlank()) {
          throw f.err(p + "hosts[" + j + "]", "expected a host name, got " + ConfigFields.describe(hostsArr.getValue(j)));
        }
        String norm = normaliseHost(h);
        String prev = hostOwner.putIfAbsent(norm, name);
        if (prev != null) {
          throw f.err(p + "hosts[" + j + "]", "duplicate host \"" + norm + "\" (already routed to origin \"" + prev + "\")");
        }
        hosts.add(norm);
      }
      out.add(new ProxyConfig.Origin(name, pool.scheme(), pool.first().host(), pool.first().port(), List.copyOf(hosts),
          f.bool(o, p, "preserveHost", true), pool.pool(), new RouteLoader(f).routes(o, p), f.bool(o, p, "redirectHttps", false)));
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
}
