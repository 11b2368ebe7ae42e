package io.edgecache.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link Store} tier must share. A tier's test extends this class and supplies
 * {@link #newStore()}; the tier-specific tests (limits, eviction) live in the subclass.
 *
 * <p>After every test, {@link #checkInvariants()} verifies, as Caffeine's validation interceptor
 * does, that the store's accounting matches its content: {@code stats().entries} is the number of
 * keys still readable and {@code stats().bytes} is the sum of their weights. To make that check
 * possible, tests write only through {@link #put}, which remembers every key written.
 */
public abstract class StoreContractTest {
  /** The store under test, fresh for every test. */
  protected Store store;

  /** Every key a test wrote, for the invariants check. */
  protected final Set<String> written = new LinkedHashSet<>();

  /** A new, empty store with room for a few dozen small entries. */
  protected abstract Store newStore();

  /**
   * The bytes {@code entry} stored under {@code key} costs; MemoryStore counts the key's heap and
   * its place in the key index too.
   */
  protected long expectedWeight(String key, Entry entry) {
    return entry.weight() + Entry.keyBytes(key) + KeyIndex.heapBytes(entry.tags().size());
  }

  @BeforeEach
  void createStore() {
    store = newStore();
  }

  @AfterEach
  void checkInvariants() {
    try {
      long entries = 0;
      long bytes = 0;
      for (String key : written) {
        Entry e = get(key);
        if (e != null) {
          entries++;
          bytes += expectedWeight(key, e);
        }
      }
      StoreStats stats = store.stats();
      assertEquals(entries, stats.entries(), "stats().entries must equal the readable entries");
      assertEquals(bytes, stats.bytes(), "stats().bytes must equal the sum of the entries' weights");
      assertTrue(stats.bytes() <= stats.maxBytes(), "stats().bytes must not exceed maxBytes");
    } finally {
      store.close();
    }
  }

  // ---------------------------------------------------------------- helpers for subclasses

  /** Returns once no write accepted so far is still queued or running; a no-op for synchronous tiers. */
  protected void awaitIdle() {}

  /** Closes the store and opens it again on the same data, for tiers that persist; else does nothing. */
  protected void restart() {}

  /** Whether {@link #restart} keeps the data. */
  protected boolean persistent() {
    return false;
  }

  /** Whether the tier writes bodies to disk as they arrive ({@link Store#openWriter}); else it answers null. */
  protected boolean streamsToDisk() {
    return false;
  }

  protected final void put(String key, Entry entry) {
    written.add(key);
    join(store.put(key, entry));
  }

  protected final Entry get(String key) {
    return join(store.get(key));
  }

  protected static <T> T join(CompletionStage<T> stage) {
    return stage.toCompletableFuture().join();
  }

  protected static Entry entry(String body, String... tags) {
    return new Entry(("meta:" + body).getBytes(StandardCharsets.UTF_8), body.getBytes(StandardCharsets.UTF_8),
        Set.of(tags));
  }

  protected static Entry entryOfBodySize(int bodyBytes) {
    return new Entry(new byte[] {1, 2, 3}, new byte[bodyBytes], Set.of());
  }

  private static void assertSameContent(Entry expected, Entry actual) {
    assertNotNull(actual);
    assertArrayEquals(expected.meta(), actual.meta());
    assertArrayEquals(expected.body(), actual.body());
    assertEquals(expected.tags(), actual.tags());
  }

  // ---------------------------------------------------------------- bodies written as they arrive

  @Test
  void openWriter_commit_makesTheWholeBodyVisibleOnlyThenAndAbortLeavesNothing() {
    byte[] body = new byte[5000];
    for (int i = 0; i < body.length; i++) {
      body[i] = (byte) (i * 31);
    }
    byte[] meta = "meta:streamed".getBytes(StandardCharsets.UTF_8);
    DiskWriter w = store.openWriter("streamed", meta, Set.of("s"), body.length);
    if (!streamsToDisk()) {
      assertNull(w, "a tier without a disk answers null");
      return;
    }
    assertNotNull(w);
    w.write(body, 0, 3000);
    awaitIdle();
    assertNull(get("streamed"), "nothing is visible before the commit");
    w.write(body, 3000, body.length - 3000);

    assertTrue(join(w.commit()));

    Entry e = get("streamed");
    assertNotNull(e);
    assertArrayEquals(body, e.body());
    assertArrayEquals(meta, e.meta());
    assertEquals(Set.of("s"), e.tags());
    DiskWriter abandoned = store.openWriter("abandoned", meta, Set.of(), body.length);
    abandoned.write(body, 0, 4000);
    abandoned.abort();
    assertFalse(join(abandoned.done()));
    assertNull(get("abandoned"));
    join(store.remove("streamed")); // written outside put(): the invariants do not count it
  }

  @Test
  void openWriter_removalOfItsTagWhileWriting_winsOverTheCommit() {
    DiskWriter w = store.openWriter("streamed", new byte[] {1}, Set.of("t"), 3000);
    if (!streamsToDisk()) {
      assertNull(w);
      return;
    }
    w.write(new byte[2000], 0, 2000);
    join(store.removeMatching(Selector.tagged("t")));
    w.write(new byte[1000], 0, 1000);

    assertFalse(join(w.commit()));
    assertNull(get("streamed"));
  }

  // ---------------------------------------------------------------- get / put

  @Test
  void get_absentKey_returnsNull() {
    assertNull(get("nope"));
  }

  @Test
  void put_thenGet_returnsTheEntry() {
    Entry e = entry("hello", "t1");
    put("k", e);

    assertSameContent(e, get("k"));
  }

  @Test
  void put_sameKeyTwice_replacesTheEntry() {
    put("k", entry("first"));
    Entry second = entry("second, longer");
    put("k", second);

    assertSameContent(second, get("k"));
    assertEquals(1, store.stats().entries());
  }

  @Test
  void put_emptyBody_isStored() {
    Entry e = new Entry(new byte[] {7}, new byte[0], Set.of());
    put("empty", e);

    assertSameContent(e, get("empty"));
  }

  // ---------------------------------------------------------------- remove

  @Test
  void remove_presentKey_returnsTrueAndEntryIsGone() {
    put("k", entry("x"));

    assertTrue(join(store.remove("k")));
    assertNull(get("k"));
  }

  @Test
  void remove_absentKey_returnsFalse() {
    put("k", entry("x"));

    assertFalse(join(store.remove("other")));
    assertNotNull(get("k"));
  }

  @Test
  void removeMatching_prefixMatchingKeys_removesOnlyThoseAndCountsThem() {
    put("host/a", entry("1"));
    put("host/a/b", entry("2"));
    put("host/b", entry("3"));
    put("other/a", entry("4"));

    assertEquals(2, join(store.removeMatching(Selector.prefix("host/a"))).size());
    assertNull(get("host/a"));
    assertNull(get("host/a/b"));
    assertNotNull(get("host/b"));
    assertNotNull(get("other/a"));
  }

  @Test
  void removeMatching_prefixNoMatch_returnsZero() {
    put("host/a", entry("1"));

    assertEquals(0, join(store.removeMatching(Selector.prefix("zzz"))).size());
    assertNotNull(get("host/a"));
  }

  @Test
  void removeMatching_where_removesMatchingKeysAndCountsThem() {
    put("a1", entry("1"));
    put("b2", entry("2"));
    put("a3", entry("3"));

    assertEquals(2, join(store.removeMatching(Selector.where((k, tags) -> k.startsWith("a")))).size());
    assertNotNull(get("b2"));
    assertNull(get("a1"));
  }

  @Test
  void removeMatching_taggedEntries_removesOnlyThoseAndReportsTheirTags() {
    put("k1", entry("1", "product:1", "all"));
    put("k2", entry("2", "product:2", "all"));
    put("k3", entry("3", "product:1"));

    assertEquals(Map.of("k1", Set.of("product:1", "all"), "k3", Set.of("product:1")),
        join(store.removeMatching(Selector.tagged("product:1"))));
    assertNull(get("k1"));
    assertNull(get("k3"));
    assertNotNull(get("k2"));
  }

  @Test
  void removeMatching_unknownTag_returnsNothing() {
    put("k1", entry("1", "a"));

    assertEquals(0, join(store.removeMatching(Selector.tagged("b"))).size());
    assertNotNull(get("k1"));
  }

  @Test
  void clear_withEntries_removesEverythingAndCountsThem() {
    put("k1", entry("1"));
    put("k2", entry("2"));
    put("k3", entry("3"));

    assertEquals(3, join(store.clear()));
    assertNull(get("k1"));
    assertEquals(0, store.stats().entries());
    assertEquals(0, store.stats().bytes());
  }

  @Test
  void clear_emptyStore_returnsZero() {
    assertEquals(0, join(store.clear()));
  }

  @Test
  void remove_whilePutQueued_staysGone() {
    List<CompletionStage<?>> pending = new ArrayList<>();
    // several writes, so that most wait in the queue of an asynchronous tier when their removal comes
    for (int i = 0; i < 16; i++) {
      written.add("q" + i);
      pending.add(store.put("q" + i, entryOfBodySize(6000 + i)));
      pending.add(store.remove("q" + i));
    }
    pending.forEach(StoreContractTest::join);
    awaitIdle();

    for (int i = 0; i < 16; i++) {
      assertNull(get("q" + i), "q" + i + " came back after its removal");
    }
    if (persistent()) {
      restart();
      for (int i = 0; i < 16; i++) {
        assertNull(get("q" + i), "q" + i + " came back after a restart");
      }
    }
  }

  @Test
  void removeMatching_prefixWhilePutsQueued_staysGoneAndLaterPutsStay() {
    List<CompletionStage<?>> pending = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      written.add("p/" + i);
      pending.add(store.put("p/" + i, entryOfBodySize(6000 + i)));
    }
    pending.add(store.removeMatching(Selector.prefix("p/")));
    pending.forEach(StoreContractTest::join);
    put("p/after", entry("later"));
    awaitIdle();

    for (int i = 0; i < 16; i++) {
      assertNull(get("p/" + i), "p/" + i + " came back after the prefix removal");
    }
    assertNotNull(get("p/after"), "a write accepted after the removal is kept");
  }

  @Test
  void rewriteMatching_keepsBodyReplacesMetaAndCountsOnlyRewritten() {
    Entry a = entry("aaaa", "t");
    put("a", a);
    put("b", entry("bbbb", "t"));
    put("c", entry("cccc"));

    Set<String> rewritten = join(store.rewriteMatching(Selector.tagged("t"),
        meta -> new String(meta, StandardCharsets.UTF_8).endsWith("b") ? null : "soft".getBytes(StandardCharsets.UTF_8)));

    assertEquals(Set.of("a"), rewritten);
    Entry after = get("a");
    assertArrayEquals("soft".getBytes(StandardCharsets.UTF_8), after.meta());
    assertArrayEquals(a.body(), after.body());
    assertEquals(a.tags(), after.tags());
    assertArrayEquals("meta:bbbb".getBytes(StandardCharsets.UTF_8), get("b").meta());
    assertArrayEquals("meta:cccc".getBytes(StandardCharsets.UTF_8), get("c").meta());
  }

  @Test
  void metadata_returnsTheMetaBlockOrNull() {
    put("k", entry("body", "t"));

    assertArrayEquals("meta:body".getBytes(StandardCharsets.UTF_8), join(store.metadata("k")));
    assertNull(join(store.metadata("absent")));
  }

  @Test
  void lookup_presentKey_findsItWithItsMetaAndTags() {
    Entry e = entry("found", "t");
    put("k", e);

    Store.Found found = join(store.lookup("k"));
    assertNotNull(found);
    assertArrayEquals(e.meta(), found.meta());
    assertEquals(e.tags(), found.tags());
    assertNull(join(store.lookup("absent")));
  }

  @Test
  void keys_selector_listsOnlyMatchingKeys() {
    put("a/1", entry("1", "t"));
    put("a/2", entry("2"));
    put("b/1", entry("3", "t"));

    assertEquals(Set.of("a/1", "a/2"), Set.copyOf(join(store.keys(Selector.prefix("a/")))));
    assertEquals(Set.of("a/1", "b/1"), Set.copyOf(join(store.keys(Selector.tagged("t")))));
    assertEquals(List.of("b/1"), join(store.keys(Selector.key("b/1"))));
  }

  // ---------------------------------------------------------------- stats

  @Test
  void stats_afterPuts_bytesIsSumOfWeights() {
    Entry a = entry("aaaa");
    Entry b = entry("bbbbbbbbbbbb");
    put("key-a", a);
    put("key-b", b);

    StoreStats stats = store.stats();
    assertEquals(2, stats.entries());
    assertEquals(expectedWeight("key-a", a) + expectedWeight("key-b", b), stats.bytes());
  }

  @Test
  void stats_afterRemove_bytesNoLongerCountTheEntry() {
    Entry a = entry("aaaa");
    put("key-a", a);
    put("key-b", entry("bbbb"));
    join(store.remove("key-b"));

    assertEquals(expectedWeight("key-a", a), store.stats().bytes());
  }

  @Test
  void stats_emptyStore_isZero() {
    StoreStats stats = store.stats();
    assertEquals(0, stats.entries());
    assertEquals(0, stats.bytes());
    assertEquals(0, stats.evictions());
    assertEquals(0, stats.rejected());
  }
}
