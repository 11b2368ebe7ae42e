package io.edgecache.proxy.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Property tests for {@link ConfigLoader#fromJson}: a valid configuration with one known key set
 * to an arbitrary JSON value either loads or fails with a {@link ConfigException} whose message is
 * one line naming that key (or the section that holds it). No other exception may escape: a typo
 * in {@code proxy.json} must read as a sentence, never as a stack trace.
 */
class ConfigLoaderPropertyTest {
  /** Every key the loader knows, as a path; {@code origins[0]} is the one origin of the base config. */
  private static final List<String> KEYS = List.of(
      "listen", "listen.host", "listen.port", "listen.eventLoops",
      "admin", "admin.host", "admin.port", "admin.token",
      "origins", "origins[0]", "origins[0].name", "origins[0].url", "origins[0].hosts", "origins[0].preserveHost",
      "origins[0].servers", "origins[0].balance", "origins[0].healthCheck", "origins[0].ejectAfter",
      "origins[0].ejectFor", "origins[0].tls",
      "memory", "memory.maxBytes", "memory.maxObjectBytes", "memory.fillBufferBytes",
      "disk", "disk.path", "disk.maxBytes", "disk.maxObjectBytes", "disk.chunkBytes",
      "upstream", "upstream.connectTimeout", "upstream.responseTimeout", "upstream.idleTimeout",
      "upstream.maxConnectionsPerOrigin",
      "limits", "limits.maxRequestLineBytes", "limits.maxHeaderBytes", "limits.maxHeaderCount", "limits.headerTimeout",
      "limits.idleTimeout",
      "cache", "cache.heuristicFraction", "cache.heuristicMaxAge", "cache.storeSetCookie", "cache.staleOnOriginFailure",
      "purge", "purge.allow", "purge.token", "purge.exposeTags",
      "accessLog", "accessLog.enabled", "accessLog.format",
      "shutdown", "shutdown.drainTimeout",
      "startup", "startup.warmup");

  @Property(tries = 1000)
  void fromJson_anyValueForAKnownKey_loadsOrFailsWithOneLineNamingTheKey(@ForAll("keys") String key,
      @ForAll("values") Object value) {
    JsonObject root = base();
    put(root, key, value);

    try {
      ConfigLoader.fromJson("fuzz.json", root);
    } catch (ConfigException e) {
      String m = e.getMessage();
      assertFalse(m.contains("\n") || m.contains("\r"), () -> "not one line: " + m);
      assertTrue(m.startsWith("fuzz.json: "), m);
      assertTrue(m.contains(section(key)), () -> key + " = " + value + " gave: " + m);
    }
  }

  @Provide
  Arbitrary<String> keys() {
    return Arbitraries.of(KEYS);
  }

  /** Scalars of every JSON type, unit-like strings, strings with control characters, lists and objects. */
  @Provide
  Arbitrary<Object> values() {
    Arbitrary<Object> scalars = Arbitraries.oneOf(
        Arbitraries.strings().ofMaxLength(30).map(s -> s),
        Arbitraries.strings().withChars("0123456789.-+ emskKMGTiBbhd:/[]*\n\r\t\"").ofMaxLength(12).map(s -> s),
        Arbitraries.of("5s", "0", "0s", "-1s", "1e400", "8MiB", "1.5GiB", "99999999999999999999TiB", "env:", "env:NOPE_NOT_SET",
            "env:PATH", "http://", "https://h:99999", "http://h/p", "ftp://h", "*", "10.0.0.0/33", "::1/129", "\u0000",
            "line\nbreak", "json", "combined", "0.0.0.0", "a-token-that-is-long-enough").map(s -> s),
        Arbitraries.integers().map(i -> i), Arbitraries.longs().map(l -> l),
        Arbitraries.doubles().map(d -> d),
        Arbitraries.of(0.5, -0.0, 1e300, Double.MAX_VALUE, Double.MIN_VALUE).map(d -> d),
        Arbitraries.of(new BigInteger("123456789012345678901234567890"), new BigDecimal("1.5e400")).map(n -> n),
        Arbitraries.of(true, false).map(b -> b));
    Arbitrary<Object> lists = scalars.list().ofMaxSize(3).map(l -> new JsonArray(List.copyOf(l)));
    Arbitrary<Object> objects = scalars.list().ofMaxSize(3).map(l -> {
      JsonObject o = new JsonObject();
      for (int i = 0; i < l.size(); i++) {
        o.put(i % 2 == 0 ? "port" : "k" + i, l.get(i));
      }
      return o;
    });
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(8, scalars), net.jqwik.api.Tuple.of(1, lists), net.jqwik.api.Tuple.of(1, objects));
  }

  private static JsonObject base() {
    return new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 8080))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 9090))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "web").put("url", "http://127.0.0.1:8000")
            .put("hosts", new JsonArray().add("*"))))
        .put("memory", new JsonObject().put("maxBytes", "64MiB"))
        .put("disk", new JsonObject())
        .put("upstream", new JsonObject())
        .put("limits", new JsonObject())
        .put("cache", new JsonObject())
        .put("purge", new JsonObject())
        .put("accessLog", new JsonObject())
        .put("shutdown", new JsonObject())
        .put("startup", new JsonObject());
  }

  /** Sets the value at a path such as {@code memory.maxBytes} or {@code origins[0].url}. */
  private static void put(JsonObject root, String key, Object value) {
    String[] parts = key.split("\\.");
    if (parts.length == 1) {
      if (parts[0].equals("origins[0]")) {
        root.getJsonArray("origins").set(0, value);
      } else {
        root.put(parts[0], value);
      }
      return;
    }
    JsonObject section = parts[0].equals("origins[0]")
        ? root.getJsonArray("origins").getJsonObject(0) : root.getJsonObject(parts[0]);
    section.put(parts[1], value);
  }

  /**
   * What the message must name: the key itself, except that a failed size check of a section may
   * name its sibling ({@code memory.maxObjectBytes: must not exceed memory.maxBytes}), so the
   * section's prefix is accepted for keys inside a section.
   */
  private static String section(String key) {
    int dot = key.indexOf('.');
    return dot < 0 ? key : key.substring(0, dot + 1);
  }
}
