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
}
