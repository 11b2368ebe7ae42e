package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.List;
import org.junit.jupiter.api.Test;

class HeadersTest {

  @Test
  void without_noNameMatches_isTheSameInstance() {
    Headers h = Headers.of("Content-Type", "text/plain", "ETag", "\"a\"");

    assertSame(h, h.without(FieldNames.of("age")::contains));
  }

  @Test
  void without_removesEveryLineOfTheNamesInAnyCase_keepsTheOrderOfTheRest() {
    Headers h = Headers.of("A", "1", "X-Drop", "2", "B", "3", "x-DROP", "4", "C", "5");

    assertEquals("A: 1\nB: 3\nC: 5\n", h.without(FieldNames.of("x-drop")::contains).toString());
  }

  @Test
  void without_everyName_isEmpty() {
    assertEquals(0, Headers.of("A", "1", "a", "2").without(FieldNames.of("a")::contains).size());
  }

  @Test
  void builder_manyFields_keepsOrderAndRepeats() {
    Headers.Builder b = Headers.builder(1);
    for (int i = 0; i < 40; i++) {
      b.add(i % 2 == 0 ? "Even" : "Odd-" + i, Integer.toString(i));
    }
    Headers h = b.build();

    assertEquals(40, h.size());
    assertEquals("Odd-39", h.name(39));
    assertEquals("38", h.value(38));
    assertEquals(20, h.all("even").size());
    assertEquals("0", h.get("EVEN"));
  }

  @Test
  void builder_usedAgainAfterBuild_doesNotChangeWhatItBuilt() {
    Headers.Builder b = Headers.builder(2).add("A", "1").add("B", "2");
    Headers first = b.build();

    Headers second = b.set("a", "3").add("C", "4").build();

    assertEquals("A: 1\nB: 2\n", first.toString());
    assertEquals("B: 2\na: 3\nC: 4\n", second.toString());
  }

  @Test
  void builder_clear_startsOver_andLeavesWhatItBuiltAlone() {
    Headers.Builder b = Headers.builder().add("A", "1");
    Headers first = b.build();

    assertEquals("B: 2\n", b.clear().add("B", "2").build().toString());
    assertEquals("A: 1\n", first.toString());
    assertSame(Headers.EMPTY, b.clear().build());
  }

  @Test
  void builder_remove_dropsEveryLineOfTheNameInAnyCase() {
    Headers h = Headers.builder().add("Vary", "a").add("X", "1").add("VARY", "b").remove("vary").build();

    assertEquals("X: 1\n", h.toString());
  }

  @Test
  void toBuilder_add_leavesTheOriginalAlone() {
    Headers h = Headers.of("A", "1");

    assertEquals("A: 1\nB: 2\n", h.toBuilder().add("B", "2").build().toString());
    assertEquals("A: 1\n", h.toString());
  }

  @Test
  void splitList_oneMember_isTrimmed() {
    assertEquals(List.of("no-cache"), Headers.splitList("  no-cache "));
  }

  @Test
  void splitList_commaInsideQuotes_staysInItsMember() {
    assertEquals(List.of("a", "b=\"x, y\"", ""), Headers.splitList("a, b=\"x, y\","));
  }
}
