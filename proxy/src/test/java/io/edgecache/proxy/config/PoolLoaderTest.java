package io.edgecache.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code origins[].servers}, {@code balance}, {@code healthCheck}, {@code ejectAfter/For} and {@code tls}. */
class PoolLoaderTest {
  private static final String FILE = "conf/proxy.json";

  @TempDir
  Path dir;

  /** A config whose one origin has these members besides name and hosts (JSON text). */
  private static ProxyConfig.Origin origin(String members) {
    return ConfigLoader.parse(FILE, "{\"origins\": [{\"name\": \"web\", \"hosts\": [\"*\"], " + members + "}]}")
        .origins().get(0);
  }

  private static String error(String members) {
    ConfigException e = assertThrows(ConfigException.class, () -> origin(members));
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    return e.getMessage();
  }

  @Test
  void url_isAPoolOfOneWithEveryDefault() {
    ProxyConfig.Origin o = origin("\"url\": \"http://10.0.0.1:8000\"");

    assertEquals(PoolConfig.single("10.0.0.1", 8000), o.pool());
    assertEquals(PoolConfig.Balance.ROUND_ROBIN, o.pool().balance());
    assertNull(o.pool().healthCheck());
    assertEquals(5, o.pool().ejectAfter());
    assertEquals(10_000, o.pool().ejectForMs());
    assertEquals(PoolConfig.Tls.DEFAULT, o.pool().tls());
  }

  @Test
  void servers_plainUrlsAndWeightedObjects_areReadInOrderAndTheFirstIsTheOriginsAddress() {
    ProxyConfig.Origin o = origin("\"servers\": [\"http://a:8001\", {\"url\": \"http://b:8002\", \"weight\": 3}]");

    assertEquals(List.of(new PoolConfig.Server("a", 8001, 1), new PoolConfig.Server("b", 8002, 3)), o.pool().servers());
    assertEquals("http", o.scheme());
    assertEquals("a", o.host());
    assertEquals(8001, o.port());
  }

  @Test
  void servers_httpsWithoutPort_use443() {
    assertEquals(443, origin("\"servers\": [\"https://a\", \"https://b\"]").pool().servers().get(1).port());
  }

  @Test
  void urlAndServers_together_isAnErrorNamingServers() {
    assertEquals(FILE + ": origins[0].servers: \"url\" and \"servers\" exclude each other: list every server under"
        + " \"servers\"", error("\"url\": \"http://a\", \"servers\": [\"http://b\"]"));
  }

  @Test
  void neitherUrlNorServers_isAnErrorNamingUrl() {
    assertTrue(error("\"preserveHost\": true").startsWith(FILE + ": origins[0].url: missing"));
  }

  @Test
  void servers_ofTwoSchemes_isAnError() {
    assertEquals(FILE + ": origins[0].servers[1]: all servers of an origin share one scheme: expected http://, got"
        + " \"https://b\"", error("\"servers\": [\"http://a\", \"https://b\"]"));
  }

  @Test
  void servers_sameHostAndPortTwice_isAnError() {
    assertEquals(FILE + ": origins[0].servers[1].url: duplicate server a:80",
        error("\"servers\": [\"http://a\", {\"url\": \"http://a:80\"}]"));
  }

  @Test
  void servers_weightZero_isAnError() {
    assertEquals(FILE + ": origins[0].servers[0].weight: expected an integer from 1 to 1000, got 0",
        error("\"servers\": [{\"url\": \"http://a\", \"weight\": 0}]"));
  }

  @Test
  void servers_emptyList_isAnError() {
    assertTrue(error("\"servers\": []").startsWith(FILE + ": origins[0].servers: expected a non-empty list"));
  }

  @Test
  void servers_withAPath_isAnError() {
    assertTrue(error("\"servers\": [\"http://a/app\"]")
        .startsWith(FILE + ": origins[0].servers[0]: a path in the origin URL is not supported"));
  }

  @Test
  void balance_namesAreRead() {
    assertEquals(PoolConfig.Balance.LEAST_CONNECTIONS,
        origin("\"url\": \"http://a\", \"balance\": \"least-connections\"").pool().balance());
    assertEquals(PoolConfig.Balance.HASH, origin("\"url\": \"http://a\", \"balance\": \"hash\"").pool().balance());
  }

  @Test
  void balance_unknown_isAnErrorListingTheChoices() {
    assertEquals(FILE + ": origins[0].balance: expected \"round-robin\", \"least-connections\" or \"hash\", got"
        + " \"random\"", error("\"url\": \"http://a\", \"balance\": \"random\""));
  }

