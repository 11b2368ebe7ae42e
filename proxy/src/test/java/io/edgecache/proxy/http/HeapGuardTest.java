package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.storage.Entry;
import io.edgecache.storage.MemoryStore;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The shedding policy, fed readings directly (no collection is needed). */
class HeapGuardTest {
  private static final long MIB = 1L << 20;
  private static final long HEAP = 1000 * MIB;

  private final MemoryStore memory = new MemoryStore(400 * MIB, 8 * MIB);
  private final FillBudget fills = new FillBudget(100 * MIB);
  private final HeapGuard guard = new HeapGuard(memory, fills, 0.9);

  @Test
  void onCollection_belowTheThreshold_changesNothing() {
    guard.onCollection(800 * MIB, HEAP);

    assertEquals(400 * MIB, memory.maximum());
    assertFalse(guard.shedding());
    assertTrue(fills.tryReserve(MIB));
  }

  @Test
  void onCollection_aboveTheThreshold_shrinksTheTierByTheExcessPlusATenthAndClosesFills() {
    for (int i = 0; i < 300; i++) {
      memory.putNow("k" + i, new Entry(new byte[10], new byte[1 << 20], Set.of()));
    }
    guard.onCollection(950 * MIB, HEAP);

    assertEquals(400 * MIB - 50 * MIB - 40 * MIB, memory.maximum());
    assertTrue(memory.stats().bytes() <= memory.maximum(), "evicted down to the new bound at once");
    assertTrue(guard.shedding());
    assertEquals(1, guard.sheds());
    assertFalse(fills.tryReserve(1), "no new fill while shedding");
  }

  @Test
  void onCollection_pressureEases_reopensFillsAndGrowsBackATenthPerCollection() {
    guard.onCollection(950 * MIB, HEAP);
    long shed = memory.maximum();

    guard.onCollection(850 * MIB, HEAP);
    assertEquals(shed, memory.maximum(), "between threshold - 0.1 and the threshold: hold");
    assertFalse(fills.tryReserve(1));

    guard.onCollection(700 * MIB, HEAP);
    assertTrue(fills.tryReserve(1), "fills reopen below threshold - 0.1");
    assertEquals(shed + 40 * MIB, memory.maximum());
    for (int i = 0; i < 5; i++) {
      guard.onCollection(700 * MIB, HEAP);
    }
    assertEquals(400 * MIB, memory.maximum(), "never above the configured bound");
    assertFalse(guard.shedding());
  }
}
