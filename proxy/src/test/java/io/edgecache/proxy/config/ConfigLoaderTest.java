package io.edgecache.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  private static final String FILE = "conf/proxy.json";
  private static final String ORIGIN = "{\"name\": \"web\", \"url\": \"http://127.0.0.1:8000\", \"hosts\": [\"*\"]}";

  /** A valid config: one origin plus the given extra top-level members (JSON text, may be empty). */
  private static String config(String extraMembers) {
    return "{\"origins\": [" + ORIGIN + "]" + (extraMembers.isEmpty() ? "" : ", " + extraMembers) + "}";
  }

  private static String withOrigins(String... origins) {
    return "{\"origins\": [" + String.join(", ", origins) + "]}";
  }

  private static ProxyConfig parse(String json) {
    return ConfigLoader.parse(FILE, json);
  }

  /** Parses, expects a ConfigException, checks that its message is one line naming the file. */
  private static String error(String json) {
    ConfigException e = assertThrows(ConfigException.class, () -> parse(json));
    String msg = e.getMessage();
    assertFalse(msg.contains("\n") || msg.contains("\r"), () -> "message must be one line: " + msg);
    assertTrue(msg.startsWith(FILE + ": "), () -> "message must name the file: " + msg);
    return msg;
  }

  private static void assertErrorStartsWith(String expectedPrefix, String json) {
    String msg = error(json);
    assertTrue(msg.startsWith(expectedPrefix), () -> "expected \"" + expectedPrefix + "...\", got: " + msg);
  }

  // ---------------------------------------------------------------- listen.transport

  @Test
  void parse_transport_defaultsToAuto_andReadsEachName() {
    assertEquals(ProxyConfig.Transport.AUTO, parse(config("")).listen().transport());
    assertEquals(ProxyConfig.Transport.IO_URING,
        parse(config("\"listen\": {\"transport\": \"io_uring\"}")).listen().transport());
    assertEquals(ProxyConfig.Transport.EPOLL, parse(config("\"listen\": {\"transport\": \"epoll\"}")).listen().transport());
    assertEquals(ProxyConfig.Transport.NIO, parse(config("\"listen\": {\"transport\": \"nio\"}")).listen().transport());
  }

  @Test
  void parse_unknownTransport_namesTheKeyAndTheChoices() {
    assertEquals(FILE + ": listen.transport: expected one of \"auto\", \"io_uring\", \"epoll\", \"nio\", got \"kqueue\"",
        error(config("\"listen\": {\"transport\": \"kqueue\"}")));
  }

  @Test
  void reloadPlan_changedTransport_needsARestart() {
    ProxyConfig started = parse(config(""));
    ProxyConfig next = parse(config("\"listen\": {\"transport\": \"nio\"}"));
    assertEquals(List.of("listen"), ReloadPlan.between(started, started, next).restartNeeded());
    assertEquals(List.of(), ReloadPlan.between(started, started, parse(config(""))).restartNeeded());
  }

  // ---------------------------------------------------------------- cluster

  private static final String TOKEN = "\"token\": \"0123456789abcdef-cluster\"";

  @Test
  void parse_noCluster_isDisabled() {
    assertFalse(parse(config("")).cluster().enabled());
    assertFalse(parse(config("\"cluster\": {\"enabled\": false}")).cluster().enabled());
  }

  @Test
  void parse_clusterWithMembers_readsEveryKey() {
    ProxyConfig.Cluster c = parse(config("\"cluster\": {\"enabled\": true, \"name\": \"edge\", "
        + "\"bind\": \"127.0.0.1:5801\", \"members\": [\"127.0.0.1:5801\", \"127.0.0.2:5801\"], "
        + "\"mode\": \"sharded\", \"advertiseUrl\": \"http://127.0.0.1:8080/\", " + TOKEN + ", "
        + "\"eventBusPort\": 5802, \"peerTimeout\": \"500ms\", \"purgeTimeout\": \"1s\", "
        + "\"memberTimeout\": \"5s\"}")).cluster();
    assertTrue(c.enabled());
    assertEquals("edge", c.name());
    assertEquals("127.0.0.1", c.bindHost());
    assertEquals(5801, c.bindPort());
    assertEquals(java.util.List.of("127.0.0.1:5801", "127.0.0.2:5801"), c.members());
    assertEquals(ProxyConfig.Cluster.Mode.SHARDED, c.mode());
    assertEquals("http://127.0.0.1:8080", c.advertiseUrl());
    assertEquals(5802, c.eventBusPort());
    assertEquals(500, c.peerTimeoutMs());
    assertEquals(1000, c.purgeTimeoutMs());
    assertEquals(5000, c.memberTimeoutMs());
  }

  @Test
  void parse_clusterWithKubernetes_usesTheServiceDnsName() {
    ProxyConfig.Cluster c = parse(config("\"cluster\": {\"enabled\": true, \"kubernetes\": "
        + "{\"service\": \"edgecache-cluster\", \"namespace\": \"edge\"}, " + TOKEN + "}")).cluster();
    assertEquals("edgecache-cluster.edge.svc.cluster.local", c.kubernetesDns());
    assertTrue(c.members().isEmpty());
    assertEquals(ProxyConfig.Cluster.Mode.REPLICATED, c.mode());
  }

  @Test
  void parse_clusterMistakes_areOneLineNamingTheKey() {
    assertErrorStartsWith(FILE + ": cluster.token: missing",
        config("\"cluster\": {\"enabled\": true, \"members\": [\"127.0.0.1:5801\"]}"));
    assertErrorStartsWith(FILE + ": cluster.members: missing",
        config("\"cluster\": {\"enabled\": true, " + TOKEN + "}"));
    assertErrorStartsWith(FILE + ": cluster.members: cluster.members and cluster.kubernetes exclude each other",
        config("\"cluster\": {\"enabled\": true, \"members\": [\"a:1\"], \"kubernetes\": {\"service\": \"s\"}, "
            + TOKEN + "}"));
    assertErrorStartsWith(FILE + ": cluster.members[0]: expected host:port",
        config("\"cluster\": {\"enabled\": true, \"members\": [\"10.0.0.1\"], " + TOKEN + "}"));
    assertErrorStartsWith(FILE + ": cluster.mode: expected \"replicated\" or \"sharded\"",
        config("\"cluster\": {\"enabled\": true, \"members\": [\"a:1\"], \"mode\": \"ring\", " + TOKEN + "}"));
    assertErrorStartsWith(FILE + ": cluster.token: a token must be at least 16 characters",
        config("\"cluster\": {\"enabled\": true, \"members\": [\"a:1\"], \"token\": \"short\"}"));
    assertErrorStartsWith(FILE + ": cluster.advertiseUrl: expected http://host:port",
        config("\"cluster\": {\"enabled\": true, \"members\": [\"a:1\"], \"advertiseUrl\": \"https://a/\", "
            + TOKEN + "}"));
    assertErrorStartsWith(FILE + ": cluster.purgeTimeout: at most 10s",
        config("\"cluster\": {\"enabled\": true, \"members\": [\"a:1\"], \"purgeTimeout\": \"30s\", " + TOKEN + "}"));
    assertErrorStartsWith(FILE + ": cluster.gossip: ",
        config("\"cluster\": {\"enabled\": true, \"members\": [\"a:1\"], \"gossip\": true, " + TOKEN + "}"));
  }

  // ---------------------------------------------------------------- defaults

  @Test
  void parse_startupWarmup_defaultsTo10sAcceptsZeroAndRefusesNonsense() {
    assertEquals(10_000, parse(config("")).startup().warmupMs());
    assertEquals(0, parse(config("\"startup\": {\"warmup\": \"0s\"}")).startup().warmupMs());
    assertEquals(2_500, parse(config("\"startup\": {\"warmup\": \"2500ms\"}")).startup().warmupMs());
    assertErrorStartsWith(FILE + ": startup.warmup: must be at most 60s", config("\"startup\": {\"warmup\": \"2m\"}"));
    assertErrorStartsWith(FILE + ": startup.warmup: ", config("\"startup\": {\"warmup\": 5}"));
    assertErrorStartsWith(FILE + ": startup.warmupp: ", config("\"startup\": {\"warmupp\": \"1s\"}"));
  }

  @Test
  void parse_minimalConfig_boundsIndexConnectionsAndVariants() {
    ProxyConfig c = parse(config(""));

    assertEquals(128L << 20, c.disk().indexMaxBytes());
    assertEquals(4096, c.limits().maxConnections());
    assertEquals(64, c.limits().maxVariants());
  }

  @Test
  void parse_indexMaxBytesBelowOneMiB_isRejectedNamingTheKey() {
    assertErrorStartsWith(FILE + ": disk.indexMaxBytes: must be at least 1MiB",
        config("\"disk\": {\"path\": \"/tmp/x\", \"indexMaxBytes\": \"512k\"}"));
  }

  @Test
  void parse_diskMaxObjectBytesOfTwoGiB_isAcceptedWithTheDefaultChunks() {
    ProxyConfig c = parse(config("\"disk\": {\"path\": \"/tmp/x\", \"maxObjectBytes\": \"2GiB\"}"));
    assertEquals(2L << 30, c.disk().maxObjectBytes());
  }

  @Test
  void parse_diskMaxObjectBytesOfMoreChunksThanAllowed_isOneLineSayingToRaiseChunkBytes() {
    assertErrorStartsWith(FILE + ": disk.maxObjectBytes: expected at most 65536 chunks of disk.chunkBytes (268435456"
            + " bytes with chunks of 4096; raise disk.chunkBytes), got 1073741824",
        config("\"disk\": {\"path\": \"/tmp/x\", \"maxObjectBytes\": \"1GiB\", \"chunkBytes\": \"4KiB\"}"));
  }

  @Test
  void parse_maxConnectionsZero_isRejectedNamingTheKey() {
    assertErrorStartsWith(FILE + ": limits.maxConnections: ", config("\"limits\": {\"maxConnections\": 0}"));
  }

  @Test
  void parse_minimalConfig_listensOnPort8080OfAllInterfaces() {
    ProxyConfig c = parse(config(""));

    assertEquals(8080, c.listen().port());
    assertEquals("0.0.0.0", c.listen().host());
  }

  @Test
  void parse_minimalConfig_adminListensOnLoopback9090() {
    ProxyConfig c = parse(config(""));

    assertEquals("127.0.0.1", c.admin().host());
    assertEquals(9090, c.admin().port());
  }

  @Test
  void parse_minimalConfig_memoryIs256MiBWith8MiBObjects() {
    ProxyConfig c = parse(config(""));

    assertEquals(256L << 20, c.memory().maxBytes());
    assertEquals(8L << 20, c.memory().maxObjectBytes());
  }

  @Test
  void parse_minimalConfig_cacheDefaults() {
    ProxyConfig.Cache cache = parse(config("")).cache();

    assertEquals(0.1, cache.heuristicFraction());
    assertEquals(86400, cache.heuristicMaxAgeSeconds());
    assertFalse(cache.storeSetCookie());
    assertEquals(600, cache.staleOnOriginFailureSeconds());
  }

  @Test
  void parse_minimalConfig_namesTheSource() {
    assertEquals(FILE, parse(config("")).source());
  }

  @Test
  void parse_origin_isReadWithDefaultPreserveHost() {
    ProxyConfig.Origin o = parse(config("")).origins().get(0);

    assertEquals(new ProxyConfig.Origin("web", "http", "127.0.0.1", 8000, List.of("*"), true), o);
  }

  @Test
  void parse_httpsOriginWithoutPort_usesPort443() {
    ProxyConfig c = parse(withOrigins("{\"name\": \"s\", \"url\": \"https://example.com\", \"hosts\": [\"*\"]}"));

    assertEquals(443, c.origins().get(0).port());
    assertTrue(c.origins().get(0).tls());
  }

  @Test
  void parse_originHosts_areLowerCasedWithoutPort() {
    ProxyConfig c = parse(withOrigins("{\"name\": \"a\", \"url\": \"http://o\", \"hosts\": [\"WWW.Example.com:8080\", \"[::1]:80\"]}"));

    assertEquals(List.of("www.example.com", "[::1]"), c.origins().get(0).hosts());
  }

  @Test
  void parse_sizesAndDurations_areConverted() {
    ProxyConfig c = parse(config("\"memory\": {\"maxBytes\": \"1GiB\", \"maxObjectBytes\": 1048576},"
        + " \"upstream\": {\"connectTimeout\": \"250ms\", \"responseTimeout\": \"1m\"}"));

    assertEquals(1L << 30, c.memory().maxBytes());
    assertEquals(1L << 20, c.memory().maxObjectBytes());
    assertEquals(250, c.upstream().connectTimeoutMs());
    assertEquals(60_000, c.upstream().responseTimeoutMs());
  }

  @Test
  void parse_bodyIdleTimeout_defaultsTo60sAndIsRead() {
    assertEquals(60_000, parse(config("\"upstream\": {}")).upstream().bodyIdleTimeoutMs());
    assertEquals(2_500, parse(config("\"upstream\": {\"bodyIdleTimeout\": \"2500ms\"}")).upstream().bodyIdleTimeoutMs());
  }

  @Test
  void parse_bodyIdleTimeoutZero_isAnError() {
    assertEquals(FILE + ": upstream.bodyIdleTimeout: must be positive, got \"0s\"",
        error(config("\"upstream\": {\"bodyIdleTimeout\": \"0s\"}")));
  }

  @Test
  void parse_staleOnOriginFailureZero_turnsItOff() {
    assertEquals(0, parse(config("\"cache\": {\"staleOnOriginFailure\": \"0s\"}")).cache().staleOnOriginFailureSeconds());
  }

  // ---------------------------------------------------------------- errors

  @Test
  void parse_unknownTopLevelKey_isAnError() {
    assertErrorStartsWith(FILE + ": lisen: unknown key (expected one of accessLog, admin, cache, cluster, disk, limits, listen,",
        config("\"lisen\": {}"));
  }

  @Test
  void parse_unknownNestedKey_isAnErrorNamingThePath() {
    assertErrorStartsWith(FILE + ": listen.prot: unknown key", config("\"listen\": {\"prot\": 80}"));
  }

  @Test
  void parse_portOfWrongType_isAnError() {
    assertEquals(FILE + ": listen.port: expected an integer from 0 to 65535, got \"http\"",
        error(config("\"listen\": {\"port\": \"http\"}")));
  }

  @Test
  void parse_portOutOfRange_isAnError() {
    assertEquals(FILE + ": listen.port: expected an integer from 0 to 65535, got 70000",
        error(config("\"listen\": {\"port\": 70000}")));
  }

  @Test
  void parse_negativeAdminPort_isAnError() {
    assertErrorStartsWith(FILE + ": admin.port: expected an integer", config("\"admin\": {\"port\": -1}"));
  }

  @Test
  void parse_fractionalPort_isAnError() {
    assertErrorStartsWith(FILE + ": listen.port: expected an integer", config("\"listen\": {\"port\": 80.5}"));
  }

  @Test
  void parse_sectionOfWrongType_isAnError() {
    assertEquals(FILE + ": listen: expected an object, got 8080", error(config("\"listen\": 8080")));
  }

  @Test
  void parse_booleanOfWrongType_isAnError() {
    assertEquals(FILE + ": cache.storeSetCookie: expected true or false, got \"yes\"",
        error(config("\"cache\": {\"storeSetCookie\": \"yes\"}")));
  }

  @Test
  void parse_originUrlWithOtherScheme_isAnError() {
    assertEquals(FILE + ": origins[0].url: expected an http:// or https:// URL, got \"ftp://example.com\"",
        error(withOrigins("{\"name\": \"a\", \"url\": \"ftp://example.com\", \"hosts\": [\"*\"]}")));
  }

  @Test
  void parse_originUrlWithoutScheme_isAnError() {
    assertErrorStartsWith(FILE + ": origins[0].url: expected an http:// or https:// URL",
        withOrigins("{\"name\": \"a\", \"url\": \"example.com:80\", \"hosts\": [\"*\"]}"));
  }

  @Test
  void parse_originUrlWithPath_isAnError() {
    assertErrorStartsWith(FILE + ": origins[0].url: a path in the origin URL is not supported",
        withOrigins("{\"name\": \"a\", \"url\": \"http://example.com/app\", \"hosts\": [\"*\"]}"));
  }

  @Test
  void parse_missingOrigins_isAnError() {
    assertErrorStartsWith(FILE + ": origins: missing", "{}");
  }

  @Test
  void parse_emptyOrigins_isAnError() {
    assertEquals(FILE + ": origins: must list at least one origin", error("{\"origins\": []}"));
  }

  @Test
  void parse_originWithoutName_isAnError() {
    assertEquals(FILE + ": origins[0].name: missing",
        error(withOrigins("{\"url\": \"http://o\", \"hosts\": [\"*\"]}")));
  }

  @Test
  void parse_originWithoutHosts_isAnError() {
    assertErrorStartsWith(FILE + ": origins[0].hosts: expected a non-empty list",
        withOrigins("{\"name\": \"a\", \"url\": \"http://o\", \"hosts\": []}"));
  }

  @Test
  void parse_sameHostInTwoOrigins_isAnError() {
    String json = withOrigins(
        "{\"name\": \"a\", \"url\": \"http://o1\", \"hosts\": [\"example.com\"]}",
        "{\"name\": \"b\", \"url\": \"http://o2\", \"hosts\": [\"other.com\", \"Example.COM:8080\"]}");

    assertEquals(FILE + ": origins[1].hosts[1]: duplicate host \"example.com\" (already routed to origin \"a\")",
        error(json));
  }

  @Test
  void parse_duplicateOriginName_isAnError() {
    String json = withOrigins(
        "{\"name\": \"web\", \"url\": \"http://o1\", \"hosts\": [\"a.com\"]}",
        "{\"name\": \"web\", \"url\": \"http://o2\", \"hosts\": [\"b.com\"]}");

    assertEquals(FILE + ": origins[1].name: duplicate origin name \"web\"", error(json));
  }

  @Test
  void parse_sizeNotASize_isAnError() {
    assertErrorStartsWith(FILE + ": memory.maxBytes: expected a size such as \"256MiB\"",
        config("\"memory\": {\"maxBytes\": \"lots\"}"));
  }

  @Test
  void parse_sizeWithUnknownUnit_isAnError() {
    assertErrorStartsWith(FILE + ": memory.maxBytes: unknown size unit \"parsecs\"",
        config("\"memory\": {\"maxBytes\": \"12parsecs\"}"));
  }

  @Test
  void parse_negativeSize_isAnError() {
    assertErrorStartsWith(FILE + ": memory.maxBytes: expected a size", config("\"memory\": {\"maxBytes\": -1}"));
  }

  @Test
  void parse_durationNotADuration_isAnError() {
    assertErrorStartsWith(FILE + ": upstream.connectTimeout: expected a duration such as \"500ms\"",
        config("\"upstream\": {\"connectTimeout\": \"5 minutes\"}"));
  }

  @Test
  void parse_durationAsNumber_isAnError() {
    assertEquals(FILE + ": upstream.connectTimeout: expected a duration such as \"5s\", got 5",
        error(config("\"upstream\": {\"connectTimeout\": 5}")));
  }

  @Test
  void parse_zeroDuration_isAnError() {
    assertEquals(FILE + ": upstream.connectTimeout: must be positive, got \"0s\"",
        error(config("\"upstream\": {\"connectTimeout\": \"0s\"}")));
  }

  @Test
  void parse_minimalConfig_stripsReroutingRequestFields() {
    ProxyConfig.Upstream up = parse(config("")).upstream();

    assertEquals(ProxyConfig.Upstream.DEFAULT_STRIP_REQUEST_HEADERS, up.stripRequestHeaders());
    assertTrue(up.stripRequestHeaders().contains("x-original-url"));
    assertTrue(up.stripRequestHeaders().contains("x-forwarded-prefix"));
  }

  @Test
  void parse_stripRequestHeaders_replacesTheDefaultLowerCased() {
    ProxyConfig.Upstream up = parse(config("\"upstream\": {\"stripRequestHeaders\": [\"X-Secret\", \"X-Host\"]}")).upstream();

    assertEquals(Set.of("x-secret", "x-host"), up.stripRequestHeaders());
    assertTrue(parse(config("\"upstream\": {\"stripRequestHeaders\": []}")).upstream().stripRequestHeaders().isEmpty());
  }

  @Test
  void parse_stripRequestHeadersNotAList_isAnError() {
    assertEquals(FILE + ": upstream.stripRequestHeaders: expected a list of header names such as [\"X-Original-URL\"],"
        + " got \"X-Host\"", error(config("\"upstream\": {\"stripRequestHeaders\": \"X-Host\"}")));
  }

  @Test
  void parse_stripRequestHeadersWithInvalidName_isAnError() {
    assertEquals(FILE + ": upstream.stripRequestHeaders[1]: expected a header name, got \"X Host\"",
        error(config("\"upstream\": {\"stripRequestHeaders\": [\"X-Ok\", \"X Host\"]}")));
  }

  @Test
  void parse_stripRequestHeadersNamingHost_isAnError() {
    assertEquals(FILE + ": upstream.stripRequestHeaders[0]: \"Host\" is set by the proxy itself and cannot be removed",
        error(config("\"upstream\": {\"stripRequestHeaders\": [\"Host\"]}")));
  }

  @Test
  void parse_maxObjectBytesAboveMaxBytes_isAnError() {
    assertEquals(FILE + ": memory.maxObjectBytes: must not exceed memory.maxBytes (2097152 > 1048576)",
        error(config("\"memory\": {\"maxBytes\": \"1MiB\", \"maxObjectBytes\": \"2MiB\"}")));
  }

  @Test
  void parse_heuristicFractionAboveOne_isAnError() {
    assertErrorStartsWith(FILE + ": cache.heuristicFraction: expected a number from 0 to 1",
        config("\"cache\": {\"heuristicFraction\": 2}"));
  }

  @Test
  void parse_invalidJson_isOneLineNamingTheFile() {
    assertErrorStartsWith(FILE + ": invalid JSON: ", "{\"origins\": [\n  {\"name\": \"web\",,}\n]}");
  }

  @Test
  void parse_invalidJsonWithCrLfLines_isOneLine() {
    assertErrorStartsWith(FILE + ": invalid JSON: ", "{\r\n\"listen\": {\r\n\"port\": }\r\n}");
  }

  @Test
  void parse_topLevelList_isAnError() {
    assertErrorStartsWith(FILE + ": invalid JSON: ", "[" + ORIGIN + "]");
  }

  @Test
  void parse_emptyText_isAnError() {
    assertErrorStartsWith(FILE + ": invalid JSON", "");
  }

  @Test
  void load_missingFile_saysFileNotFound(@TempDir Path dir) {
    Path missing = dir.resolve("nope.json");

    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(missing));
    assertEquals(missing + ": file not found", e.getMessage());
  }

  @Test
  void parse_diskBackOffAndFreeSpace_defaultTo30sAnd64MiB() {
    ProxyConfig c = parse(config("\"disk\": {\"path\": \"/var/cache/edgecache\"}"));

    assertEquals(30_000, c.disk().retryAfterMs());
    assertEquals(64L << 20, c.disk().minFreeBytes());
  }

  @Test
  void parse_diskBackOffAndFreeSpace_areRead() {
    ProxyConfig c = parse(config("\"disk\": {\"path\": \"/c\", \"retryAfter\": \"2s\", \"minFreeBytes\": \"1GiB\"}"));

    assertEquals(2_000, c.disk().retryAfterMs());
    assertEquals(1L << 30, c.disk().minFreeBytes());
  }

  @Test
  void parse_diskRetryAfterNotADuration_failsNamingTheKey() {
    assertErrorStartsWith(FILE + ": disk.retryAfter: expected a duration", config("\"disk\": {\"retryAfter\": 30}"));
    assertErrorStartsWith(FILE + ": disk.minFreeBytes: ", config("\"disk\": {\"minFreeBytes\": \"lots\"}"));
  }

  // ---------------------------------------------------------------- tokens from the environment

  @Test
  void adminToken_fromAnEnvironmentVariable_isItsValue() {
    String path = System.getenv("PATH");
    Assumptions.assumeTrue(path != null && path.strip().length() >= 16, "PATH too short here");

    assertEquals(path.strip(), parse(config("\"admin\": {\"token\": \"env:PATH\"}")).admin().token());
  }

  @Test
  void adminToken_fromAShortEnvironmentVariable_isRefusedWithoutShowingIt() {
    String name = System.getenv().entrySet().stream()
        .filter(e -> e.getKey().matches("[A-Z_]+") && !e.getValue().isBlank() && e.getValue().strip().length() < 16)
        .map(Map.Entry::getKey).findFirst().orElse(null);
    Assumptions.assumeTrue(name != null, "no short environment variable here");

    String msg = error(config("\"admin\": {\"token\": \"env:" + name + "\"}"));

    assertEquals(FILE + ": admin.token: environment variable " + name + " holds a token under 16 characters", msg);
  }

  @Test
  void configException_controlCharactersInAValue_stayOnOneLine() {
    String msg = error(config("\"accessLog\": {\"format\": \"a\\nb\\u0000\"}"));

    assertEquals(FILE + ": accessLog.format: expected \"combined\" or \"json\", got \"a\\nb\\u0000\"", msg);
  }
}
