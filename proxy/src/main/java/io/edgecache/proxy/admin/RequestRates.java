package io.edgecache.proxy.admin;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The last few minutes of requests per second by outcome, for the status page's chart: a ring of
 * the cumulative request counts taken once a second, turned into rates between neighbouring
 * samples when asked.
 *
 * <p>Why the server keeps the ring and not the browser: a page opened while something is wrong
 * shows the minutes before it was opened, every viewer sees the same series, and a browser tab
 * that was in the background (where timers are throttled) leaves no gap. It costs one read of
 * the request counters a second and {@code capacity} arrays of a few longs.
 *
 * <p>Rates come from differences of monotonic counters and the samples' own timestamps, so a late
 * sample does not make a spike. Thread-safe (one lock; {@link #sample} and {@link #toJson} are short).
 */
final class RequestRates {
  private final List<String> outcomes;
  private final long[] times;
  private final long[][] counts;
  private int next;
  private int size;

  /** {@code outcomes} names the columns of every sample, in order. */
  RequestRates(List<String> outcomes, int capacity) {
    this.outcomes = List.copyOf(outcomes);
    this.times = new long[capacity];
    this.counts = new long[capacity][outcomes.size()];
  }

  /** Records the cumulative counts (one per outcome, in constructor order) seen at {@code epochMillis}. */
  synchronized void sample(long epochMillis, long[] cumulative) {
    times[next] = epochMillis;
    System.arraycopy(cumulative, 0, counts[next], 0, outcomes.size());
    next = (next + 1) % times.length;
    size = Math.min(size + 1, times.length);
  }

  /**
   * {@code {"t": [end of each interval, epoch ms], "perSecond": {outcome: [rate, ...]}}}, oldest
   * first; one point fewer than samples held. A counter that went down (it cannot, short of a
   * restart of the meter) gives 0 rather than a negative rate.
   */
  synchronized JsonObject toJson() {
    JsonArray t = new JsonArray();
    JsonArray[] series = new JsonArray[outcomes.size()];
    for (int o = 0; o < series.length; o++) {
      series[o] = new JsonArray();
    }
    int first = (next - size + times.length) % times.length;
    for (int i = 1; i < size; i++) {
      int prev = (first + i - 1) % times.length;
      int cur = (first + i) % times.length;
      long ms = times[cur] - times[prev];
      if (ms <= 0) {
        continue;
      }
      t.add(times[cur]);
      for (int o = 0; o < series.length; o++) {
        long d = Math.max(0, counts[cur][o] - counts[prev][o]);
        series[o].add(Math.round(d * 10_000.0 / ms) / 10.0); // req/s, one decimal
      }
    }
    JsonObject perSecond = new JsonObject();
    for (int o = 0; o < series.length; o++) {
      perSecond.put(outcomes.get(o), series[o]);
    }
    return new JsonObject().put("t", t).put("perSecond", perSecond);
  }
}
