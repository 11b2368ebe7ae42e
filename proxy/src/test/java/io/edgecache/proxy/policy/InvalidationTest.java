package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class InvalidationTest {
  private static final String KEY = "http://edge.test/items";

  @Test
  void targets_noLocations_isTheRequestUriOnly() {
    assertEquals(List.of(KEY), Invalidation.targets(KEY, Headers.of()));
  }

  @Test
  void targets_relativeLocationAndContentLocation_areResolvedAgainstTheTarget() {
    assertEquals(List.of(KEY, "http://edge.test/items/7", "http://edge.test/items/7?v=1"),
        Invalidation.targets(KEY, Headers.of("Location", "/items/7", "Content-Location", "items/7?v=1")));
  }

  @Test
  void targets_absoluteLocationWithDefaultPortAndUpperCaseHost_isSameOrigin() {
    assertEquals(List.of(KEY, "http://edge.test/a"),
        Invalidation.targets(KEY, Headers.of("Location", "http://Edge.Test:80/a")));
  }

  @Test
  void targets_locationOnAnotherHost_isIgnored() {
    assertEquals(List.of(KEY), Invalidation.targets(KEY, Headers.of("Location", "http://other.test/a")));
  }

  @Test
  void targets_locationOnAnotherPort_isIgnored() {
    assertEquals(List.of(KEY), Invalidation.targets(KEY, Headers.of("Location", "http://edge.test:8080/a")));
  }

  @Test
  void targets_unparseableLocation_isIgnored() {
    assertEquals(List.of(KEY), Invalidation.targets(KEY, Headers.of("Location", "http://[bad")));
  }

  @Test
  void targets_locationEqualToTarget_isListedOnce() {
    assertEquals(List.of(KEY), Invalidation.targets(KEY, Headers.of("Content-Location", "/items")));
  }

  @Test
  void invalidates_unsafeMethodNonError_isTrue() {
    assertTrue(Invalidation.invalidates("POST", 303));
    assertTrue(Invalidation.invalidates("PATCH", 200));
  }

  @Test
  void invalidates_unsafeMethodError_isFalse() {
    assertFalse(Invalidation.invalidates("DELETE", 404));
  }

  @Test
  void invalidates_safeMethod_isFalse() {
    assertFalse(Invalidation.invalidates("GET", 200));
    assertFalse(Invalidation.invalidates("OPTIONS", 200));
  }
}
