package io.edgecache.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The memory tier: the shared store contract plus its limits. Eviction maintenance runs on the
 * calling thread ({@code Runnable::run}), so eviction is deterministic and nothing sleeps.
 */
class MemoryStoreTest extends StoreContractTest {
  private static final long MAX_BYTES = 64 * 1024;
  private static final long MAX_OBJECT_BYTES = 8 * 1024;

  @Override
  protected Store newStore() {
    return new MemoryStore(MAX_BYTES, MAX_OBJECT_BYTES, Runnable::run);
  }

  private MemoryStore memory() {
    return (MemoryStore) store;
  }

  @Test
  void put_bodyLargerThanMaxObjectBytes_isRefusedAndCountedAsRejected() {
    put("big", entryOfBodySize((int) MAX_OBJECT_BYTES + 1));

    assertNull(get("big"));
    assertEquals(1, store.stats().rejected());
    assertEquals(0, store.stats().evictions());
  }

  @Test
  void putNow_bodyLargerThanMaxObjectBytes_returnsFalse() {
    assertFalse(memory().putNow("big", entryOfBodySize((int) MAX_OBJECT_BYTES + 1)));
  }

  @Test
  void put_bodyOfExactlyMaxObjectBytes_isStored() {
    put("edge", entryOfBodySize((int) MAX_OBJECT_BYTES));

    assertNotNull(get("edge"));
    assertEquals(0, store.stats().rejected());
  }

  @Test
  void put_oversizedReplacement_removesThePreviousEntry() {
    put("k", entry("small"));
    put("k", entryOfBodySize((int) MAX_OBJECT_BYTES + 1));

    // Keeping the old body would serve a response the origin has since replaced.
    assertNull(get("k"));
  }

  @Test
  void put_pastMaxBytes_keepsBytesWithinBound() {
    for (int i = 0; i < 40; i++) {
      put("k" + i, entryOfBodySize(4 * 1024));
    }

    assertTrue(store.stats().bytes() <= MAX_BYTES, () -> "bytes " + store.stats().bytes());
  }

  @Test
  void put_pastMaxBytes_countsEveryEvictedEntry() {
    int puts = 40;
    for (int i = 0; i < puts; i++) {
      put("k" + i, entryOfBodySize(4 * 1024));
    }

    StoreStats stats = store.stats();
    assertTrue(stats.evictions() > 0);
    assertEquals(puts - stats.entries(), stats.evictions());
    assertEquals(0, stats.rejected());
  }

  // ---------------------------------------------------------------- large new entries

  private static final long TIER = 1024 * 1024;
  private static final int SMALL = 2 * 1024;
  private static final int LARGE = 64 * 1024; // over 1% of TIER: more than Caffeine's first admission window

  /** A 1 MiB tier full of 2 KiB entries ("h0" ...), each read 4 times, as a warm cache's are. */
  private static MemoryStore fullOfEntriesReadFourTimes() {
    MemoryStore m = new MemoryStore(TIER, 256 * 1024, Runnable::run);
    int n = (int) (TIER / SMALL);
    for (int i = 0; i < n; i++) {
      m.putNow("h" + i, entryOfBodySize(SMALL));
    }
    for (int r = 0; r < 4; r++) {
      for (int i = 0; i < n; i++) {
        m.getNow("h" + i);
      }
    }
    return m;
  }

  private static int present(MemoryStore m, String prefix, int count) {
    int found = 0;
    for (int i = 0; i < count; i++) {
      if (m.peek(prefix + i) != null) {
        found++;
      }
    }
    return found;
  }

  @Test
  void putNow_largeNewEntry_inAFullTierOfEntriesReadSeveralTimes_isStoredAtOnce() {
    MemoryStore m = fullOfEntriesReadFourTimes();

    assertTrue(m.putNow("new", entryOfBodySize(LARGE)));

    // Judged at once with one use against entries read 4 times, it was dropped as it was stored:
    // the next request went to the origin again (nginx and Varnish keep it)
    assertNotNull(m.getNow("new"));
    assertTrue(m.stats().bytes() <= TIER, () -> "bytes " + m.stats().bytes());
  }

