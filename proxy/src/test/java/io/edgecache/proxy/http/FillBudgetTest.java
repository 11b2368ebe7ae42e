package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

class FillBudgetTest {
  private static Buffer bytes(int n) {
    return Buffer.buffer(new byte[n]);
  }

  @Test
  void tryReserve_withinCapacity_reservesAndReleaseGivesItBack() {
    FillBudget budget = new FillBudget(100, n -> n);
    assertTrue(budget.tryReserve(60));
    assertEquals(40, budget.available());
    budget.release(60);
    assertEquals(100, budget.available());
  }

  @Test
  void tryReserve_beyondWhatIsLeft_refusesAndReservesNothing() {
    FillBudget budget = new FillBudget(100, n -> n);
    assertTrue(budget.tryReserve(60));
    assertFalse(budget.tryReserve(41));
    assertEquals(40, budget.available());
  }

  @Test
  void collectorAdd_withinLimitAndBudget_collectsAndTakeReturnsTheBudget() {
    FillBudget budget = new FillBudget(100, n -> n);
    BodyCollector c = new BodyCollector(50, budget);
    assertTrue(c.add(bytes(30)));
    assertTrue(c.add(bytes(20)));
    assertEquals(50, budget.available());
    assertEquals(50, c.take().length);
    assertEquals(100, budget.available());
  }

  @Test
  void collectorAdd_pastObjectLimit_refusesReleasesAndStaysRefused() {
    FillBudget budget = new FillBudget(100, n -> n);
    BodyCollector c = new BodyCollector(50, budget);
    assertTrue(c.add(bytes(30)));
    assertFalse(c.add(bytes(21)));
    assertEquals(100, budget.available());
    assertFalse(c.collecting());
    assertFalse(c.add(bytes(1)));
    assertNull(c.take());
  }

  @Test
  void collectorAdd_budgetSpentByAnotherFill_refusesThoughUnderTheObjectLimit() {
    FillBudget budget = new FillBudget(100, n -> n);
    BodyCollector first = new BodyCollector(1000, budget);
    BodyCollector second = new BodyCollector(1000, budget);
    assertTrue(first.add(bytes(80)));
    assertFalse(second.add(bytes(30)));
    assertEquals(20, budget.available());
    first.release();
    assertEquals(100, budget.available());
  }

  @Test
  void collectorRelease_calledTwice_returnsTheReservationOnce() {
    FillBudget budget = new FillBudget(100, n -> n);
    BodyCollector c = new BodyCollector(1000, budget);
    assertTrue(c.add(bytes(40)));
    c.release();
    c.release();
    assertEquals(100, budget.available());
  }

  @Test
  void collectorWithLength_reservesTheWholeArrayAtTheFirstByteAndHandsItOverWhole() {
    FillBudget budget = new FillBudget(100, n -> n);
    BodyCollector c = new BodyCollector(1000, budget, 60);
    assertTrue(c.add(bytes(10)));
    assertEquals(40, budget.available(), "the 60-byte array is reserved at once");
    assertTrue(c.add(bytes(50)));
    assertEquals(60, c.take().length);
    assertEquals(100, budget.available());
  }

  @Test
  void collectorWithLength_bodyShorterOrLongerThanAnnounced_isNeverHandedOver() {
    FillBudget budget = new FillBudget(100, n -> n);
    BodyCollector shorter = new BodyCollector(1000, budget, 60);
    assertTrue(shorter.add(bytes(59)));
    assertNull(shorter.take());
    BodyCollector longer = new BodyCollector(1000, budget, 60);
    assertTrue(longer.add(bytes(59)));
    assertFalse(longer.add(bytes(2)));
    assertNull(longer.take());
    assertEquals(100, budget.available());
  }

  @Test
  void collectorWithLength_overTheObjectLimit_refusesAtTheFirstByte() {
    FillBudget budget = new FillBudget(1000, n -> n);
    BodyCollector c = new BodyCollector(50, budget, 60);
    assertFalse(c.add(bytes(1)));
    assertEquals(1000, budget.available());
  }

  @Test
  void collectorWithoutLength_joiningThePartsNeedsRoomForTheJoinedArray() {
    FillBudget budget = new FillBudget(100, n -> n);
    BodyCollector c = new BodyCollector(1000, budget);
    assertTrue(c.add(bytes(30)));
    assertTrue(c.add(bytes(30)));
    assertNull(c.take(), "60 held + 60 joined would overdraw 100: not stored");
    assertEquals(100, budget.available());
  }

  @Test
  void heapCost_ofThisJvm_countsTheArrayHeaderAndNeverLessThanTheBytes() {
    FillBudget budget = new FillBudget(1 << 30);
    assertEquals(1016, budget.heapCost(1000));
    assertTrue(budget.heapCost(8 << 20) >= (8 << 20) + 16);
  }
}
