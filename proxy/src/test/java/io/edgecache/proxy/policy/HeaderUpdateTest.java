package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HeaderUpdateTest {
  private static final Headers STORED = Headers.of(
      "Content-Type", "text/html",
      "Content-Length", "1000",
      "Content-Encoding", "gzip",
      "Content-Range", "bytes 0-999/2000",
      "Content-MD5", "Q2hlY2sgSW50ZWdyaXR5IQ==",
      "ETag", "\"v1\"",
      "Cache-Control", "max-age=60",
      "Date", "Tue, 14 Nov 2023 22:13:20 GMT",
      "Link", "</a>; rel=preload",
      "Link", "</b>; rel=preload");

  /** A typical 304: new freshness and Date, plus fields that must not overwrite the stored body's. */
  private static final Headers UPDATE = Headers.of(
      "Cache-Control", "max-age=120",
      "Date", "Tue, 14 Nov 2023 22:15:00 GMT",
      "Content-Length", "0",
      "Content-Encoding", "br",
      "Content-Range", "bytes */2000",
      "Content-MD5", "other",
      "ETag", "\"v2\"",
      "X-New", "yes");

  @Test
  void merge_304_replacesCacheControl() {
    assertEquals(List.of("max-age=120"), HeaderUpdate.merge(STORED, UPDATE).all("cache-control"));
  }

  @Test
  void merge_304_replacesDate() {
    assertEquals(List.of("Tue, 14 Nov 2023 22:15:00 GMT"), HeaderUpdate.merge(STORED, UPDATE).all("date"));
  }

  @Test
  void merge_304_addsNewFields() {
    assertEquals("yes", HeaderUpdate.merge(STORED, UPDATE).get("x-new"));
  }

  @Test
  void merge_fieldAbsentFromUpdate_isKept() {
    assertEquals("text/html", HeaderUpdate.merge(STORED, UPDATE).get("content-type"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"Content-Length", "Content-Encoding", "ETag", "Content-Range", "Content-MD5"})
  void merge_fieldDescribingStoredBody_keepsStoredValue(String name) {
    assertEquals(STORED.all(name), HeaderUpdate.merge(STORED, UPDATE).all(name));
  }

  @Test
  void merge_repeatedStoredField_isReplacedAsAWhole() {
    Headers merged = HeaderUpdate.merge(STORED, Headers.of("Link", "</c>; rel=preload"));

    assertEquals(List.of("</c>; rel=preload"), merged.all("link"));
  }

  @Test
  void merge_repeatedUpdateField_keepsEveryLine() {
    Headers merged = HeaderUpdate.merge(STORED, Headers.of("Link", "</c>", "Link", "</d>"));

    assertEquals(List.of("</c>", "</d>"), merged.all("link"));
  }

  @Test
  void merge_namesDifferingOnlyInCase_areReplaced() {
    Headers merged = HeaderUpdate.merge(Headers.of("cache-control", "max-age=60"), Headers.of("CACHE-CONTROL", "max-age=5"));

    assertEquals(List.of("max-age=5"), merged.all("Cache-Control"));
  }

  @Test
  void merge_hopByHopFieldInUpdate_isNotStored() {
    Headers merged = HeaderUpdate.merge(STORED, Headers.of("Connection", "close", "Keep-Alive", "timeout=5"));

    assertFalse(merged.contains("connection"));
    assertFalse(merged.contains("keep-alive"));
  }

  @Test
  void merge_emptyUpdate_isStoredUnchanged() {
    assertEquals(STORED.toString(), HeaderUpdate.merge(STORED, Headers.EMPTY).toString());
  }
}
