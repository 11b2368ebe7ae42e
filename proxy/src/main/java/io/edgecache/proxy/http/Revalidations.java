package io.edgecache.proxy.http;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One conditional request per stale stored variant: while a revalidation is in flight, other
 * requests for the same variant wait for it and then look the cache up again (finding the
 * freshened or replaced response), instead of each sending their own conditional request.
 *
 * <p>Thread-safe. Callbacks run on the thread that calls {@link #done}; callers hop to their own
 * context. A waiter must also give up on its own after a timeout, in case the leader never reports.
 */
final class Revalidations {
  private final ConcurrentHashMap<String, List<Runnable>> inFlight = new ConcurrentHashMap<>();

  /** True when the caller leads the revalidation of {@code key}; otherwise {@code whenDone} is queued. */
  boolean lead(String key, Runnable whenDone) {
    List<Runnable> mine = new ArrayList<>();
    List<Runnable> waiters = inFlight.compute(key, (k, queued) -> {
      if (queued == null) {
        return mine;
      }
      queued.add(whenDone);
      return queued;
    });
    return waiters == mine;
  }

  /** The leader of {@code key} is finished: wake every waiter. */
  void done(String key) {
    List<Runnable> waiters = inFlight.remove(key);
    if (waiters != null) {
      waiters.forEach(Runnable::run);
    }
  }
}
