package io.edgecache.proxy.http;

import io.edgecache.proxy.cache.CachedResponse;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

/**
 * One exchange's place at the per-variant revalidation gate ({@link Revalidations}): either it
 * leads the conditional request for a stale variant and must {@link #release} the gate when that
 * is over (freshened, replaced, failed, or the client left), or it waits for the leader and is
 * woken once, when the leader releases or after {@code upstream.responseTimeout}, whichever comes
 * first, in case the leader never reports. A request waits at most once.
 *
 * <p>Used on the exchange's event loop; the wake-up hops back to it.
 */
final class RevalidationTurn {
  private final Revalidations gate;
  private final Vertx vertx;
  private final Context context;
  private final long timeoutMs;
  private String leading;
  private boolean waited;
  private long timer = -1;

  RevalidationTurn(Revalidations gate, Vertx vertx, Context context, long timeoutMs) {
    this.gate = gate;
    this.vertx = vertx;
    this.context = context;
    this.timeoutMs = timeoutMs;
  }

  /** The gate's key for one stored variant: the URL's key and the variant's secondary key. */
  static String variantKey(String primaryKey, CachedResponse stored) {
    return primaryKey + '\u0001' + stored.secondaryKey();
  }

  /** Whether this request already waited once (it will not wait again). */
  boolean waited() {
    return waited;
  }

  /**
   * True when the caller now leads the revalidation of {@code key}; otherwise {@code retry} runs
   * once on the exchange's context when the leader is done or the wait times out.
   */
  boolean leadOrWait(String key, Runnable retry) {
    if (gate.lead(key, () -> wake(retry))) {
      leading = key;
      return true;
    }
    timer = vertx.setTimer(timeoutMs, t -> wake(retry));
    return false;
  }

  private void wake(Runnable retry) {
    OnContext.run(context, () -> {
      if (waited) {
        return;
      }
      waited = true;
      vertx.cancelTimer(timer);
      retry.run();
    });
  }

  /** The revalidation this request leads is over; idempotent. */
  void release() {
    String key = leading;
    if (key != null) {
      leading = null;
      gate.done(key);
    }
  }
}
