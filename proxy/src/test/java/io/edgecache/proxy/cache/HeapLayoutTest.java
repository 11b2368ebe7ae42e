package io.edgecache.proxy.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class HeapLayoutTest {
  private static final long MIB = 1L << 20;

  @Test
  void wasteOfArray_belowHalfARegion_isNothing() {
    assertEquals(0, new HeapLayout(MIB).wasteOfArray(MIB / 2 - 17));
  }

  @Test
  void wasteOfArray_oneMibInOneMibRegions_fillsTwoRegions() {
    assertEquals(2 * MIB - (MIB + 16), new HeapLayout(MIB).wasteOfArray(MIB));
  }

  @Test
  void wasteOfArray_halfARegion_fillsOneRegion() {
    assertEquals(MIB - MIB / 2, new HeapLayout(MIB).wasteOfArray(MIB / 2 - 16));
  }

  @Test
  void wasteOfArray_anotherCollector_isNothing() {
    assertEquals(0, new HeapLayout(0).wasteOfArray(8 * MIB));
  }
}