  @Test
  void putNow_largeEntryAskedForAgain_staysWhenNewerLargeOnesEndItsWait() {
    MemoryStore m = fullOfEntriesReadFourTimes();
    m.putNow("asked", entryOfBodySize(LARGE));
    for (int r = 0; r < 6; r++) {
      assertNotNull(m.getNow("asked"));
    }

    for (int i = 0; i < 6; i++) { // each pushes the one before out of the wait (a tenth of the tier)
      m.putNow("once" + i, entryOfBodySize(LARGE));
    }

    assertNotNull(m.getNow("asked"));
    assertTrue(m.stats().bytes() <= TIER, () -> "bytes " + m.stats().bytes());
  }

  @Test
  void putNow_scanOfLargeEntriesReadOnce_dropsTheScanAndKeepsTheEntriesInUse() {
    MemoryStore m = fullOfEntriesReadFourTimes();
    int hot = present(m, "h", (int) (TIER / SMALL));

    int scan = 32; // 2 MiB of large bodies through a 1 MiB tier, each stored once and never read
    for (int i = 0; i < scan; i++) {
      m.putNow("scan" + i, entryOfBodySize(LARGE));
      assertTrue(m.stats().bytes() <= TIER, () -> "bytes " + m.stats().bytes());
    }

    assertTrue(present(m, "scan", scan) <= 2, () -> present(m, "scan", scan) + " of the scan kept");
    int hotAfter = present(m, "h", (int) (TIER / SMALL));
    assertTrue(hotAfter >= hot * 8 / 10, () -> hotAfter + " of " + hot + " entries in use kept");
  }

  @Test
  void setMaximum_whileALargeEntryWaits_judgesItAndKeepsWithinTheLoweredBound() {
    MemoryStore m = fullOfEntriesReadFourTimes();
    m.putNow("new", entryOfBodySize(LARGE));

    m.setMaximum(TIER / 2);

    assertTrue(m.stats().bytes() <= TIER / 2, () -> "bytes " + m.stats().bytes());
    m.putNow("shed", entryOfBodySize(LARGE)); // no wait while shedding
    assertTrue(m.stats().bytes() <= TIER / 2, () -> "bytes " + m.stats().bytes());
  }

  @Test
  void removeMatching_ofAWaitingLargeEntry_givesItsRoomBack() {
    MemoryStore m = fullOfEntriesReadFourTimes();
    m.putNow("new", entryOfBodySize(LARGE));
    long waiting = m.stats().bytes();

    m.removeMatchingNow(Selector.key("new"));

    assertNull(m.getNow("new"));
    assertTrue(m.stats().bytes() < waiting);
    for (int i = 0; i < 40; i++) { // the room it held is Caffeine's again: small entries fill it
      m.putNow("more" + i, entryOfBodySize(SMALL));
    }
    assertTrue(m.stats().bytes() > TIER - 4 * SMALL, () -> "bytes " + m.stats().bytes());
  }

  @Test
  void concurrentPutsRemovalsAndRewrites_everyWaitingEntryIsTheStoredOneAndTheBoundHolds() throws Exception {
    java.util.concurrent.ExecutorService maintenance = java.util.concurrent.Executors.newSingleThreadExecutor();
    MemoryStore m = new MemoryStore(TIER, 256 * 1024, maintenance);
    java.util.List<Thread> threads = new java.util.ArrayList<>();
    for (int t = 0; t < 4; t++) {
      long seed = t;
      Thread thread = new Thread(() -> {
        java.util.Random rnd = new java.util.Random(seed);
        for (int i = 0; i < 5_000; i++) {
          String key = "k" + rnd.nextInt(60);
          switch (rnd.nextInt(6)) {
            case 0, 1 -> m.putNow(key, entryOfBodySize(rnd.nextBoolean() ? LARGE : SMALL));
            case 2 -> m.putIfAbsentNow(key, entryOfBodySize(rnd.nextBoolean() ? LARGE : SMALL));
            case 3 -> m.removeMatchingNow(Selector.key(key));
            case 4 -> m.rewriteMatchingNow(Selector.key(key), meta -> new byte[] {7});
            default -> m.getNow(key);
          }
        }
      });
      thread.start();
      threads.add(thread);
    }
    for (Thread t : threads) {
      t.join();
    }
    maintenance.shutdown();
    assertTrue(maintenance.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS));

