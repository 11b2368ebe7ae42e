package io.edgecache.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The wait of large new entries, on its own: a tier of 10,000 bytes, large above 100, at most 1,000 waiting. */
class LargeEntryGraceTest {
  private final LargeEntryGrace<Object> grace = new LargeEntryGrace<>(10_000);

  @Test
  void enter_entryOfAHundredthOfTheTierOrLess_isNotLarge() {
    assertNull(grace.enter("small", new Object(), 100));
    assertEquals(0, grace.heldBytes());
  }

  @Test
  void enter_entryOverHalfTheTier_isNotLarge() {
    assertNull(grace.enter("huge", new Object(), 5_001));
    assertEquals(0, grace.size());
  }

  @Test
  void enter_pastATenthOfTheTier_releasesTheOldestFirst() {
    Object a = new Object();
    Object b = new Object();
    assertEquals(List.of(), grace.enter("a", a, 400));
    assertEquals(List.of(), grace.enter("b", b, 400));

    List<LargeEntryGrace.Released<Object>> out = grace.enter("c", new Object(), 400);

    assertEquals(List.of(new LargeEntryGrace.Released<>("a", a, 400)), out);
    assertEquals(800, grace.heldBytes());
    assertFalse(grace.holds("a", a));
    assertTrue(grace.holds("b", b));
  }

  @Test
  void enter_newestAloneOverTheShare_stillWaits() {
    Object a = new Object();
    grace.enter("a", a, 300);
    Object big = new Object();

    List<LargeEntryGrace.Released<Object>> out = grace.enter("big", big, 4_000);

    assertEquals(1, out.size());
    assertTrue(grace.holds("big", big));
    assertEquals(4_000, grace.heldBytes());
  }

  @Test
  void enter_sameKeyAgain_replacesWhatWaitedUnderIt() {
    Object first = new Object();
    Object second = new Object();
    grace.enter("k", first, 300);

    grace.enter("k", second, 500);

    assertFalse(grace.holds("k", first));
    assertTrue(grace.holds("k", second));
    assertEquals(500, grace.heldBytes());
  }

  @Test
  void removed_onlyTheValueThatWaits_givesItsBytesBack() {
    Object waiting = new Object();
    grace.enter("k", waiting, 300);

    assertFalse(grace.removed("k", new Object())); // an older value under the key, replaced
    assertEquals(300, grace.heldBytes());
    assertTrue(grace.removed("k", waiting));
    assertEquals(0, grace.heldBytes());
  }

  @Test
  void swap_keepsThePlaceAndTakesTheNewWeight() {
    Object a = new Object();
    Object b = new Object();
    grace.enter("a", a, 400);
    grace.enter("b", b, 400);
    Object a2 = new Object();

    assertTrue(grace.swap("a", a, a2, 450));
    List<LargeEntryGrace.Released<Object>> out = grace.enter("c", new Object(), 400);

    assertEquals(List.of(new LargeEntryGrace.Released<>("a", a2, 450)), out); // still the oldest
    assertFalse(grace.swap("b", a, new Object(), 1)); // not what waits under "b"
  }

  @Test
  void releaseAll_emptiesTheWaitOldestFirst() {
    Object a = new Object();
    Object b = new Object();
    grace.enter("a", a, 200);
    grace.enter("b", b, 300);

    assertEquals(List.of(new LargeEntryGrace.Released<>("a", a, 200), new LargeEntryGrace.Released<>("b", b, 300)),
        grace.releaseAll());
    assertEquals(0, grace.heldBytes());
    assertEquals(0, grace.size());
  }
}
