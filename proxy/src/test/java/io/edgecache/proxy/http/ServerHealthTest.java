package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The health state machine, with time passed in: probes, ejection, probation and backoff. */
class ServerHealthTest {
  private static final int HEALTHY = 2;
  private static final int UNHEALTHY = 3;
  private static final long EJECT_FOR = 10_000;
  private static final long MAX = 300_000;

  private final ServerHealth h = new ServerHealth();

  private long fail(long now) {
    return h.failed(now, 5, EJECT_FOR, MAX, true);
  }

  @Test
  void newServer_isUpAndAvailable() {
    assertTrue(h.up());
    assertTrue(h.available(0));
    assertEquals(ServerHealth.State.UP, h.state(0));
  }

  @Test
  void probed_unhealthyFailuresInARow_markDownOnceAndOnlyAtTheThreshold() {
    assertFalse(h.probed(false, HEALTHY, UNHEALTHY));
    assertFalse(h.probed(false, HEALTHY, UNHEALTHY));
    assertTrue(h.up());
    assertTrue(h.probed(false, HEALTHY, UNHEALTHY));
    assertFalse(h.up());
    assertFalse(h.available(0));
    assertEquals(ServerHealth.State.DOWN, h.state(0));
    assertFalse(h.probed(false, HEALTHY, UNHEALTHY), "already down: no second change");
  }

  @Test
  void probed_aSuccessBetweenFailures_restartsTheFailureCount() {
    h.probed(false, HEALTHY, UNHEALTHY);
    h.probed(false, HEALTHY, UNHEALTHY);
    h.probed(true, HEALTHY, UNHEALTHY);
    h.probed(false, HEALTHY, UNHEALTHY);
    h.probed(false, HEALTHY, UNHEALTHY);
    assertTrue(h.up());
  }

  @Test
  void probed_downServer_isUpAfterHealthySuccessesInARow() {
    for (int i = 0; i < UNHEALTHY; i++) {
      h.probed(false, HEALTHY, UNHEALTHY);
    }
    assertFalse(h.probed(true, HEALTHY, UNHEALTHY));
    assertFalse(h.up());
    assertTrue(h.probed(true, HEALTHY, UNHEALTHY));
    assertTrue(h.up());
    assertTrue(h.available(0));
  }

  @Test
  void failed_ejectAfterConsecutiveFailures_ejectsForEjectFor() {
    for (int i = 0; i < 4; i++) {
      assertEquals(0, fail(1000));
    }
    assertEquals(EJECT_FOR, fail(1000));
    assertFalse(h.available(1000));
    assertEquals(ServerHealth.State.EJECTED, h.state(1000 + EJECT_FOR - 1));
    assertTrue(h.available(1000 + EJECT_FOR));
    assertEquals(1000 + EJECT_FOR, h.ejectedUntilMs());
  }

  @Test
  void failed_aSuccessInBetween_restartsTheCount() {
    for (int i = 0; i < 4; i++) {
      fail(0);
    }
    h.succeeded();
    for (int i = 0; i < 4; i++) {
      assertEquals(0, fail(0));
    }
    assertTrue(h.available(0));
  }

  @Test
  void failed_whileEjected_changesNothing() {
    for (int i = 0; i < 5; i++) {
      fail(0);
    }
    assertEquals(0, fail(5_000), "a request that began before the ejection");
    assertEquals(EJECT_FOR, h.ejectedUntilMs());
  }

  @Test
  void failed_firstFailureAfterAnEjection_ejectsAgainForTwiceAsLong() {
    for (int i = 0; i < 5; i++) {
      fail(0);
    }
    assertEquals(2 * EJECT_FOR, fail(EJECT_FOR));
    assertEquals(4 * EJECT_FOR, fail(EJECT_FOR + 2 * EJECT_FOR));
  }

  @Test
  void failed_repeatedEjections_stopDoublingAtTheCap() {
    long now = 0;
    for (int i = 0; i < 5; i++) {
      fail(now);
    }
    long last = 0;
    for (int i = 0; i < 10; i++) {
      now = h.ejectedUntilMs();
      last = fail(now);
    }
    assertEquals(MAX, last);
  }

  @Test
  void succeeded_afterAnEjection_resetsTheBackoff() {
    for (int i = 0; i < 5; i++) {
      fail(0);
    }
    h.succeeded();
    for (int i = 0; i < 4; i++) {
      assertEquals(0, fail(EJECT_FOR));
    }
    assertEquals(EJECT_FOR, fail(EJECT_FOR), "the fifth failure: back to the first period");
  }

  @Test
  void failed_ejectionRefusedByThePool_countsAndEjectsAtTheNextFailureOnceAllowed() {
    for (int i = 0; i < 4; i++) {
      fail(0);
    }
    assertEquals(0, h.failed(0, 5, EJECT_FOR, MAX, false));
    assertEquals(0, h.failed(0, 5, EJECT_FOR, MAX, false));
    assertTrue(h.available(0));
    assertEquals(EJECT_FOR, fail(0));
  }

  @Test
  void failed_ejectAfterZero_neverEjects() {
    for (int i = 0; i < 100; i++) {
      assertEquals(0, h.failed(0, 0, EJECT_FOR, MAX, true));
    }
    assertTrue(h.available(0));
  }

  @Test
  void state_downWinsOverEjected() {
    for (int i = 0; i < 5; i++) {
      fail(0);
    }
    for (int i = 0; i < UNHEALTHY; i++) {
      h.probed(false, HEALTHY, UNHEALTHY);
    }
    assertEquals(ServerHealth.State.DOWN, h.state(0));
  }
}
