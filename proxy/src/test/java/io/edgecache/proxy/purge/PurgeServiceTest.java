package io.edgecache.proxy.purge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.metrics.ProxyMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

class PurgeServiceTest {
  /** Records the calls and answers each with a fixed count. */
  private static final class FakeCache implements PurgeService.Target {
    final List<String> calls = new ArrayList<>();
    boolean fail;

    private CompletionStage<Integer> answer(String call) {
      calls.add(call);
      return fail ? CompletableFuture.failedFuture(new IllegalStateException("store closed"))
          : CompletableFuture.completedFuture(2);
    }

    @Override
    public CompletionStage<Integer> url(String key, boolean soft) {
      return answer("url " + key + " soft=" + soft);
    }

    @Override
    public CompletionStage<Integer> prefix(String keyPrefix, boolean soft) {
      return answer("prefix " + keyPrefix);
    }

    @Override
    public CompletionStage<Integer> tag(String tag, boolean soft) {
      return answer("tag " + tag);
    }

    @Override
    public CompletionStage<Integer> all(boolean soft) {
      return answer("all");
    }
  }

  private final FakeCache cache = new FakeCache();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final PurgeService service = new PurgeService(cache, new ProxyMetrics(registry));
  private final PurgeAuthorizer localOnly = new PurgeAuthorizer(List.of(Cidr.parse("127.0.0.0/8")), null);

  private static PurgeService.Answer answer(CompletionStage<PurgeService.Answer> stage) {
    return stage.toCompletableFuture().join(); // the fake cache completes at once
  }

