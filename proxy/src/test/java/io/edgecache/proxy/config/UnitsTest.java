package io.edgecache.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class UnitsTest {

  @ParameterizedTest
  @CsvSource({
    "1048576, 1048576",
    "10B, 10",
    "512k, 524288",
    "1KiB, 1024",
    "256MiB, 268435456",
    "256mib, 268435456",
    "8m, 8388608",
    "2GiB, 2147483648",
    "1g, 1073741824",
    "1TiB, 1099511627776",
    "8MB, 8000000",
    "1KB, 1000",
    "3GB, 3000000000",
    "1TB, 1000000000000",
    "1.5KiB, 1536",
    "' 64 MiB ', 67108864",
  })
  void parseSize_validSize_isBytes(String text, long bytes) {
    assertEquals(bytes, Units.parseSize(text));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "lots", "-1", "MiB", "1,5MiB", "0x10"})
  void parseSize_notASize_throwsWithExpectedForm(String text) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Units.parseSize(text));
    assertTrue(e.getMessage().contains("expected a size"), e::getMessage);
  }

  @Test
  void parseSize_unknownUnit_throwsNamingTheUnit() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Units.parseSize("12parsecs"));
    assertTrue(e.getMessage().startsWith("unknown size unit \"parsecs\""), e::getMessage);
  }

  @ParameterizedTest
  @CsvSource({
    "500ms, 500",
    "5s, 5000",
    "2m, 120000",
    "1h, 3600000",
    "1d, 86400000",
    "'10 S', 10000",
    "0s, 0",
  })
  void parseDurationMillis_validDuration_isMillis(String text, long millis) {
    assertEquals(millis, Units.parseDurationMillis(text));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "5", "1.5s", "5 minutes", "-1s", "s", "1w"})
  void parseDurationMillis_notADuration_throwsWithExpectedForm(String text) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Units.parseDurationMillis(text));
    assertTrue(e.getMessage().contains("expected a duration"), e::getMessage);
  }
}
