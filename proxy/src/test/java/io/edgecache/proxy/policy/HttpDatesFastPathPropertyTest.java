package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/**
 * The positional IMF-fixdate reading gives exactly what the pattern and split readings give, for
 * every real date and for near-misses of one changed character (wrong digit, case, separator).
 */
class HttpDatesFastPathPropertyTest {
  private static final String ALPHABET = "0123456789 ,:-GMTgmtSunMonNovnovFebXZ9\t";

  @Property(tries = 2000)
  void everyRealDate_readsTheSameBothWays(@ForAll @LongRange(min = 0, max = 253_402_300_799L) long epochSecond) {
    String v = HttpDates.format(Instant.ofEpochSecond(epochSecond));
    assertEquals(Optional.of(Instant.ofEpochSecond(epochSecond)), HttpDates.parse(v));
    assertEquals(HttpDates.byPattern(v), HttpDates.parse(v), v);
    assertEquals(HttpDates.bySplitting(v), HttpDates.parseLenient(v), v);
  }

  @Property(tries = 5000)
  void oneCharacterChanged_readsTheSameBothWays(@ForAll @LongRange(min = 0, max = 253_402_300_799L) long epochSecond,
      @ForAll @IntRange(min = 0, max = 28) int at, @ForAll("replacement") char c) {
    StringBuilder b = new StringBuilder(HttpDates.format(Instant.ofEpochSecond(epochSecond)));
    b.setCharAt(at, c);
    String v = b.toString();
    assertEquals(HttpDates.byPattern(v), HttpDates.parse(v), v);
    assertEquals(HttpDates.bySplitting(v), HttpDates.parseLenient(v), v);
  }

  @Provide
  Arbitrary<Character> replacement() {
    return Arbitraries.of(ALPHABET.chars().mapToObj(i -> (char) i).toArray(Character[]::new));
  }
}
