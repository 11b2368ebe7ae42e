package io.edgecache.proxy.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class RequestRatesTest {
  @Test
  void toJson_twoSamples_giveOneRatePerOutcomeFromTheirOwnTimestamps() {
    RequestRates r = new RequestRates(List.of("hit", "miss"), 4);
    r.sample(10_000, new long[] {100, 5});
    r.sample(12_000, new long[] {160, 5}); // 60 hits in 2 s
    JsonObject j = r.toJson();
    assertEquals(new JsonArray().add(12_000L), j.getJsonArray("t"));
    assertEquals(new JsonArray().add(30.0), j.getJsonObject("perSecond").getJsonArray("hit"));
    assertEquals(new JsonArray().add(0.0), j.getJsonObject("perSecond").getJsonArray("miss"));
  }

  @Test
  void toJson_afterWrapping_keepsTheNewestSamplesOldestFirst() {
    RequestRates r = new RequestRates(List.of("hit"), 3);
    for (int i = 0; i < 5; i++) {
      r.sample(i * 1000L, new long[] {i * i});
    }
    JsonObject j = r.toJson();
    assertEquals(new JsonArray().add(3000L).add(4000L), j.getJsonArray("t"));
    assertEquals(new JsonArray().add(5.0).add(7.0), j.getJsonObject("perSecond").getJsonArray("hit"));
  }

  @Test
  void toJson_oneSample_hasNoRateYet() {
    RequestRates r = new RequestRates(List.of("hit"), 3);
    r.sample(1000, new long[] {7});
    assertEquals(0, r.toJson().getJsonArray("t").size());
  }
}
