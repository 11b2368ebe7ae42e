package io.edgecache.proxy.http;

import com.sun.management.GarbageCollectionNotificationInfo;
import io.edgecache.storage.MemoryStore;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Under heap pressure the cache sheds, the process does not die.
 *
 * <p>How it works. After every garbage collection the JVM reports the heap still in use
 * ({@link GarbageCollectionNotificationInfo}, summed over the heap pools). When that exceeds
 * {@code memory.pressureThreshold} of the max heap, more is live than the start-up budget
 * ({@code HeapBudget}) planned for: the guard lowers the memory tier's bound by the excess plus a
 * tenth of the tier ({@link MemoryStore#setMaximum}, evicting at once), and closes the
 * {@link FillBudget} so no new body is collected for the cache (responses are still served;
 * collections in progress give up at their next chunk). Each further reading above the threshold
 * sheds again. When a reading falls below the threshold minus {@value #HYSTERESIS}, fills reopen
 * and the bound grows back by a tenth of its configured size per collection until it is whole.
 *
 * <p>Why after a collection: the heap in use between collections is mostly garbage; what is left
 * after one is what the process holds. A young collection can leave dead old objects counted, so
 * a reading can overstate; the cost of that is some cache shed early, never a failure.
 *
 * <p>Threads. {@link #onCollection} runs on the JVM's notification thread; the memory tier and
 * the fill budget are thread-safe. One log line when shedding starts and one when it ends.
 */
public final class HeapGuard implements NotificationListener, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger("edgecache.heap");
  /** Fills reopen and the bound grows back only below the threshold minus this fraction. */
  static final double HYSTERESIS = 0.1;

  private final MemoryStore memory;
  private final FillBudget fills;
  private final double threshold;
  private final List<NotificationEmitter> emitters = new ArrayList<>();
  private final Set<String> heapPools;
  private final AtomicLong sheds = new AtomicLong();
  private volatile boolean shedding;

  HeapGuard(MemoryStore memory, FillBudget fills, double threshold) {
    this.memory = memory;
    this.fills = fills;
    this.threshold = threshold;
    this.heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
        .filter(p -> p.getType() == MemoryType.HEAP).map(MemoryPoolMXBean::getName).collect(Collectors.toSet());
  }

  /**
   * Starts watching collections in this JVM for the memory tier and fill budget of {@code context},
   * shedding above {@code threshold} (a fraction of the max heap).
   */
  public static HeapGuard watch(ProxyContext context, MemoryStore memory, double threshold) {
    HeapGuard guard = new HeapGuard(memory, context.fillBudget(), threshold);
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc instanceof NotificationEmitter emitter) {
        emitter.addNotificationListener(guard, null, null);
        guard.emitters.add(emitter);
      }
    }
    return guard;
  }

  @Override
  public void handleNotification(Notification n, Object handback) {
    if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
      return;
    }
    Map<String, MemoryUsage> after = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData())
        .getGcInfo().getMemoryUsageAfterGc();
    long used = 0;
    for (Map.Entry<String, MemoryUsage> e : after.entrySet()) {
      if (heapPools.contains(e.getKey())) {
        used += e.getValue().getUsed();
      }
    }
    onCollection(used, Runtime.getRuntime().maxMemory());
  }

  /** One reading: {@code used} heap bytes left by a collection, of {@code maxHeap}. */
  void onCollection(long used, long maxHeap) {
    long limit = (long) (threshold * maxHeap);
    if (used > limit) {
      long bound = memory.maximum();
      long cut = used - limit + bound / 10;
      memory.setMaximum(bound - cut);
      fills.close(true);
      sheds.incrementAndGet();
      if (!shedding) {
        shedding = true;
        LOG.warn("heap pressure: {} MiB in use after a collection, above {}% of the {} MiB max heap; "
                + "shedding the memory tier to {} MiB and storing nothing new until it eases",
            used >> 20, Math.round(threshold * 100), maxHeap >> 20, memory.maximum() >> 20);
      }
      return;
    }
    if (shedding && used < (long) ((threshold - HYSTERESIS) * maxHeap)) {
      fills.close(false);
      long whole = memory.configuredMaximum();
      memory.setMaximum(memory.maximum() + whole / 10);
      if (memory.maximum() >= whole) {
        shedding = false;
        LOG.info("heap pressure eased: {} MiB in use after a collection; memory tier back to {} MiB",
            used >> 20, whole >> 20);
      }
    }
  }

  /** Whether the guard is shedding now (the memory tier's bound is lowered). */
  public boolean shedding() {
    return shedding;
  }

  /** Readings above the threshold since start (each one shed). */
  public long sheds() {
    return sheds.get();
  }

  @Override
  public void close() {
    for (NotificationEmitter e : emitters) {
      try {
        e.removeNotificationListener(this);
      } catch (ListenerNotFoundException ignored) {
        // already gone
      }
    }
  }
}
