package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@link Coalescer}: who leads a fill, who shares it, and hit-for-pass. */
class CoalescerTest {
  private final Coalescer coalescer = new Coalescer();

  @Test
  void join_firstCallerForAKey_leadsANewFillForThatKey() {
    Coalescer.Joined j = coalescer.join("k");
    assertTrue(j.leader());
    assertEquals("k", j.fill().key);
  }

  @Test
  void join_laterCallersForTheSameKey_shareTheLeadersFillWithoutLeading() {
    Coalescer.Joined first = coalescer.join("k");
    Coalescer.Joined second = coalescer.join("k");
    Coalescer.Joined third = coalescer.join("k");
    assertFalse(second.leader());
    assertFalse(third.leader());
    assertSame(first.fill(), second.fill());
    assertSame(first.fill(), third.fill());
  }

  @Test
  void join_differentKeys_eachGetTheirOwnLeader() {
    Coalescer.Joined a = coalescer.join("a");
    Coalescer.Joined b = coalescer.join("b");
    assertTrue(a.leader());
    assertTrue(b.leader());
    assertNotSame(a.fill(), b.fill());
  }

  @Test
  void join_manyThreadsAtOnceForOneKey_electExactlyOneLeaderAndShareOneFill() throws Exception {
    int threads = 16;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int round = 0; round < 50; round++) {
        String key = "k" + round;
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Future<Coalescer.Joined>> joins = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
          joins.add(pool.submit(() -> {
            start.await(5, TimeUnit.SECONDS);
            return coalescer.join(key);
          }));
        }
        int leaders = 0;
        Set<Fill> fills = new HashSet<>();
        for (Future<Coalescer.Joined> f : joins) {
          Coalescer.Joined j = f.get(5, TimeUnit.SECONDS);
          leaders += j.leader() ? 1 : 0;
          fills.add(j.fill());
        }
        assertEquals(1, leaders, "leaders for " + key);
        assertEquals(1, fills.size(), "fills for " + key);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void done_thenJoin_leadsAFreshFill() {
    Fill first = coalescer.join("k").fill();
    coalescer.done(first);
    Coalescer.Joined again = coalescer.join("k");
    assertTrue(again.leader());
    assertNotSame(first, again.fill());
  }

  @Test
  void done_forAnOlderFillOfTheSameKey_leavesTheCurrentFillInPlace() {
    Fill old = coalescer.join("k").fill();
    coalescer.done(old);
    Fill current = coalescer.join("k").fill();
    coalescer.done(old); // a late second report from the old leader
    Coalescer.Joined waiter = coalescer.join("k");
    assertFalse(waiter.leader());
    assertSame(current, waiter.fill());
  }

  @Test
  void markUncacheable_thenJoin_returnsNullSoTheCallerFetchesAlone() {
    coalescer.markUncacheable("k");
    assertNull(coalescer.join("k"));
    assertNull(coalescer.join("k"));
  }

  @Test
  void markUncacheable_otherKeys_stillCoalesce() {
    coalescer.markUncacheable("k");
    Coalescer.Joined other = coalescer.join("other");
    assertNotNull(other);
    assertTrue(other.leader());
  }

  @Test
  void markUncacheable_whileAFillIsInFlight_newCallersNoLongerJoinIt() {
    Fill inFlight = coalescer.join("k").fill();
    coalescer.markUncacheable("k");
    assertNull(coalescer.join("k"));
    coalescer.done(inFlight);
    assertNull(coalescer.join("k"));
  }
}
