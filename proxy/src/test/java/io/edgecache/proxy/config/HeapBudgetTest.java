package io.edgecache.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class HeapBudgetTest {
  private static final long MIB = 1L << 20;

  private static ProxyConfig config(String memory, String disk) {
    return ConfigLoader.parse("conf/proxy.json", """
        {"origins": [{"name": "o", "url": "http://127.0.0.1:8000", "hosts": ["*"]}],
         "memory": %s, "disk": %s}
        """.formatted(memory, disk));
  }

  @Test
  void refusal_memoryFillAndIndexOverTheHeap_namesEachTermAndWhatToChange() {
    ProxyConfig c = config("{\"maxBytes\": \"512MiB\", \"fillBufferBytes\": \"256MiB\"}",
        "{\"path\": \"/var/cache/edgecache\", \"maxBytes\": \"8GiB\"}");
    HeapBudget b = HeapBudget.of(c, 1024 * MIB);

    assertEquals(Optional.of("conf/proxy.json: memory.maxBytes 512MiB + memory.fillBufferBytes 256MiB"
        + " + disk.indexMaxBytes 128MiB + disk write queue 64MiB + overhead 281.6MiB (128MiB + 15% of the heap for the"
        + " collector) = 1241.6MiB does not fit in the JVM's max heap 1024MiB (expected: lower memory.maxBytes,"
        + " disk.indexMaxBytes or memory.fillBufferBytes by 217.6MiB, or raise -Xmx / -XX:MaxRAMPercentage)"),
        b.refusal("conf/proxy.json"));
  }

  @Test
  void fits_memoryOnlyWithRoom_isTrueAndTheIndexIsNotCounted() {
    HeapBudget b = HeapBudget.of(config("{\"maxBytes\": \"256MiB\", \"fillBufferBytes\": \"128MiB\"}", "{}"), 1024 * MIB);

    assertEquals(0, b.indexBytes());
    assertEquals(0, b.diskQueueBytes());
    assertTrue(b.fits());
    assertEquals(Optional.empty(), b.refusal("x"));
  }

  @Test
  void fits_exactlyTheHeap_isTrueAndOneByteMoreIsNot() {
    HeapBudget exact = new HeapBudget(100, 50, 0, 0, 850, 1000);
    assertTrue(exact.fits());
    assertFalse(new HeapBudget(101, 50, 0, 0, 850, 1000).fits());
  }

  @Test
  void human_sizes_useBinaryUnitsWithOneDecimal() {
    assertEquals("512MiB", HeapBudget.human(512 * MIB));
    assertEquals("1229MiB", HeapBudget.human(1229 * MIB));
    assertEquals("8GiB", HeapBudget.human(8192 * MIB));
    assertEquals("4KiB", HeapBudget.human(4096));
    assertEquals("17B", HeapBudget.human(17));
  }
}
