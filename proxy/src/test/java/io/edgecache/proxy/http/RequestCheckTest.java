package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.net.HostAndPort;
import org.junit.jupiter.api.Test;

class RequestCheckTest {
  private static final HostAndPort HOST = HostAndPort.create("edge.test", -1);

  private static MultiMap headers(String... nameValues) {
    MultiMap m = MultiMap.caseInsensitiveMultiMap();
    for (int i = 0; i < nameValues.length; i += 2) {
      m.add(nameValues[i], nameValues[i + 1]);
    }
    return m;
  }

  private static RequestCheck.Result check(HttpMethod m, String uri, HostAndPort host, String... nameValues) {
    return RequestCheck.check(m, headers(nameValues), uri, host, 100);
  }

  @Test
  void check_connect_is405WithAllowAndCloses() {
    RequestCheck.Rejected r = assertInstanceOf(RequestCheck.Rejected.class, check(HttpMethod.CONNECT, "edge.test:443", HOST));
    assertEquals(405, r.status());
    assertEquals(CacheStatus.Fwd.METHOD, r.fwd());
    assertTrue(r.allow().contains("GET"));
    assertTrue(r.close());
  }

  @Test
  void check_contentLengthAndTransferEncoding_is400AmbiguousFraming() {
    RequestCheck.Rejected r = assertInstanceOf(RequestCheck.Rejected.class,
        check(HttpMethod.POST, "/", HOST, "Content-Length", "3", "Transfer-Encoding", "chunked"));
    assertEquals(400, r.status());
    assertEquals(CacheStatus.Fwd.REQUEST, r.fwd());
  }

  @Test
  void check_twoContentLengths_is400() {
    assertEquals(400, ((RequestCheck.Rejected) check(HttpMethod.POST, "/", HOST,
        "Content-Length", "3", "Content-Length", "4")).status());
  }

  @Test
  void check_tooManyFields_is431() {
    RequestCheck.Result r = RequestCheck.check(HttpMethod.GET, headers("a", "1", "b", "2"), "/", HOST, 1);
    assertEquals(431, ((RequestCheck.Rejected) r).status());
  }

  @Test
  void check_manyLinesOfOneName_countEachLine_is431() {
    RequestCheck.Result r = RequestCheck.check(HttpMethod.GET, headers("x", "1", "x", "2", "x", "3"), "/", HOST, 2);
    assertEquals(431, ((RequestCheck.Rejected) r).status());
    assertInstanceOf(RequestCheck.Accepted.class,
        RequestCheck.check(HttpMethod.GET, headers("x", "1", "x", "2", "Host", "edge.test"), "/", HOST, 3));
  }

  @Test
  void check_absoluteForm_targetAuthorityWinsOverHost() {
    RequestCheck.Accepted a = assertInstanceOf(RequestCheck.Accepted.class,
        check(HttpMethod.GET, "http://Other.Test:8080/p?q=1", HOST));
    assertEquals("Other.Test", a.authority().host());
    assertEquals(8080, a.authority().port());
    assertEquals("/p?q=1", a.target());
  }

  @Test
  void check_absoluteFormWithoutPath_targetsRoot() {
    assertEquals("/", ((RequestCheck.Accepted) check(HttpMethod.GET, "http://edge.test", HOST)).target());
  }

  @Test
  void check_noHost_is400() {
    assertEquals(400, ((RequestCheck.Rejected) check(HttpMethod.GET, "/", null)).status());
  }

  @Test
  void check_originForm_keepsHostAndTarget() {
    RequestCheck.Accepted a = (RequestCheck.Accepted) check(HttpMethod.GET, "/a?b", HOST);
    assertEquals(HOST, a.authority());
    assertEquals("/a?b", a.target());
  }

  @Test
  void check_twoHostFields_is400() {
    RequestCheck.Rejected r = assertInstanceOf(RequestCheck.Rejected.class,
        check(HttpMethod.GET, "/", HOST, "Host", "edge.test", "Host", "evil.test"));
    assertEquals(400, r.status());
    assertEquals("more than one Host field", r.message());
  }

  @Test
  void check_twoHostFieldsWithAbsoluteForm_is400() {
    assertEquals(400, ((RequestCheck.Rejected) check(HttpMethod.GET, "http://edge.test/", HOST,
        "Host", "edge.test", "Host", "edge.test")).status());
  }

