package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link Revalidations}: one conditional request per key; the others wait and are woken once. */
class RevalidationsTest {
  private final Revalidations revalidations = new Revalidations();

  @Test
  void lead_firstCallerForAKey_leads() {
    assertTrue(revalidations.lead("k", () -> { }));
  }

  @Test
  void lead_laterCallersForTheSameKey_waitWithoutBeingWokenYet() {
    AtomicInteger woken = new AtomicInteger();
    revalidations.lead("k", () -> { });
    assertFalse(revalidations.lead("k", woken::incrementAndGet));
    assertFalse(revalidations.lead("k", woken::incrementAndGet));
    assertEquals(0, woken.get());
  }

  @Test
  void done_wakesEveryWaiterExactlyOnce() {
    AtomicInteger[] woken = {new AtomicInteger(), new AtomicInteger(), new AtomicInteger()};
    revalidations.lead("k", () -> { });
    for (AtomicInteger w : woken) {
      revalidations.lead("k", w::incrementAndGet);
    }
    revalidations.done("k");
    revalidations.done("k"); // a second report wakes no one twice
    for (AtomicInteger w : woken) {
      assertEquals(1, w.get());
    }
  }

  @Test
  void done_doesNotRunTheLeadersOwnCallback() {
    AtomicInteger leaderCallback = new AtomicInteger();
    revalidations.lead("k", leaderCallback::incrementAndGet);
    revalidations.done("k");
    assertEquals(0, leaderCallback.get());
  }

  @Test
  void lead_afterDone_leadsANewRevalidation() {
    AtomicInteger oldWaiter = new AtomicInteger();
    revalidations.lead("k", () -> { });
    revalidations.lead("k", oldWaiter::incrementAndGet);
    revalidations.done("k");
    assertTrue(revalidations.lead("k", () -> { }));
    revalidations.done("k");
    assertEquals(1, oldWaiter.get());
  }

  @Test
  void done_forOneKey_leavesOtherKeysWaiting() {
    AtomicInteger waiterA = new AtomicInteger();
    AtomicInteger waiterB = new AtomicInteger();
    assertTrue(revalidations.lead("a", () -> { }));
    assertTrue(revalidations.lead("b", () -> { }));
    revalidations.lead("a", waiterA::incrementAndGet);
    revalidations.lead("b", waiterB::incrementAndGet);
    revalidations.done("a");
    assertEquals(1, waiterA.get());
    assertEquals(0, waiterB.get());
    assertFalse(revalidations.lead("b", () -> { }), "b is still being revalidated");
    revalidations.done("b");
    assertEquals(1, waiterB.get());
  }

  @Test
  void done_forAKeyNobodyLeads_isHarmless() {
    revalidations.done("nobody");
    assertTrue(revalidations.lead("nobody", () -> { }));
  }

  @Test
  void lead_manyThreadsAtOnceForOneKey_electExactlyOneLeaderAndWakeEveryOtherOnce() throws Exception {
    int threads = 16;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int round = 0; round < 50; round++) {
        String key = "k" + round;
        CyclicBarrier start = new CyclicBarrier(threads);
        AtomicInteger woken = new AtomicInteger();
        List<Future<Boolean>> leads = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
          leads.add(pool.submit(() -> {
            start.await(5, TimeUnit.SECONDS);
            return revalidations.lead(key, woken::incrementAndGet);
          }));
        }
        int leaders = 0;
        for (Future<Boolean> f : leads) {
          leaders += f.get(5, TimeUnit.SECONDS) ? 1 : 0;
        }
        assertEquals(1, leaders, "leaders for " + key);
        assertEquals(0, woken.get());
        revalidations.done(key);
        assertEquals(threads - 1, woken.get(), "waiters woken for " + key);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
