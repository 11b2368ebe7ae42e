package io.edgecache.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ListenTlsTest {
  private static final String FILE = "conf/proxy.json";
  private static final String TLS = "\"tls\": {\"certFile\": \"c.pem\", \"keyFile\": \"k.pem\"}";

  private static ProxyConfig parse(String listen, String originExtra) {
    return ConfigLoader.parse(FILE, "{\"listen\": {" + listen + "}, \"origins\": [{\"name\": \"web\", \"url\": "
        + "\"http://127.0.0.1:8000\", \"hosts\": [\"*\"]" + originExtra + "}]}");
  }

  private static String error(String listen, String originExtra) {
    String msg = assertThrows(ConfigException.class, () -> parse(listen, originExtra)).getMessage();
    assertFalse(msg.contains("\n"), msg);
    return msg;
  }

  @Test
  void parse_noTls_servesPlainOnly() {
    ProxyConfig.Listen l = parse("", "").listen();
    assertNull(l.tls());
    assertTrue(l.plain());
    assertFalse(parse("", "").origins().get(0).redirectHttps());
  }

  @Test
  void parse_tlsWithFilesOnly_takesTheDefaults() {
    ProxyConfig.Tls t = parse(TLS, "").listen().tls();
    assertEquals(new ProxyConfig.Tls(8443, "c.pem", "k.pem", List.of("TLSv1.2", "TLSv1.3"), true, 128, 5_000,
        ProxyConfig.Tls.Engine.AUTO), t);
  }

  @Test
  void parse_everyTlsKey_isRead() {
    ProxyConfig.Listen l = parse("\"port\": 80, \"plain\": true, \"tls\": {\"port\": 443, \"certFile\": \"c.pem\","
        + " \"keyFile\": \"k.pem\", \"protocols\": [\"TLSv1.3\"], \"http2\": false, \"maxConcurrentStreams\": 16,"
        + " \"watchInterval\": \"0s\", \"engine\": \"openssl\"}", ", \"redirectHttps\": true").listen();
    assertEquals(new ProxyConfig.Tls(443, "c.pem", "k.pem", List.of("TLSv1.3"), false, 16, 0,
        ProxyConfig.Tls.Engine.OPENSSL), l.tls());
  }

  @Test
  void parse_redirectHttps_isReadWithTls() {
    assertTrue(parse(TLS, ", \"redirectHttps\": true").origins().get(0).redirectHttps());
  }

  @Test
  void parse_plainOff_needsTls() {
    assertFalse(parse("\"plain\": false, " + TLS, "").listen().plain());
    assertEquals(FILE + ": listen.plain: false needs listen.tls: without plain HTTP and HTTPS nothing would listen",
        error("\"plain\": false", ""));
  }

  @Test
  void parse_mistakes_areOneLineNamingTheKey() {
    assertEquals(FILE + ": listen.tls.protocols[0]: expected \"TLSv1.2\" or \"TLSv1.3\" (older versions are not offered),"
        + " got \"TLSv1.1\"", error("\"tls\": {\"certFile\": \"c\", \"keyFile\": \"k\", \"protocols\": [\"TLSv1.1\"]}", ""));
    assertEquals(FILE + ": listen.tls.engine: expected one of \"auto\", \"openssl\", \"jdk\", got \"boring\"",
        error("\"tls\": {\"certFile\": \"c\", \"keyFile\": \"k\", \"engine\": \"boring\"}", ""));
    assertEquals(FILE + ": listen.tls.keyFile: missing: the path of a PEM file", error("\"tls\": {\"certFile\": \"c\"}", ""));
    assertTrue(error("\"tls\": {\"certFile\": \"c\", \"keyFile\": \"k\", \"cert\": 1}", "")
        .startsWith(FILE + ": listen.tls.cert: unknown key (expected one of certFile, engine, http2,"), "unknown key");
    assertEquals(FILE + ": listen.tls.maxConcurrentStreams: expected an integer from 1 to 65535, got 0",
        error("\"tls\": {\"certFile\": \"c\", \"keyFile\": \"k\", \"maxConcurrentStreams\": 0}", ""));
    assertEquals(FILE + ": listen.tls.port: must differ from listen.port (8443)",
        error("\"port\": 8443, " + TLS, ""));
    assertTrue(error("\"tls\": {\"certFile\": \"c\", \"keyFile\": \"k\", \"watchInterval\": \"100ms\"}", "")
        .startsWith(FILE + ": listen.tls.watchInterval: expected from 1s to 1h"), "watchInterval");
    assertEquals(FILE + ": listen.plain: false cannot be used with cluster.mode \"sharded\": members fetch from each other"
        + " over plain HTTP", assertThrows(ConfigException.class, () -> ConfigLoader.parse(FILE, "{\"listen\": {\"plain\": false, "
        + TLS + "}, \"origins\": [{\"name\": \"web\", \"url\": \"http://127.0.0.1:8000\", \"hosts\": [\"*\"]}],"
        + " \"cluster\": {\"enabled\": true, \"mode\": \"sharded\", \"members\": [\"127.0.0.1:5801\"],"
        + " \"token\": \"0123456789abcdef-cluster\"}}")).getMessage());
    assertEquals(FILE + ": origins[0].redirectHttps: needs listen.tls and plain HTTP (listen.plain) to redirect from",
        error("", ", \"redirectHttps\": true"));
  }
}
