package io.edgecache.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** When chunks being read are deleted: after the last reader, never under a new hold, within a byte bound. */
class ReadPinsTest {
  private final List<Long> deletedLater = new ArrayList<>();
  private final ReadPins pins = new ReadPins(deletedLater::add, 1000);

  @Test
  void deletion_waitsForTheLastReader_andNoNewHoldIsGivenMeanwhile() {
    Store.Pin a = pins.hold(7, () -> true);
    Store.Pin b = pins.hold(7, () -> true);
    assertNotSame(Store.Pin.NONE, a);

    assertFalse(pins.deleteNowOrDefer(7, 3, 600), "read: deferred");
    assertSame(Store.Pin.NONE, pins.hold(7, () -> true), "doomed: no new hold");
    a.release();
    a.release(); // once only
    assertTrue(deletedLater.isEmpty(), "another reader holds it still");
    b.release();
    assertEquals(List.of(7L), deletedLater);
    assertEquals(new ReadPins.Deferred(3, 600), pins.takeDeferred(7));
    assertNull(pins.takeDeferred(7));
    assertEquals(0, pins.deferredBytes());
  }

  @Test
  void secondRemoval_ofADeletionAlreadyWaiting_keepsWaitingForTheReaders() {
    Store.Pin reader = pins.hold(9, () -> true);
    assertFalse(pins.deleteNowOrDefer(9, 4, 300), "replaced while read: deferred");
    assertFalse(pins.deleteNowOrDefer(9, 4, 300), "then its eviction's deletion runs: still deferred");
    assertEquals(300, pins.deferredBytes(), "counted once");
    reader.release();
    assertEquals(List.of(9L), deletedLater);
  }

  @Test
  void unreadOrOverTheBound_isDeletedAtOnce() {
    assertTrue(pins.deleteNowOrDefer(1, 2, 100), "nobody reads it");
    pins.hold(2, () -> true);
    pins.hold(3, () -> true);
    assertFalse(pins.deleteNowOrDefer(2, 2, 700));
    assertTrue(pins.deleteNowOrDefer(3, 2, 400), "700 + 400 bytes would pass the bound of 1000: at once");
    assertEquals(700, pins.deferredBytes());
  }

  @Test
  void holdRefused_whenTheIndexNoLongerServesIt_andAgainAfterAFailedDeletionIsKept() {
    assertSame(Store.Pin.NONE, pins.hold(5, () -> false));
    Store.Pin reader = pins.hold(5, () -> true);
    assertFalse(pins.deleteNowOrDefer(5, 1, 10));
    pins.keep(5); // the write that would have replaced it failed: it lives on
    assertEquals(0, pins.deferredBytes());
    assertNotSame(Store.Pin.NONE, pins.hold(5, () -> true));
    reader.release();
    assertTrue(deletedLater.isEmpty(), "kept: nothing to delete");
  }
}
