package io.edgecache.proxy.http;

import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Collects one body for the cache, up to the object limit and within the shared
 * {@link FillBudget}: when either runs out, {@link #add} says no and the response is simply not
 * stored (the client is still served). Once it said no it holds nothing and refuses everything.
 * {@link #release} returns the reservation; it is idempotent and must run on every path that
 * stops collecting.
 *
 * <p>Heap. What is reserved is what the heap holds ({@link FillBudget#heapCost}), not only the
 * bytes received. With a Content-Length the body goes straight into one array of that length,
 * reserved whole at the first byte, and {@link #take} hands that array over without a copy; a
 * body longer or shorter than announced is never handed over. Without one, the received parts are
 * kept as they came and joined into one array at {@link #take}, which reserves that array as well
 * for the moment both exist. (A growing buffer would hold up to twice the body in capacity, plus a
 * copy at the end, none of it counted.)
 *
 * <p>Not thread-safe: used on the event loop of the exchange that owns it.
 */
final class BodyCollector {
  private final long limit;
  private final FillBudget budget;
  /** The announced length, or -1 when the body is delimited otherwise. */
  private final long expected;
  private byte[] whole;
  private List<byte[]> parts;
  private long size;
  private long reserved;
  private boolean gaveUp;

  /** A collector for a body of unknown length. */
  BodyCollector(long limit, FillBudget budget) {
    this(limit, budget, -1);
  }

  /** A collector for a body of {@code expected} bytes (its Content-Length), or -1 when unknown. */
  BodyCollector(long limit, FillBudget budget, long expected) {
    this.limit = limit;
    this.budget = budget;
    this.expected = expected;
  }

  /** Adds {@code b}; false when it would pass the object limit or the budget (then all is released). */
  boolean add(Buffer b) {
    if (gaveUp) {
      return false;
    }
    int n = b.length();
    if (size + n > limit || expected > limit || expected >= 0 && size + n > expected) {
      release();
      return false;
    }
    if (expected >= 0) {
      if (whole == null) {
        if (!reserve(budget.heapCost(expected))) {
          return false;
        }
        whole = new byte[(int) expected];
      }
      b.getBytes(0, n, whole, (int) size);
    } else {
      if (!reserve(budget.heapCost(n))) {
        return false;
      }
      if (parts == null) {
        parts = new ArrayList<>();
      }
      parts.add(b.getBytes());
    }
    size += n;
    return true;
  }

  private boolean reserve(long bytes) {
    if (!budget.tryReserve(bytes)) {
      release();
      return false;
    }
    reserved += bytes;
    return true;
  }

  /** The object limit: {@link #add} refuses a body that would grow past it. */
  long limit() {
    return limit;
  }

  /**
   * The parts collected so far, in order, handed over (a body of unknown length moving to disk):
   * the reservation is released and later {@link #add} calls return false.
   */
  List<byte[]> drain() {
    List<byte[]> out = parts == null ? List.of() : parts;
    parts = null;
    release();
    return out;
  }

  /** Gives the reservation back and drops the bytes; later {@link #add} calls return false. */
  void release() {
    budget.release(reserved);
    reserved = 0;
    whole = null;
    parts = null;
    gaveUp = true;
  }

  /** Whether it still collects (nothing refused and not released). */
  boolean collecting() {
    return !gaveUp;
  }

  /**
   * The collected bytes, handed over: the reservation is released. Null once it gave up, and when
   * the body did not have its announced length.
   */
  byte[] take() {
    if (gaveUp) {
      return null;
    }
    byte[] out;
    if (expected >= 0) {
      out = size != expected ? null : whole != null ? whole : new byte[0];
    } else if (parts == null) {
      out = new byte[0];
    } else if (!reserve(budget.heapCost(size))) {
      return null;
    } else {
      out = new byte[(int) size];
      int at = 0;
      for (byte[] p : parts) {
        System.arraycopy(p, 0, out, at, p.length);
        at += p.length;
      }
    }
    release();
    return out;
  }

  /** Bytes collected so far (0 once it gave up). */
  long size() {
    return gaveUp ? 0 : size;
  }
}
