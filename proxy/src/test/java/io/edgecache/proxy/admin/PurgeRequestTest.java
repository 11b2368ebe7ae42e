package io.edgecache.proxy.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class PurgeRequestTest {
  @Test
  void parse_httpUrlOnPort443_keepsThePort() {
    assertEquals(List.of("http://edge.test:443/a"), PurgeRequest.parse("{\"urls\": [\"http://edge.test:443/a\"]}").urlKeys());
  }

  @Test
  void parse_httpsUrlOnPort443_dropsTheDefaultPort() {
    assertEquals(List.of("http://edge.test/a"), PurgeRequest.parse("{\"urls\": [\"https://edge.test:443/a\"]}").urlKeys());
  }

  @Test
  void parse_upperCaseHostAndPort80_isTheRequestKey() {
    assertEquals(List.of("http://edge.test/a?b=1"),
        PurgeRequest.parse("{\"urls\": [\"http://Edge.Test:80/a?b=1\"]}").urlKeys());
  }

  @Test
  void parse_prefixWithoutPath_isRootPrefix() {
    assertEquals(List.of("http://edge.test/"), PurgeRequest.parse("{\"prefixes\": [\"http://edge.test\"]}").prefixKeys());
  }

  @Test
  void parse_relativeUrl_failsNamingTheField() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PurgeRequest.parse("{\"urls\": [\"/a\"]}"));
    assertTrue(e.getMessage().startsWith("urls: "), e.getMessage());
  }

  @Test
  void spec_carriesEveryField() {
    var spec = PurgeRequest.parse("{\"tags\": [\"t\"], \"soft\": true}").spec();
    assertEquals(List.of("t"), spec.tags());
    assertTrue(spec.soft());
    assertEquals("tag", spec.kind());
  }
}
