package io.edgecache.proxy.config;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Size strings ({@code "256MiB"}, {@code "8MB"}, {@code "512k"}, plain bytes) and duration
 * strings ({@code "500ms"}, {@code "5s"}, {@code "2m"}, {@code "1h"}, {@code "1d"}).
 *
 * <p>Binary units (KiB, MiB, GiB, TiB) and the one-letter forms (k, m, g, t, as in nginx) are
 * powers of 1024; KB, MB, GB, TB are powers of 1000. Parsing throws IllegalArgumentException
 * with a message that says what is expected.
 */
public final class Units {
  private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([a-z]*)");
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

  private Units() {}

  public static long parseSize(String s) {
    Matcher m = SIZE.matcher(s.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException("expected a size such as \"256MiB\", \"8MB\" or 1048576, got \"" + s + "\"");
    }
    double n = Double.parseDouble(m.group(1));
    if (n > 1e18) {
      throw new IllegalArgumentException("size too large: \"" + s + "\"");
    }
    long mult = switch (m.group(2)) {
      case "", "b" -> 1L;
      case "k", "kib" -> 1L << 10;
      case "m", "mib" -> 1L << 20;
      case "g", "gib" -> 1L << 30;
      case "t", "tib" -> 1L << 40;
      case "kb" -> 1000L;
      case "mb" -> 1000_000L;
      case "gb" -> 1000_000_000L;
      case "tb" -> 1000_000_000_000L;
      default -> throw new IllegalArgumentException(
          "unknown size unit \"" + m.group(2) + "\" in \"" + s + "\" (expected B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)");
    };
    return (long) (n * mult);
  }

  public static long parseDurationMillis(String s) {
    Matcher m = DURATION.matcher(s.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException("expected a duration such as \"500ms\", \"5s\", \"2m\", \"1h\" or \"1d\", got \"" + s + "\"");
    }
    long unit = switch (m.group(2)) {
      case "ms" -> 1;
      case "s" -> 1000;
      case "m" -> 60_000;
      case "h" -> 3_600_000;
      default -> 86_400_000;
    };
    // anything beyond ~100 years is a typo, and would overflow a long of milliseconds
    if (m.group(1).length() > 12 || Long.parseLong(m.group(1)) > 3_153_600_000_000L / unit) {
      throw new IllegalArgumentException("duration too large: \"" + s + "\" (at most 100 years)");
    }
    return Long.parseLong(m.group(1)) * unit;
  }
}
