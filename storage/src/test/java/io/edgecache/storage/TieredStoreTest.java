package io.edgecache.storage;

import static io.edgecache.storage.DiskFixtures.randomEntry;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory over disk: the shared store contract (stats are the memory tier's), then routing between
 * the tiers, promotion and purges counted by distinct key.
 *
 * <p>Entries that live on disk only are written with {@code store.put} directly rather than the
 * contract's {@link #put}, since the contract's invariants compare readable keys with memory stats.
 */
class TieredStoreTest extends StoreContractTest {
  private static final long MEMORY_BYTES = 64 * 1024;
  private static final long MEMORY_OBJECT = 8 * 1024;
  private static final int CHUNK = 1024;

  @TempDir Path tmp;
  private final DiskFixtures.Probe probe = new DiskFixtures.Probe();

  @Override
  protected Store newStore() {
    DiskStore disk = DiskStore.open(new DiskOptions(tmp.resolve("db"), 1 << 20, CHUNK, 2, 256 * 1024,
        Duration.ofSeconds(30)), new DiskStore.Hooks(probe, new AtomicLong()::get, Clock.systemUTC()));
    return new TieredStore(new MemoryStore(MEMORY_BYTES, MEMORY_OBJECT, Runnable::run), disk);
  }

  private TieredStore tiered() {
    return (TieredStore) store;
  }

  @Override
  protected boolean streamsToDisk() {
    return true;
  }

  @Override
  protected void awaitIdle() {
    tiered().disk().awaitIdle();
  }

  @Test
  void rewriteMatching_diskOnlyEntry_rewritesMetaWithoutTouchingChunks() {
    Entry large = randomEntry(20 * 1024, 8, "t");
    join(store.put("large", large));

    assertEquals(java.util.Set.of("large"), join(store.rewriteMatching(Selector.tagged("t"), m -> new byte[] {9})));
    Entry after = get("large");
    assertArrayEquals(new byte[] {9}, after.meta());
    assertArrayEquals(large.body(), after.body());
    join(store.clear());
  }

  @AfterEach
  void diskTierIsConsistentAndOnlyDiskThreadsCalledLevelDb() {
    DiskRecovery.Audit audit = tiered().disk().audit();
    assertEquals(0, audit.orphanChunks() + audit.missingChunks() + audit.indexMismatches(), audit::toString);
    assertEquals(0, probe.offPool.get(), () -> probe.firstOffPool.get());
  }

  @Test
  void put_smallEntry_isInBothTiers() {
    Entry e = entry("small");
    put("k", e);

    assertSame(e, tiered().memory().getNow("k"));
    assertNotNull(join(tiered().disk().get("k")));
  }

  @Test
  void put_largerThanMemoryObjectLimit_goesToDiskOnlyAndLookupStreamsIt() {
    Entry large = randomEntry(20 * 1024, 1);
    join(store.put("large", large));

    assertNull(tiered().memory().getNow("large"));
    Store.Found hit = join(tiered().lookup("large"));
    assertEquals(Store.Tier.DISK, hit.tier());
    assertNull(hit.entry());
    ByteArrayOutputStream streamed = new ByteArrayOutputStream();
    for (int i = 0; i < hit.body().chunkCount(); i++) {
      streamed.writeBytes(DiskFixtures.bytesOf(join(hit.body().readChunk(i))));
    }
    assertArrayEquals(large.body(), streamed.toByteArray());
    assertArrayEquals(large.body(), get("large").body());
    assertEquals(0, store.stats().rejected(), "going to disk only is not a rejection");
  }

  @Test
  void put_largeReplacementOfASmallEntry_dropsTheMemoryCopy() {
    join(store.put("k", entry("small")));
    Entry large = randomEntry(20 * 1024, 2);
    join(store.put("k", large));

    assertNull(tiered().memory().getNow("k"));
    assertArrayEquals(large.body(), get("k").body());
  }

  @Test
  void get_diskHit_isPromotedOnTheSecondReadNotTheFirst() {
    Entry e = randomEntry(2000, 3);
    put("k", e);
    join(tiered().memory().remove("k")); // as if memory had evicted it

    assertArrayEquals(e.body(), get("k").body());
    assertNull(tiered().memory().getNow("k"), "one read is not enough");
    assertArrayEquals(e.body(), get("k").body());
    assertNotNull(tiered().memory().getNow("k"), "the second read promotes");
  }

  @Test
  void lookup_smallDiskHit_returnsTheWholeEntryAndPromotesOnTheSecondRead() {
    Entry e = randomEntry(3000, 4, "t");
    put("k", e);
    join(tiered().memory().remove("k"));

    Store.Found first = join(tiered().lookup("k"));
    assertEquals(Store.Tier.DISK, first.tier());
    assertArrayEquals(e.body(), first.entry().body());
    assertEquals(e.tags(), first.entry().tags());
    assertNull(tiered().memory().getNow("k"));
    join(tiered().lookup("k"));
    assertNotNull(tiered().memory().getNow("k"));
    assertEquals(Store.Tier.MEMORY, join(tiered().lookup("k")).tier());
  }

  @Test
  void lookup_largeDiskHitWhileMemoryShedsOrIsHeld_streamsInsteadOfReadingWhole() {
    MemoryStore memory = new MemoryStore(4 << 20, 1 << 20, Runnable::run);
    DiskStore disk = DiskStore.open(new DiskOptions(tmp.resolve("db-large"), 16 << 20, 64 * 1024, 2, 1 << 20,
        Duration.ofSeconds(30)), new DiskStore.Hooks(probe, new AtomicLong()::get, Clock.systemUTC()));
    try (TieredStore t = new TieredStore(memory, disk)) {
      Entry e = randomEntry(300 * 1024, 7, "t");
      join(t.put("big", e));
      disk.awaitIdle();
      join(memory.remove("big"));

      assertNotNull(join(t.lookup("big")).body(), "first recent read streams");
      memory.setMaximum(0); // shedding: a promotion could not stay
      assertNotNull(join(t.lookup("big")).body(), "no whole copy is read while the tier sheds");
      memory.setMaximum(4 << 20);
      Store.Found promoted = join(t.lookup("big"));
      assertNotNull(promoted.entry(), "read whole to be promoted once there is room");
      assertEquals(Store.Tier.MEMORY, join(t.lookup("big")).tier());
    }
  }

  @Test
  void lookup_miss_returnsNull() {
    assertNull(join(tiered().lookup("nope")));
  }

  @Test
  void removeMatching_prefixInOneOrBothTiers_countsDistinctKeys() {
    join(store.put("p/both", entry("1")));
    join(store.put("p/disk-only", randomEntry(20 * 1024, 5)));
    join(store.put("p/evicted-from-memory", entry("3")));
    join(tiered().memory().remove("p/evicted-from-memory"));
    join(store.put("q/other", entry("4")));

    assertEquals(3, join(store.removeMatching(Selector.prefix("p/"))).size());
    assertNull(get("p/both"));
    assertNull(get("p/disk-only"));
    assertNotNull(get("q/other"));
    join(store.clear());
  }

  @Test
  void removeMatching_taggedReachesBothTiersAndCountsDistinctKeys() {
    join(store.put("a", entry("1", "t")));
    join(store.put("b", randomEntry(20 * 1024, 6, "t")));

    assertEquals(2, join(store.removeMatching(Selector.tagged("t"))).size());
    assertNull(join(tiered().lookup("a")));
    assertNull(join(tiered().lookup("b")));
  }

  @Test
  void keys_bothTiers_areListedOnce() {
    join(store.put("a", entry("1", "t")));
    join(store.put("b", randomEntry(20 * 1024, 7, "t")));

    assertEquals(2, join(store.keys(Selector.tagged("t"))).size());
    assertTrue(join(store.keys(Selector.key("b"))).contains("b"));
    join(store.clear());
  }
}
