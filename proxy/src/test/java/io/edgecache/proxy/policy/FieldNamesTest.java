package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FieldNamesTest {
  private static final FieldNames NAMES = FieldNames.of("Content-Length", "age", "x-a", "X-B", "AGE");

  @Test
  void contains_anyCase_matches() {
    assertTrue(NAMES.contains("content-length"));
    assertTrue(NAMES.contains("CONTENT-LENGTH"));
    assertTrue(NAMES.contains("Age"));
    assertTrue(NAMES.contains("x-b"));
  }

  @Test
  void contains_sameLengthOtherName_orOtherLength_doesNotMatch() {
    assertFalse(NAMES.contains("x-c"));
    assertFalse(NAMES.contains("content-lengths"));
    assertFalse(NAMES.contains(""));
    assertFalse(NAMES.contains("a-very-long-field-name-longer-than-every-member"));
    assertFalse(NAMES.contains(42));
  }

  @Test
  void indexOf_isThePositionAmongTheNamesGiven_duplicatesCountedOnce() {
    assertEquals(0, NAMES.indexOf("content-length"));
    assertEquals(1, NAMES.indexOf("AGE"));
    assertEquals(3, NAMES.indexOf("X-b"));
    assertEquals(-1, NAMES.indexOf("x-c"));
    assertEquals(4, NAMES.size());
  }

  @Test
  void members_areLowerCase_andEqualToThePlainSet() {
    assertEquals(List.of("content-length", "age", "x-a", "x-b"), List.copyOf(NAMES));
    assertEquals(Set.of("content-length", "age", "x-a", "x-b"), NAMES);
    assertEquals(NAMES, Set.of("content-length", "age", "x-a", "x-b"));
  }

  @Test
  void copyOf_aFieldNames_isThatSet() {
    assertSame(NAMES, FieldNames.copyOf(NAMES));
    assertTrue(FieldNames.copyOf(Set.of()).isEmpty());
    assertFalse(FieldNames.copyOf(Set.of()).contains("age"));
  }
}