  @Test
  void healthCheck_empty_takesTheDefaults() {
    assertEquals(new PoolConfig.HealthCheck("/", null, 5_000, 2_000, 2, 3),
        origin("\"url\": \"http://a\", \"healthCheck\": {}").pool().healthCheck());
  }

  @Test
  void healthCheck_everyKey_isRead() {
    assertEquals(new PoolConfig.HealthCheck("/healthz", "app.internal", 1_000, 500, 1, 4),
        origin("\"url\": \"http://a\", \"healthCheck\": {\"path\": \"/healthz\", \"host\": \"app.internal\","
            + " \"interval\": \"1s\", \"timeout\": \"500ms\", \"healthy\": 1, \"unhealthy\": 4}").pool().healthCheck());
  }

  @Test
  void healthCheck_pathWithoutSlash_isAnError() {
    assertTrue(error("\"url\": \"http://a\", \"healthCheck\": {\"path\": \"healthz\"}")
        .startsWith(FILE + ": origins[0].healthCheck.path: expected an origin-form path"));
  }

  @Test
  void healthCheck_intervalUnder100ms_isAnError() {
    assertEquals(FILE + ": origins[0].healthCheck.interval: at least 100ms (each server is probed this often), got"
        + " \"10ms\"", error("\"url\": \"http://a\", \"healthCheck\": {\"interval\": \"10ms\"}"));
  }

  @Test
  void healthCheck_unknownKey_isAnError() {
    assertTrue(error("\"url\": \"http://a\", \"healthCheck\": {\"every\": \"5s\"}")
        .startsWith(FILE + ": origins[0].healthCheck.every: unknown key"));
  }

  @Test
  void ejection_isRead() {
    PoolConfig p = origin("\"url\": \"http://a\", \"ejectAfter\": 0, \"ejectFor\": \"30s\"").pool();
    assertEquals(0, p.ejectAfter());
    assertEquals(30_000, p.ejectForMs());
    assertEquals(300_000, p.maxEjectMs());
  }

  @Test
  void tls_onAnHttpOrigin_isAnError() {
    assertEquals(FILE + ": origins[0].tls: only for https:// servers (this origin's are http://)",
        error("\"url\": \"http://a\", \"tls\": {\"verify\": true}"));
  }

  @Test
  void tls_filesThatExistAndHoldPem_areRead() throws Exception {
    Path ca = Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    Path key = Files.writeString(dir.resolve("key.pem"), "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n");
    PoolConfig.Tls tls = origin("\"url\": \"https://a\", \"tls\": {\"caFile\": \"" + ca + "\", \"certFile\": \"" + ca
        + "\", \"keyFile\": \"" + key + "\"}").pool().tls();
    assertEquals(new PoolConfig.Tls(ca.toString(), ca.toString(), key.toString(), true), tls);
  }

  @Test
  void tls_caFileMissing_isAnErrorNamingTheKey() {
    assertTrue(error("\"url\": \"https://a\", \"tls\": {\"caFile\": \"" + dir.resolve("nope.pem") + "\"}")
        .startsWith(FILE + ": origins[0].tls.caFile: cannot read"));
  }

  @Test
  void tls_keyFileWithoutPem_isAnError() throws Exception {
    Path cert = Files.writeString(dir.resolve("c.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    Path key = Files.writeString(dir.resolve("k.pem"), "not a key");
    assertTrue(error("\"url\": \"https://a\", \"tls\": {\"certFile\": \"" + cert + "\", \"keyFile\": \"" + key + "\"}")
        .startsWith(FILE + ": origins[0].tls.keyFile: "), "names the key file");
  }

  @Test
  void tls_certFileWithoutKeyFile_isAnError() throws Exception {
    Path cert = Files.writeString(dir.resolve("c.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    assertEquals(FILE + ": origins[0].tls.keyFile: a client certificate needs both certFile and keyFile",
        error("\"url\": \"https://a\", \"tls\": {\"certFile\": \"" + cert + "\"}"));
  }

  @Test
  void tls_verifyOffWithACaFile_isAnError() throws Exception {
    Path ca = Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    assertTrue(error("\"url\": \"https://a\", \"tls\": {\"verify\": false, \"caFile\": \"" + ca + "\"}")
        .startsWith(FILE + ": origins[0].tls.caFile: has no effect"));
  }
}
