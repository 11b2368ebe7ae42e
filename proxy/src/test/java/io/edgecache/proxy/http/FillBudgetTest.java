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
    FillBudget budget = new FillBudget(100);
    assertTrue(budget.tryReserve(60));
    assertEquals(40, budget.available());
    budget.release(60);
    assertEquals(100, budget.available());
  }

  @Test
  void tryReserve_beyondWhatIsLeft_refusesAndReservesNothing() {
    FillBudget budget = new FillBudget(100);
    assertTrue(budget.tryReserve(60));
    assertFalse(budget.tryReserve(41));
    assertEquals(40, budget.available());
  }

  @Test
  void collectorAdd_withinLimitAndBudget_collectsAndTakeReturnsTheBudget() {
    FillBudget budget = new FillBudget(100);
    BodyCollector c = new BodyCollector(50, budget);
    assertTrue(c.add(bytes(30)));
    assertTrue(c.add(bytes(20)));
    assertEquals(50, budget.available());
    assertEquals(50, c.take().length);
    assertEquals(100, budget.available());
  }

  @Test
  void collectorAdd_pastObjectLimit_refusesReleasesAndStaysRefused() {
    FillBudget budget = new FillBudget(100);
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
    FillBudget budget = new FillBudget(100);
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
    FillBudget budget = new FillBudget(100);
    BodyCollector c = new BodyCollector(1000, budget);
    assertTrue(c.add(bytes(40)));
    c.release();
    c.release();
    assertEquals(100, budget.available());
  }
}