  @Test
  void check_hostWithSpaceOrBadPort_is400() {
    assertEquals(400, ((RequestCheck.Rejected) check(HttpMethod.GET, "/", HOST, "Host", "edge.test evil.test")).status());
    assertEquals(400, ((RequestCheck.Rejected) check(HttpMethod.GET, "/", HOST, "Host", "edge.test:80x")).status());
  }

  @Test
  void check_hostThatServerCouldNotParse_is400EvenWithAbsoluteForm() {
    RequestCheck.Rejected r = assertInstanceOf(RequestCheck.Rejected.class,
        check(HttpMethod.GET, "http://edge.test/", null, "Host", "ed ge"));
    assertEquals("invalid Host", r.message());
  }

  @Test
  void check_absoluteFormWithDisagreeingValidHost_targetWins() {
    RequestCheck.Accepted a = assertInstanceOf(RequestCheck.Accepted.class,
        check(HttpMethod.GET, "http://edge.test/p", HostAndPort.create("evil.test", -1), "Host", "evil.test"));
    assertEquals("edge.test", a.authority().host());
  }

  @Test
  void check_hostWithPortAndIpLiteral_isAccepted() {
    assertInstanceOf(RequestCheck.Accepted.class,
        check(HttpMethod.GET, "/", HostAndPort.create("edge.test", 8080), "Host", "edge.test:8080"));
    assertInstanceOf(RequestCheck.Accepted.class,
        check(HttpMethod.GET, "/", HostAndPort.create("[::1]", 80), "Host", "[::1]:80"));
  }

  @Test
  void forwardsBody_getOrHeadWithBody_isFalse() {
    assertFalse(RequestCheck.forwardsBody(HttpMethod.GET, headers("Content-Length", "3")));
    assertFalse(RequestCheck.forwardsBody(HttpMethod.HEAD, headers("Transfer-Encoding", "chunked")));
  }

  @Test
  void forwardsBody_postWithBody_isTrue() {
    assertTrue(RequestCheck.forwardsBody(HttpMethod.POST, headers("Content-Length", "3")));
    assertFalse(RequestCheck.forwardsBody(HttpMethod.POST, headers("Content-Length", "0")));
  }

  @Test
  void hasBody_zeroLengthOrNoFraming_isFalseOtherwiseTrue() {
    assertTrue(RequestCheck.hasBody(headers("Content-Length", "3")));
    assertTrue(RequestCheck.hasBody(headers("Transfer-Encoding", "chunked")));
    assertFalse(RequestCheck.hasBody(headers("Content-Length", "0")));
    assertFalse(RequestCheck.hasBody(headers()));
  }

  @Test
  void check_otherMajorVersionMark_is505AndCloses() {
    RequestCheck.Rejected r = assertInstanceOf(RequestCheck.Rejected.class,
        check(HttpMethod.GET, "/", HOST, StrictRequestDecoder.BAD_VERSION, "505"));
    assertEquals(505, r.status());
    assertTrue(r.close());
  }

  @Test
  void check_malformedVersionMark_is400() {
    RequestCheck.Rejected r = assertInstanceOf(RequestCheck.Rejected.class,
        check(HttpMethod.GET, "/", HOST, StrictRequestDecoder.BAD_VERSION, "400"));
    assertEquals(400, r.status());
  }

  @Test
  void versionRefusal_http1xIsServed_otherMajorIs505_restIs400() {
    assertEquals(0, StrictRequestDecoder.versionRefusal("HTTP/1.2"));
    assertEquals(505, StrictRequestDecoder.versionRefusal("HTTP/2.0"));
    assertEquals(505, StrictRequestDecoder.versionRefusal("HTTP/0.9"));
    assertEquals(400, StrictRequestDecoder.versionRefusal("http/1.1"));
    assertEquals(400, StrictRequestDecoder.versionRefusal("HTTP/1.01"));
    assertEquals(400, StrictRequestDecoder.versionRefusal("HTTP/\u0661.1"));
    assertEquals(400, StrictRequestDecoder.versionRefusal(""));
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
      "edge.test|true", "edge.test:8080|true", "Edge.Test:|true", "[::1]|true", "[::1]:80|true", "a-b_c~d%20|true",
      "edge test|false", "edge.test:123456|false", "edge.test:8a|false", "a:b:c|false", "[::1|false", "[]|false",
      ":80|false", "[zz]|false", "edge.test/x|false"})
  void validAuthority_table(String value, boolean valid) {
    assertEquals(valid, RequestCheck.validAuthority(value), value);
  }
}
