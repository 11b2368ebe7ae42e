package io.edgecache.proxy.config;

import io.edgecache.storage.DiskStore;
import java.util.Locale;
import java.util.Optional;

/**
 * Whether a configuration fits the JVM's heap: the start-up check that turns an
 * {@code OutOfMemoryError} under load into a one-line refusal at start.
 *
 * <p>Every large heap consumer is bounded by a key, and each bound is what it may really take:
 * {@code memory.maxBytes} (the memory tier weighs an entry's whole heap cost: body, metadata, key,
 * the decoded response kept with it and Caffeine's node), {@code memory.fillBufferBytes} (bodies
 * being collected for the cache, shared by every fill), and with the disk tier
 * {@code disk.indexMaxBytes} (its in-memory index) and the bodies waiting for a disk write
 * ({@code DiskStore.MAX_QUEUED_WRITE_BYTES}, 64 MiB). The rest of the process needs
 * {@link #FIXED_OVERHEAD_BYTES} (Vert.x, Netty's heap-side objects, per-connection state for up to
 * {@code limits.maxConnections}, the purge marks, metrics, the disk tier's 4 MiB of opened bodies,
 * class data on the heap) and the
 * collector needs room to work: G1 copies live objects into free regions, and a heap kept nearly
 * full collects back to back and then fails, so {@link #GC_HEADROOM} of the heap is left free.
 *
 * <p>Pure: the heap size is passed in ({@code Runtime.getRuntime().maxMemory()} at start).
 */
public record HeapBudget(long memoryBytes, long fillBufferBytes, long indexBytes, long diskQueueBytes, long overheadBytes,
    long maxHeap) {
  /** Heap the process needs besides the bounded consumers. */
  public static final long FIXED_OVERHEAD_BYTES = 128L << 20;
  /** Share of the heap left free for the collector. */
  public static final double GC_HEADROOM = 0.15;

  /** The budget of {@code config} in a heap of {@code maxHeap} bytes. */
  public static HeapBudget of(ProxyConfig config, long maxHeap) {
    boolean disk = config.disk().enabled();
    long overhead = FIXED_OVERHEAD_BYTES + (long) (maxHeap * GC_HEADROOM);
    return new HeapBudget(config.memory().maxBytes(), config.memory().fillBufferBytes(),
        disk ? config.disk().indexMaxBytes() : 0, disk ? DiskStore.MAX_QUEUED_WRITE_BYTES : 0, overhead, maxHeap);
  }

  /** Bytes the configuration may occupy at worst. */
  public long required() {
    return memoryBytes + fillBufferBytes + indexBytes + diskQueueBytes + overheadBytes;
  }

  public boolean fits() {
    return required() <= maxHeap;
  }

  /**
   * The one-line refusal for a configuration read from {@code source}, or empty when it fits.
   * For example: {@code conf/proxy.json: memory.maxBytes 512MiB + memory.fillBufferBytes 256MiB +
   * disk.indexMaxBytes 128MiB + disk write queue 64MiB + overhead 312.3MiB (...) = 1272.3MiB does not fit in the JVM's max heap 1200MiB
   * (expected: lower memory.maxBytes, ... or raise -Xmx / -XX:MaxRAMPercentage)}.
   */
  public Optional<String> refusal(String source) {
    if (fits()) {
      return Optional.empty();
    }
    StringBuilder sum = new StringBuilder()
        .append("memory.maxBytes ").append(human(memoryBytes))
        .append(" + memory.fillBufferBytes ").append(human(fillBufferBytes));
    if (indexBytes > 0) {
      sum.append(" + disk.indexMaxBytes ").append(human(indexBytes))
          .append(" + disk write queue ").append(human(diskQueueBytes));
    }
    sum.append(" + overhead ").append(human(overheadBytes))
        .append(" (").append(human(FIXED_OVERHEAD_BYTES)).append(" + ")
        .append(Math.round(GC_HEADROOM * 100)).append("% of the heap for the collector)");
    return Optional.of(source + ": " + sum + " = " + human(required()) + " does not fit in the JVM's max heap "
        + human(maxHeap) + " (expected: lower memory.maxBytes" + (indexBytes > 0 ? ", disk.indexMaxBytes" : "")
        + " or memory.fillBufferBytes by " + human(required() - maxHeap) + ", or raise -Xmx / -XX:MaxRAMPercentage)");
  }

  /** Bytes as a short binary size, in MiB up to 4GiB so that the terms visibly add up: {@code 1177.6MiB}. */
  static String human(long bytes) {
    if (bytes >= 4L << 30) {
      return trim(bytes / (double) (1L << 30)) + "GiB";
    }
    if (bytes >= 1L << 20) {
      return trim(bytes / (double) (1L << 20)) + "MiB";
    }
    if (bytes >= 1L << 10) {
      return trim(bytes / (double) (1L << 10)) + "KiB";
    }
    return bytes + "B";
  }

  private static String trim(double v) {
    String s = String.format(Locale.ROOT, "%.1f", v);
    return s.endsWith(".0") ? s.substring(0, s.length() - 2) : s;
  }
}
