package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HopByHopTest {

  @Test
  void strip_fixedHopByHopFields_areRemoved() {
    Headers h = Headers.of("Keep-Alive", "timeout=5", "Transfer-Encoding", "chunked", "TE", "trailers",
        "Trailer", "X-Sum", "Upgrade", "h2c", "Proxy-Connection", "keep-alive",
        "Proxy-Authenticate", "Basic", "Proxy-Authorization", "Basic eA==", "Content-Type", "text/plain");

    assertEquals("Content-Type: text/plain\n", HopByHop.strip(h).toString());
  }

  @Test
  void strip_connectionField_isRemoved() {
    assertFalse(HopByHop.strip(Headers.of("Connection", "close", "Accept", "*/*")).contains("connection"));
  }

  @Test
  void strip_namesListedInConnection_areRemovedIgnoringCase() {
    Headers h = Headers.of("Connection", "X-Secret, close", "x-secret", "1", "X-Kept", "2");

    Headers stripped = HopByHop.strip(h);

    assertFalse(stripped.contains("x-secret"));
    assertEquals("2", stripped.get("x-kept"));
  }

  @Test
  void strip_namesListedOnSeveralConnectionLines_areRemoved() {
    Headers h = Headers.of("Connection", "X-A", "Connection", "X-B", "X-A", "1", "X-B", "2", "X-C", "3");

    assertEquals("X-C: 3\n", HopByHop.strip(h).toString());
  }

  @Test
  void strip_endToEndFields_keepOrderAndRepeats() {
    Headers h = Headers.of("Set-Cookie", "a=1", "Keep-Alive", "x", "Set-Cookie", "b=2", "Vary", "Accept");

    assertEquals("Set-Cookie: a=1\nSet-Cookie: b=2\nVary: Accept\n", HopByHop.strip(h).toString());
  }

  @Test
  void isHopByHop_transferEncoding_isTrue() {
    assertTrue(HopByHop.isHopByHop("transfer-encoding"));
  }

  @Test
  void isHopByHop_cacheControl_isFalse() {
    assertFalse(HopByHop.isHopByHop("cache-control"));
  }

  @Test
  void strip_noHopByHopField_isTheSameInstance() {
    Headers h = Headers.of("Content-Type", "text/plain", "Content-Length", "5");

    assertSame(h, HopByHop.strip(h));
  }

  @Test
  void strip_fixedNamesInAnyCase_areRemoved() {
    Headers h = Headers.of("CONNECTION", "Keep-Alive", "keep-ALIVE", "timeout=5", "Transfer-encoding", "chunked",
        "ETag", "\"a\"");

    assertEquals("ETag: \"a\"\n", HopByHop.strip(h).toString());
  }

  @Test
  void namesIn_connectionNamingOnlyFixedFields_matchesListedNamesInAnyCase() {
    assertTrue(HopByHop.namesIn(Headers.of("Connection", "keep-alive")).contains("Keep-Alive"));
    assertTrue(HopByHop.namesIn(Headers.of("Connection", "X-Private")).contains("x-PRIVATE"));
    assertFalse(HopByHop.namesIn(Headers.of("Connection", "X-Private")).contains("x-public"));
  }
}
