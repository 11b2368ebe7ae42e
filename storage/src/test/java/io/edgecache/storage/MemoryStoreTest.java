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
}
