package io.edgecache.proxy.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class StatusReportTest {
  private static double nanos(double ms) {
    return TimeUnit.MICROSECONDS.toNanos((long) (ms * 1000));
  }

  @Test
  void hitRatio_countsStaleAndRevalidatedAsServedAndCollapsedAsALookup() {
    JsonObject byOutcome = new JsonObject().put("hit", 6L).put("stale", 1L).put("revalidated", 1L).put("miss", 1L)
        .put("collapsed", 1L).put("bypass", 50L).put("error", 9L).put("purge", 3L);
    assertEquals(0.8, StatusReport.hitRatio(byOutcome));
  }

  @Test
  void hitRatio_beforeAnyLookup_isNull() {
    assertNull(StatusReport.hitRatio(new JsonObject().put("bypass", 4L).put("hit", 0L)));
  }

  @Test
  void latency_percentilesAreTheBoundsOfTheBucketsTheyFallIn() {
    // 100 requests: 50 within 1 ms, 40 more within 5 ms, 9 more within 20 ms, the last within 100 ms
    CountAtBucket[] buckets = {new CountAtBucket(nanos(1), 50), new CountAtBucket(nanos(5), 90),
        new CountAtBucket(nanos(20), 99), new CountAtBucket(nanos(100), 100)};
    HistogramSnapshot s = new HistogramSnapshot(100, 0, 0, new ValueAtPercentile[0], buckets, (out, scale) -> { });
    JsonObject l = StatusReport.latency(s);
    assertEquals(100L, l.getLong("count"));
    assertEquals(1.0, l.getDouble("p50Ms"));
    assertEquals(5.0, l.getDouble("p90Ms"));
    assertEquals(20.0, l.getDouble("p99Ms"));
  }

  @Test
  void latency_withoutRequests_hasNoPercentiles() {
    JsonObject l = StatusReport.latency(HistogramSnapshot.empty(0, 0, 0));
    assertEquals(0L, l.getLong("count"));
    assertNull(l.getValue("p99Ms"));
  }
}
