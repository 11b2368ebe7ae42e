package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ByteRangeTest {
  private static final long LENGTH = 1000;

  @Test
  void parse_firstLast_isThatRange() {
    assertEquals(new ByteRange(0, 99), ByteRange.parse("bytes=0-99", LENGTH));
  }

  @Test
  void parse_firstLast_lengthCountsBothEnds() {
    assertEquals(100, ByteRange.parse("bytes=0-99", LENGTH).length());
  }

  @Test
  void parse_lastBeyondBody_isClampedToLastByte() {
    assertEquals(new ByteRange(900, 999), ByteRange.parse("bytes=900-5000", LENGTH));
  }

  @Test
  void parse_openEnded_runsToLastByte() {
    assertEquals(new ByteRange(500, 999), ByteRange.parse("bytes=500-", LENGTH));
  }

  @Test
  void parse_suffix_isTheLastBytes() {
    assertEquals(new ByteRange(900, 999), ByteRange.parse("bytes=-100", LENGTH));
  }

  @Test
  void parse_suffixLongerThanBody_isTheWholeBody() {
    assertEquals(new ByteRange(0, 999), ByteRange.parse("bytes=-5000", LENGTH));
  }

  @Test
  void parse_unitInUpperCase_isAccepted() {
    assertEquals(new ByteRange(0, 0), ByteRange.parse("Bytes=0-0", LENGTH));
  }

  @Test
  void parse_openEndedFirstBeyondBody_isUnsatisfiable() {
    assertEquals(ByteRange.UNSATISFIABLE, ByteRange.parse("bytes=20-", 10));
  }

  @Test
  void parse_firstBeyondBody_isUnsatisfiable() {
    assertEquals(ByteRange.UNSATISFIABLE, ByteRange.parse("bytes=1000-1100", LENGTH));
  }

  @Test
  void parse_suffixOfZero_isUnsatisfiable() {
    assertEquals(ByteRange.UNSATISFIABLE, ByteRange.parse("bytes=-0", LENGTH));
  }

  @Test
  void parse_closedRangeOnEmptyBody_isUnsatisfiable() {
    assertEquals(ByteRange.UNSATISFIABLE, ByteRange.parse("bytes=0-0", 0));
  }

  @Test
  void parse_suffixOnEmptyBody_isUnsatisfiable() {
    assertEquals(ByteRange.UNSATISFIABLE, ByteRange.parse("bytes=-10", 0));
  }

  @Test
  void parse_multipleRanges_areIgnored() {
    assertNull(ByteRange.parse("bytes=0-9,20-29", LENGTH));
  }

  @Test
  void parse_otherUnit_isIgnored() {
    assertNull(ByteRange.parse("items=0-9", LENGTH));
  }

  @Test
  void parse_absent_isIgnored() {
    assertNull(ByteRange.parse(null, LENGTH));
  }

  @ParameterizedTest
  @ValueSource(strings = {"bytes=", "bytes=-", "bytes=abc", "bytes=5", "bytes=9-5", "bytes=1-2-3", "bytes=a-9",
      "bytes=--5", "bytes=+1-5", "bytes=1-+5", "bytes=-+5", "bytes=0x1-5"})
  void parse_malformed_isIgnored(String header) {
    assertNull(ByteRange.parse(header, LENGTH));
  }

  @Test
  void contentRange_wellFormed_isARecordOfTheThreeNumbers() {
    ByteRange.ContentRange r = ByteRange.contentRange(Headers.of("Content-Range", "bytes 10-19/100"));
    assertEquals(new ByteRange.ContentRange(10, 19, 100), r);
    assertEquals(10, r.length());
  }

  @Test
  void contentRange_unknownCompleteLength_isNull() {
    assertNull(ByteRange.contentRange(Headers.of("Content-Range", "bytes 10-19/*")));
  }

  @Test
  void contentRange_lastBeyondComplete_isNull() {
    assertNull(ByteRange.contentRange(Headers.of("Content-Range", "bytes 10-100/100")));
  }

  @Test
  void contentRange_covers_rangeInsideButNotOutside() {
    ByteRange.ContentRange held = new ByteRange.ContentRange(10, 19, 100);
    assertTrue(held.covers(new ByteRange(12, 19)));
    assertFalse(held.covers(new ByteRange(12, 20)));
  }
}