  private double purges(String kind) {
    var c = registry.find("edgecache.purges").tag("kind", kind).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void run_urlsPrefixesAndTags_sumsTheCountsAndCountsOnePurgeOfKindTag() {
    PurgeService.Answer a = answer(service.run(new PurgeService.Spec(List.of("http://a/x"), List.of("http://a/s/"),
        List.of("t"), false, false, false), "10.0.0.1"));
    assertEquals(200, a.status());
    assertEquals("{\"purged\": 6}", a.body());
    assertEquals(List.of("url http://a/x soft=false", "prefix http://a/s/", "tag t"), cache.calls);
    assertEquals(1, purges("tag"));
  }

  @Test
  void run_all_callsOnlyAll() {
    answer(service.run(new PurgeService.Spec(List.of("http://a/x"), List.of(), List.of(), true, true, false), "me"));
    assertEquals(List.of("all"), cache.calls);
    assertEquals(1, purges("all"));
  }

  @Test
  void run_cacheFails_answers500AndCountsNothing() {
    cache.fail = true;
    PurgeService.Answer a = answer(service.run(PurgeService.Spec.url("http://a/x", false), "me"));
    assertEquals(500, a.status());
    assertEquals("{\"error\": \"purge failed\"}", a.body());
    assertEquals(0, purges("url"));
  }

  @Test
  void purgeMethod_allowedAddress_purgesTheUrlSoftWhenAsked() {
    PurgeService.Answer a = answer(service.purgeMethod(localOnly, "http://a/x", "127.0.0.1", null, "1"));
    assertEquals(200, a.status());
    assertEquals(List.of("url http://a/x soft=true"), cache.calls);
    assertEquals(1, purges("url"));
  }

  @Test
  void purgeMethod_addressOutsideAllowList_is403AndPurgesNothing() {
    PurgeService.Answer a = answer(service.purgeMethod(localOnly, "http://a/x", "10.1.1.1", null, null));
    assertEquals(403, a.status());
    assertEquals("{\"error\": \"forbidden\"}", a.body());
    assertFalse(a.challenge());
    assertTrue(cache.calls.isEmpty());
  }

  @Test
  void purgeMethod_wrongToken_is401WithChallenge() {
    PurgeAuthorizer withToken = new PurgeAuthorizer(List.of(), "0123456789abcdef");
    PurgeService.Answer a = answer(service.purgeMethod(withToken, "http://a/x", "127.0.0.1", "Bearer nope", null));
    assertEquals(401, a.status());
    assertTrue(a.challenge());
    assertTrue(cache.calls.isEmpty());
  }

  @Test
  void isSoft_oneOrTrue_isSoftAnythingElseIsNot() {
    assertTrue(PurgeService.isSoft(" 1 "));
    assertTrue(PurgeService.isSoft("TRUE"));
    assertFalse(PurgeService.isSoft("0"));
    assertFalse(PurgeService.isSoft(null));
  }

  // ---------------------------------------------------------------- in a cluster

  /** Other members as a fake: each publish is recorded and answered with the given acks. */
  private List<PurgeService.Spec> fanOut(PurgeService.Acks acks) {
    List<PurgeService.Spec> published = new ArrayList<>();
    service.fanOut(new PurgeService.Fanout() {
      @Override
      public String self() {
        return "me";
      }

      @Override
      public CompletionStage<PurgeService.Acks> publish(PurgeService.Spec spec) {
        published.add(spec);
        return CompletableFuture.completedFuture(acks);
      }
    });
    return published;
  }

  @Test
  void run_inACluster_publishesTheSpecAndAnswersEveryNodesCountAndWhoIsMissing() {
    List<PurgeService.Spec> published = fanOut(new PurgeService.Acks(java.util.Map.of("b", 3), List.of("c")));
    PurgeService.Spec spec = PurgeService.Spec.url("http://h/a", false);

    PurgeService.Answer a = answer(service.run(spec, "127.0.0.1"));

    assertEquals(List.of(spec), published);
    assertEquals(200, a.status());
    io.vertx.core.json.JsonObject body = new io.vertx.core.json.JsonObject(a.body());
    assertEquals(5, body.getInteger("purged"), a.body());
    assertEquals(new io.vertx.core.json.JsonObject().put("me", 2).put("b", 3), body.getJsonObject("nodes"));
    assertEquals(new io.vertx.core.json.JsonArray().add("c"), body.getJsonArray("missing"));
  }

  @Test
  void lastFanout_afterAClusterPurge_remembersWhenWhatAndEveryAnswer() {
    PurgeService clocked = new PurgeService(cache, new ProxyMetrics(registry),
        java.time.Clock.fixed(java.time.Instant.parse("2026-11-30T06:00:00Z"), java.time.ZoneOffset.UTC));
    assertEquals(null, clocked.lastFanout(), "none before the first purge");
    clocked.fanOut(new PurgeService.Fanout() {
      @Override
      public String self() {
        return "me";
      }

      @Override
      public CompletionStage<PurgeService.Acks> publish(PurgeService.Spec spec) {
        return java.util.concurrent.CompletableFuture.completedFuture(
            new PurgeService.Acks(java.util.Map.of("b", 3), List.of("c")));
      }
    });
    answer(clocked.run(PurgeService.Spec.url("http://h/a", true), "127.0.0.1"));
    PurgeService.LastFanout last = clocked.lastFanout();
    assertEquals(java.time.Instant.parse("2026-11-30T06:00:00Z"), last.at());
    assertTrue(last.soft() && last.purge().contains("http://h/a"), last.purge());
    assertEquals(java.util.Map.of("me", 2, "b", 3), last.nodes());
    assertEquals(List.of("c"), last.missing());
  }

  @Test
  void run_inAClusterWhenTheLocalPurgeFails_answers500() {
    fanOut(new PurgeService.Acks(java.util.Map.of("b", 3), List.of()));
    cache.fail = true;
    assertEquals(500, answer(service.run(PurgeService.Spec.url("http://h/a", false), "127.0.0.1")).status());
  }

  @Test
  void applyFromPeer_appliesHereOnlyAndNeverPublishes() {
    List<PurgeService.Spec> published = fanOut(new PurgeService.Acks(java.util.Map.of(), List.of()));
    assertEquals(2, service.applyFromPeer(PurgeService.Spec.url("http://h/a", true), "b").toCompletableFuture().join());
    assertTrue(published.isEmpty());
    assertEquals(List.of("url http://h/a soft=true"), cache.calls);
    cache.fail = true;
    assertEquals(-1, service.applyFromPeer(PurgeService.Spec.url("http://h/a", true), "b").toCompletableFuture().join());
  }

  @Test
  void spec_throughJson_isTheSameSpec() {
    PurgeService.Spec spec = new PurgeService.Spec(List.of("http://h/a"), List.of("http://h/p/"), List.of("t"), false,
        true, false);
    assertEquals(spec, PurgeService.Spec.fromJson(spec.toJson()));
    assertEquals(PurgeService.Spec.softAll(), PurgeService.Spec.fromJson(PurgeService.Spec.softAll().toJson()));
  }
}