    m.waiting().forEach((k, e) -> assertSame(e, m.peek(k), k + " waits but is not what the tier stores"));
    assertTrue(m.stats().bytes() <= TIER, () -> "bytes " + m.stats().bytes());
    m.removeMatchingNow(new Selector.Prefix("k"));
    assertEquals(0, m.waiting().size());
    assertEquals(0, m.stats().bytes());
  }

  @Test
  void getNow_storedKey_returnsTheSameInstanceAsGet() {
    Entry e = entry("x");
    put("k", e);

    assertSame(e, memory().getNow("k"));
    assertSame(e, get("k"));
  }

  @Test
  void stats_maxBytes_isTheConfiguredBound() {
    assertEquals(MAX_BYTES, store.stats().maxBytes());
  }

  // ---------------------------------------------------------------- bodies readers hold

  @Test
  void pin_ofEvictedBody_countsAgainstTheBoundUntilReleased() {
    Entry held = entryOfBodySize(8 * 1024);
    put("held", held);
    long weight = memory().weigh("held", held);
    Store.Pin pin = store.pin("held", held.body());

    store.removeMatching(new Selector.Keys(java.util.Set.of("held"))).toCompletableFuture().join();
    assertEquals(weight, memory().detachedBytes());
    for (int i = 0; i < 20; i++) {
      put("k" + i, entryOfBodySize(4 * 1024));
    }
    // what is stored plus what the reader holds stays within the bound
    assertTrue(store.stats().bytes() + memory().detachedBytes() <= MAX_BYTES, () -> store.stats().toString());

    pin.release();
    pin.release(); // a second release changes nothing
    assertEquals(0, memory().detachedBytes());
    for (int i = 20; i < 40; i++) {
      put("k" + i, entryOfBodySize(4 * 1024));
    }
    assertTrue(store.stats().bytes() > MAX_BYTES - 8 * 1024, "the whole bound is usable again");
  }

  @Test
  void pin_ofStoredBody_costsNothingExtraWhileItStaysStored() {
    Entry held = entryOfBodySize(8 * 1024);
    put("held", held);
    Store.Pin a = store.pin("held", held.body());
    Store.Pin b = store.pin("held", held.body());

    assertEquals(0, memory().detachedBytes());
    memory().rewriteMatchingNow(new Selector.Keys(java.util.Set.of("held")), meta -> new byte[] {1});
    assertEquals(0, memory().detachedBytes(), "a rewrite keeps the body stored");

    put("held", entryOfBodySize(8 * 1024)); // replaced by a new body: the old one is held by two readers
    assertTrue(memory().detachedBytes() > 8 * 1024);
    a.release();
    assertTrue(memory().detachedBytes() > 8 * 1024, "one reader still holds it");
    b.release();
    assertEquals(0, memory().detachedBytes());
  }

  @Test
  void pin_ofBodyNotStored_countsAtOnce() {
    byte[] body = new byte[4096];
    Store.Pin pin = store.pin("nowhere", body);

    assertTrue(memory().detachedBytes() >= 4096);
    assertEquals(MAX_BYTES, memory().maximum(), "the configured bound is unchanged");
    pin.release();
    assertEquals(0, memory().detachedBytes());
  }

  @Test
  void pin_whileShed_detachedBytesComeOffTheLoweredBound() {
    Entry held = entryOfBodySize(8 * 1024);
    put("held", held);
    Store.Pin pin = store.pin("held", held.body());
    memory().setMaximum(0); // shed everything: the held body is detached
    memory().setMaximum(MAX_BYTES);
    for (int i = 0; i < 20; i++) {
      put("k" + i, entryOfBodySize(4 * 1024));
    }

    assertTrue(store.stats().bytes() + memory().detachedBytes() <= MAX_BYTES);
    pin.release();
  }
}
