package io.edgecache.proxy.cache;

import com.sun.management.HotSpotDiagnosticMXBean;
import io.edgecache.storage.Entry;
import java.lang.management.ManagementFactory;

/**
 * What the collector's heap layout adds to a stored entry, for the memory tier's weigher.
 *
 * <p>G1 places an array of half a region or more in whole regions of its own (a "humongous"
 * object), and the rest of its last region stays empty. With the 1 MiB regions G1 picks for a
 * heap of 1 to 2 GiB, a 1 MiB body (1 MiB + 16 B of array header) takes two regions: 2 MiB of
 * heap for 1 MiB of bytes. A memory tier of 1 MiB objects weighed by their length alone held twice
 * its bound (the memory stress run found it). The region size is read once from the running JVM;
 * other collectors get no rounding.
 */
public final class HeapLayout {
  /** Array header bytes before the first element (64-bit HotSpot, compressed class pointers). */
  public static final int ARRAY_HEADER = 16;

  private final long regionBytes;

  HeapLayout(long regionBytes) {
    this.regionBytes = regionBytes;
  }

  /** The layout of this JVM: G1's region size, or none for another collector. */
  public static HeapLayout current() {
    try {
      HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
      if (!Boolean.parseBoolean(vm.getVMOption("UseG1GC").getValue())) {
        return new HeapLayout(0);
      }
      return new HeapLayout(Long.parseLong(vm.getVMOption("G1HeapRegionSize").getValue()));
    } catch (RuntimeException e) {
      return new HeapLayout(0);
    }
  }

  /** Heap an array of {@code length} bytes leaves unusable beyond its own bytes and header. */
  public long wasteOfArray(long length) {
    long size = length + ARRAY_HEADER;
    if (regionBytes <= 0 || size < regionBytes / 2) {
      return 0;
    }
    long regions = (size + regionBytes - 1) / regionBytes;
    return regions * regionBytes - size;
  }

  /** The extra heap of {@code entry} the memory tier weighs: its decoded metadata and the body's region waste. */
  public long extraBytes(Entry entry) {
    return EntryCodec.decodedHeapBytes(entry.meta()) + wasteOfArray(entry.body().length);
  }
}
