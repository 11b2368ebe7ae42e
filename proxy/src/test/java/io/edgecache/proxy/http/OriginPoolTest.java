package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.config.PoolConfig;
import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.metrics.ProxyMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Balancing over the pool's available servers: weights, least connections, hash stability, exclusion. */
class OriginPoolTest {
  /** A clock the test moves. */
  private static final class TestClock extends Clock {
    long now = 1_000_000;

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(now);
    }

    @Override
    public long millis() {
      return now;
    }
  }

  private final TestClock clock = new TestClock();

  private static ProxyConfig.Origin origin(PoolConfig.Balance balance, int... weights) {
    List<PoolConfig.Server> servers = new ArrayList<>();
    for (int i = 0; i < weights.length; i++) {
      servers.add(new PoolConfig.Server("10.0.0." + (i + 1), 80, weights[i]));
    }
    PoolConfig pool = new PoolConfig(servers, balance, null, 5, 10_000, PoolConfig.Tls.DEFAULT);
    return new ProxyConfig.Origin("web", "http", servers.get(0).host(), 80, List.of("*"), true, pool);
  }

  private OriginPool pool(PoolConfig.Balance balance, int... weights) {
    return OriginPool.standalone(origin(balance, weights), clock);
  }

  private static void eject(OriginPool pool, OriginPool.Member m) {
    for (int i = 0; i < 5; i++) {
      pool.failed(m, "test");
    }
  }

  @Test
  void roundRobin_weights3To1_giveExactSharesInterleaved() {
    OriginPool p = pool(PoolConfig.Balance.ROUND_ROBIN, 3, 1);
    StringBuilder order = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      order.append(p.pick("k", null).id.equals("10.0.0.1:80") ? 'A' : 'B');
    }
    assertEquals("AABAAABA", order.toString());
  }

  @Test
  void roundRobin_weights_areHonouredOverManyPicks() {
    OriginPool p = pool(PoolConfig.Balance.ROUND_ROBIN, 5, 2, 1);
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < 800; i++) {
      counts.merge(p.pick("k", null).id, 1, Integer::sum);
    }
    assertEquals(Map.of("10.0.0.1:80", 500, "10.0.0.2:80", 200, "10.0.0.3:80", 100), counts);
  }

  @Test
  void roundRobin_ejectedServer_isSkippedUntilItsEjectionEnds() {
    OriginPool p = pool(PoolConfig.Balance.ROUND_ROBIN, 1, 1);
    OriginPool.Member a = p.members().get(0);
    eject(p, a);
    for (int i = 0; i < 4; i++) {
      assertNotEquals(a, p.pick("k", null));
    }
    clock.now += 10_000;
    List<OriginPool.Member> picked = List.of(p.pick("k", null), p.pick("k", null));
    assertTrue(picked.contains(a), "back in rotation after ejectFor");
  }

  @Test
  void pick_excludingTheOnlyOtherAvailable_isNull() {
    OriginPool p = pool(PoolConfig.Balance.ROUND_ROBIN, 1, 1);
    OriginPool.Member a = p.members().get(0);
    OriginPool.Member b = p.members().get(1);
    assertSame(b, p.pick("k", a));
    eject(p, b);
    assertNull(p.pick("k", a));
    assertSame(a, p.pick("k", null));
  }

  @Test
  void pick_everyServerDownOrEjected_isNull() {
    OriginPool p = pool(PoolConfig.Balance.LEAST_CONNECTIONS, 1, 1);
    eject(p, p.members().get(0));
    for (int i = 0; i < 3; i++) {
      p.members().get(1).health.probed(false, 2, 3);
    }
    assertNull(p.pick("k", null));
  }

  @Test
  void failed_atMostHalfThePoolIsEjectedAtOnce() {
    OriginPool two = pool(PoolConfig.Balance.ROUND_ROBIN, 1, 1);
    eject(two, two.members().get(0));
    OriginPool.Member last = two.members().get(1);
    for (int i = 0; i < 20; i++) {
      two.failed(last, "test");
    }
    assertSame(last, two.pick("k", null), "the last server up stays in rotation");

    OriginPool four = pool(PoolConfig.Balance.ROUND_ROBIN, 1, 1, 1, 1);
    for (OriginPool.Member m : four.members()) {
      eject(four, m);
    }
    int out = 0;
    for (OriginPool.Member m : four.members()) {
      out += m.health.state(clock.now) == ServerHealth.State.EJECTED ? 1 : 0;
    }
    assertEquals(2, out);
    assertEquals(2, four.maxEjected());
  }

  @Test
  void poolOfOne_isNeverEjectedByLiveFailures() {
    OriginPool p = pool(PoolConfig.Balance.ROUND_ROBIN, 1);
    OriginPool.Member only = p.members().get(0);
    for (int i = 0; i < 50; i++) {
      p.failed(only, "test");
    }
    assertSame(only, p.pick("k", null));
    assertEquals(50, only.errors.sum());
  }

  @Test
  void leastConnections_picksTheServerWithFewestInFlight() {
    OriginPool p = pool(PoolConfig.Balance.LEAST_CONNECTIONS, 1, 1, 1);
    OriginPool.Member a = p.members().get(0);
    OriginPool.Member b = p.members().get(1);
    OriginPool.Member c = p.members().get(2);
    p.started(a);
    p.started(a);
    p.started(b);
    assertSame(c, p.pick("k", null));
    p.started(c);
    p.started(c);
    assertSame(b, p.pick("k", null));
    p.finished(a);
    p.finished(a);
    assertSame(a, p.pick("k", null));
  }

  @Test
  void leastConnections_loadIsPerUnitOfWeight() {
    OriginPool p = pool(PoolConfig.Balance.LEAST_CONNECTIONS, 4, 1);
    OriginPool.Member heavy = p.members().get(0);
    for (int i = 0; i < 3; i++) {
      p.started(heavy); // 3 / 4 < 1 / 1
    }
    p.started(p.members().get(1));
    assertSame(heavy, p.pick("k", null));
  }

  @Test
  void leastConnections_idleServers_shareTheLoad() {
    OriginPool p = pool(PoolConfig.Balance.LEAST_CONNECTIONS, 1, 1);
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < 100; i++) {
      counts.merge(p.pick("k", null).id, 1, Integer::sum);
    }
    assertEquals(Map.of("10.0.0.1:80", 50, "10.0.0.2:80", 50), counts);
  }

  @Test
  void hash_sameKey_alwaysPicksTheSameServer() {
    OriginPool p = pool(PoolConfig.Balance.HASH, 1, 1, 1);
    for (int k = 0; k < 100; k++) {
      String key = "http://edge.test/item/" + k;
      OriginPool.Member first = p.pick(key, null);
      for (int i = 0; i < 5; i++) {
        assertSame(first, p.pick(key, null));
      }
    }
  }

  @Test
  void hash_aServerGoingAway_movesOnlyItsOwnKeys() {
    OriginPool p = pool(PoolConfig.Balance.HASH, 1, 1, 1);
    Map<String, OriginPool.Member> before = new HashMap<>();
    for (int k = 0; k < 3000; k++) {
      before.put("/k" + k, p.pick("/k" + k, null));
    }
    OriginPool.Member gone = p.members().get(1);
    eject(p, gone);
    int moved = 0;
    for (Map.Entry<String, OriginPool.Member> e : before.entrySet()) {
      OriginPool.Member now = p.pick(e.getKey(), null);
      assertNotEquals(gone, now);
      if (e.getValue() != gone) {
        assertSame(e.getValue(), now, "a key of a server that stayed moved: " + e.getKey());
      } else {
        moved++;
      }
    }
    assertTrue(moved > 800 && moved < 1200, "about a third of the keys were on the server that left: " + moved);
  }

  @Test
  void hash_keysSpreadInProportionToWeight() {
    OriginPool p = pool(PoolConfig.Balance.HASH, 3, 1);
    int onHeavy = 0;
    for (int k = 0; k < 4000; k++) {
      if (p.pick("/k" + k, null) == p.members().get(0)) {
        onHeavy++;
      }
    }
    assertTrue(onHeavy > 2800 && onHeavy < 3200, "about three quarters: " + onHeavy);
  }

  @Test
  void reconfigured_keptServerKeepsItsStateAndNewServerStartsUp() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    ProxyMetrics metrics = new ProxyMetrics(registry);
    ProxyConfig.Origin before = origin(PoolConfig.Balance.ROUND_ROBIN, 1, 1);
    OriginPools pools = OriginPools.of(List.of(before), metrics, clock);
    OriginPool p = pools.of(before);
    OriginPool.Member a = p.members().get(0);
    eject(p, a);
    p.started(a);

    ProxyConfig.Origin after = origin(PoolConfig.Balance.ROUND_ROBIN, 2, 1, 1);
    OriginPool next = pools.reconfigured(List.of(after)).of(after);

    assertSame(a, next.members().get(0));
    assertEquals(ServerHealth.State.EJECTED, next.members().get(0).health.state(clock.now));
    assertEquals(1, next.members().get(0).inFlight.get());
    assertEquals(ServerHealth.State.UP, next.members().get(2).health.state(clock.now));
    assertNotNull(registry.find("edgecache.origin.server.up").tag("server", "10.0.0.3:80").gauge());
    assertEquals(0.0, registry.find("edgecache.origin.server.up").tag("server", "10.0.0.1:80").gauge().value());
    assertEquals(5.0, registry.find("edgecache.origin.server.errors").tag("server", "10.0.0.1:80").functionCounter()
        .count(), "the failures before the reload: the meters read the carried counts");
  }
}
