package io.edgecache.proxy.http;

import io.edgecache.proxy.cache.HeapLayout;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongUnaryOperator;

/**
 * The heap that bodies being collected for the cache may occupy together
 * ({@code memory.fillBufferBytes}). Each {@link BodyCollector} reserves what it holds and gives it
 * back when it stores or gives up, so many large concurrent fills cannot exhaust the heap: when
 * the budget is spent, a response is still served but not stored.
 *
 * <p>Reservations are in heap bytes: {@link #heapCost} adds the array header and, for an array
 * large enough to be a G1 humongous object, the rest of its last region, which no other object
 * may use.
 *
 * <p>Thread-safe and lock-free: collectors on every event loop share one budget.
 */
final class FillBudget {
  private final long capacity;
  private final AtomicLong available;
  /** Set while the heap is under pressure ({@link HeapGuard}): no new reservation is granted. */
  private volatile boolean closed;

  private final LongUnaryOperator cost;

  FillBudget(long capacityBytes) {
    this(capacityBytes, heapCostOf(HeapLayout.current()));
  }

  /** A budget whose reservations cost {@code cost.applyAsLong(length)} for an array of {@code length} bytes. */
  FillBudget(long capacityBytes, LongUnaryOperator cost) {
    this.capacity = capacityBytes;
    this.available = new AtomicLong(capacityBytes);
    this.cost = cost;
  }

  private static LongUnaryOperator heapCostOf(HeapLayout layout) {
    return length -> length + HeapLayout.ARRAY_HEADER + layout.wasteOfArray(length);
  }

  /** The heap an array of {@code length} bytes occupies, which is what a collector reserves for it. */
  long heapCost(long length) {
    return cost.applyAsLong(length);
  }

  /** Reserves {@code bytes}; false (and nothing reserved) when that would overdraw the budget. */
  boolean tryReserve(long bytes) {
    if (closed) {
      return false;
    }
    if (available.addAndGet(-bytes) < 0) {
      available.addAndGet(bytes);
      return false;
    }
    return true;
  }

  /** Refuses ({@code true}) or grants again ({@code false}) new reservations; held ones are kept. */
  void close(boolean refuse) {
    closed = refuse;
  }

  boolean closed() {
    return closed;
  }

  /** Returns {@code bytes} reserved earlier. */
  void release(long bytes) {
    available.addAndGet(bytes);
  }

  /** Bytes not reserved right now. */
  long available() {
    return available.get();
  }

  /** The configured total. */
  long capacity() {
    return capacity;
  }
}
