package io.edgecache.proxy.http;

import io.vertx.core.buffer.Buffer;

/**
 * Collects one body for the cache, up to the object limit and within the shared
 * {@link FillBudget}: when either runs out, {@link #add} says no and the response is simply not
 * stored (the client is still served). Once it said no it holds nothing and refuses everything.
 * {@link #release} returns the reservation; it is idempotent and must run on every path that
 * stops collecting.
 *
 * <p>Not thread-safe: used on the event loop of the exchange that owns it.
 */
final class BodyCollector {
  private final long limit;
  private final FillBudget budget;
  private Buffer buf = Buffer.buffer();
  private long reserved;

  BodyCollector(long limit, FillBudget budget) {
    this.limit = limit;
    this.budget = budget;
  }

  /** Adds {@code b}; false when it would pass the object limit or the budget (then all is released). */
  boolean add(Buffer b) {
    if (buf == null) {
      return false;
    }
    if (buf.length() + (long) b.length() > limit || !budget.tryReserve(b.length())) {
      release();
      return false;
    }
    reserved += b.length();
    buf.appendBuffer(b);
    return true;
  }

  /** Gives the reservation back and drops the bytes; later {@link #add} calls return false. */
  void release() {
    budget.release(reserved);
    reserved = 0;
    buf = null;
  }

  /** Whether it still collects (nothing refused and not released). */
  boolean collecting() {
    return buf != null;
  }

  /** The collected bytes, handed over: the reservation is released. Null once it gave up. */
  byte[] take() {
    if (buf == null) {
      return null;
    }
    byte[] bytes = buf.getBytes();
    release();
    return bytes;
  }

  /** Bytes collected so far (0 once it gave up). */
  long size() {
    return buf == null ? 0 : buf.length();
  }
}
