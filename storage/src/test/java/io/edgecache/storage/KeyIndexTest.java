package io.edgecache.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/** The key index behind prefix and tag purges: it follows the store, and never misses a stored key. */
class KeyIndexTest {

  @Test
  void prefixAndTag_findOnlyWhatTheySelect() {
    Map<String, Set<String>> map = new ConcurrentHashMap<>();
    KeyIndex idx = new KeyIndex();
    for (String[] kv : new String[][] {{"http://a/x/1", "t1"}, {"http://a/x/2", "t2"}, {"http://a/y/1", "t1"},
        {"http://b/x/1", "t2"}}) {
      map.put(kv[0], Set.of(kv[1]));
      idx.added(kv[0], Set.of(kv[1]));
    }
    assertEquals(List.of("http://a/x/1", "http://a/x/2"), idx.withPrefix("http://a/x/"));
    assertEquals(Set.of("http://a/x/1", "http://a/y/1"), new HashSet<>(idx.tagged("t1")));

    map.remove("http://a/x/1");
    idx.removed("http://a/x/1", Set.of("t1"), map::get);
    assertEquals(List.of("http://a/x/2"), idx.withPrefix("http://a/x/"));
    assertEquals(List.of("http://a/y/1"), idx.tagged("t1"));

    map.put("http://a/x/2", Set.of("t3")); // replaced with other tags
    idx.added("http://a/x/2", Set.of("t3"));
    idx.removed("http://a/x/2", Set.of("t2"), map::get);
    assertEquals(List.of("http://a/x/2"), idx.withPrefix("http://a/x/"), "still stored");
    assertEquals(List.of("http://b/x/1"), idx.tagged("t2"));
    assertEquals(List.of("http://a/x/2"), idx.tagged("t3"));
  }

  @Test
  void stored_keepsWhatTheMapHolds_andDropsWhatItEvictedAtOnce() {
    Map<String, Set<String>> map = new ConcurrentHashMap<>();
    KeyIndex idx = new KeyIndex();
    map.put("http://a/kept", Set.of("t"));
    idx.stored("http://a/kept", Set.of("t"), map::get);
    idx.stored("http://a/evicted", Set.of("t"), map::get); // the map let it go before it was recorded
    assertEquals(List.of("http://a/kept"), idx.withPrefix("http://a/"));
    assertEquals(List.of("http://a/kept"), idx.tagged("t"));
    assertEquals(1, idx.size());
  }

  @Test
  void memoryStore_manyPutsAndEvictions_leaveNoKeysBehind() {
    MemoryStore m = new MemoryStore(64 * 1024, 8 * 1024, Runnable::run);
    for (int i = 0; i < 5000; i++) {
      m.putNow("k" + (i % 700), new Entry(new byte[] {1}, new byte[ThreadLocalRandom.current().nextInt(100, 3000)],
          Set.of("t" + (i % 7))));
      if (i % 5 == 0) {
        m.removeMatchingNow(Selector.key("k" + ((i * 31) % 700)));
      }
    }
    assertEquals(m.stats().entries(), m.indexedKeys());
  }

  @Test
  void memoryStore_concurrentPutsAndPurges_everyStoredKeyIsFoundByItsTagAndPrefix() throws Exception {
    MemoryStore m = new MemoryStore(1 << 20, 8 * 1024, Runnable::run);
    int threads = 4;
    CountDownLatch done = new CountDownLatch(threads);
    for (int t = 0; t < threads; t++) {
      Thread worker = new Thread(() -> {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        for (int i = 0; i < 20_000; i++) {
          String key = "p/" + r.nextInt(300);
          if (r.nextInt(4) == 0) {
            m.removeMatchingNow(r.nextBoolean() ? Selector.prefix(key) : Selector.tagged("tag" + r.nextInt(5)));
          } else {
            m.putNow(key, new Entry(new byte[] {1}, new byte[r.nextInt(10, 500)], Set.of("tag" + r.nextInt(5))));
          }
        }
        done.countDown();
      });
      worker.start();
    }
    done.await();
    for (String k : m.keys(new Selector.All()).toCompletableFuture().join()) {
      Entry e = m.getNow(k);
      if (e == null) {
        continue;
      }
      String tag = e.tags().iterator().next();
      assertTrue(m.keys(Selector.tagged(tag)).toCompletableFuture().join().contains(k), k + " missing under " + tag);
      assertTrue(m.keys(Selector.prefix(k)).toCompletableFuture().join().contains(k), k + " missing by prefix");
    }
  }
}
