package io.edgecache.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;

class RemovalLogTest {
  private final RemovalLog log = new RemovalLog();

  @Test
  void removedSince_removalAfterOpen_selectsItsKeyOnly() {
    long ticket = log.open();
    log.record(Selector.key("a"));

    assertTrue(log.removedSince(ticket, "a", Set.of()));
    assertFalse(log.removedSince(ticket, "b", Set.of()));
  }

  @Test
  void removedSince_removalBeforeOpen_doesNotSelect() {
    long before = log.open();
    log.record(Selector.all());
    long after = log.open();

    assertTrue(log.removedSince(before, "x", Set.of()));
    assertFalse(log.removedSince(after, "x", Set.of()));
  }

  @Test
  void removedSince_tagSelector_matchesOnTags() {
    long ticket = log.open();
    log.record(Selector.tagged("t"));

    assertTrue(log.removedSince(ticket, "k", Set.of("t", "u")));
    assertFalse(log.removedSince(ticket, "k", Set.of("u")));
  }

  @Test
  void record_withNothingOpen_keepsNothing() {
    log.record(Selector.all());

    assertEquals(0, log.size());
    assertFalse(log.anyOpen());
  }

  @Test
  void close_lastOperationBeforeARemoval_dropsTheRemoval() {
    long first = log.open();
    log.record(Selector.key("a"));
    long second = log.open();
    log.record(Selector.key("b"));
    assertEquals(2, log.size());

    log.close(first);
    assertEquals(1, log.size(), "the removal of a no longer matters to anyone open");
    assertTrue(log.removedSince(second, "b", Set.of()));
    log.close(second);
    assertEquals(0, log.size());
    assertFalse(log.anyOpen());
  }

  @Test
  void open_sameTicketTwice_staysOpenUntilBothClose() {
    long a = log.open();
    long b = log.open();
    log.record(Selector.key("k"));

    log.close(a);
    assertTrue(log.removedSince(b, "k", Set.of()));
    assertEquals(1, log.size());
    log.close(b);
    assertEquals(0, log.size());
  }
}
