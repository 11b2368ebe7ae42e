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
