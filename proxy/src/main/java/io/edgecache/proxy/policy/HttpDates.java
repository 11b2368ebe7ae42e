package io.edgecache.proxy.policy;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Optional;

/**
 * HTTP-date in the three forms RFC 9110 requires recipients to accept.
 *
 * <p>IMF-fixdate ({@code Sun, 06 Nov 1994 08:49:37 GMT}), obsolete RFC 850
 * ({@code Sunday, 06-Nov-94 08:49:37 GMT}) and asctime ({@code Sun Nov  6 08:49:37 1994}).
 * Anything else is {@link Optional#empty()}, never an exception: callers decide what garbage
 * means (for {@code Expires} it means "already expired", RFC 9111 section 5.3).
 *
 * @see <a href="https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7">RFC 9110 5.6.7</a>
 */
public final class HttpDates {
  private static final DateTimeFormatter IMF =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);
  private static final String[] MONTHS = {
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"
  };

  private HttpDates() {}

  public static String format(Instant t) {
    return IMF.format(t);
  }

  public static String format(long epochMillis) {
    return IMF.format(Instant.ofEpochMilli(epochMillis));
  }

  public static Optional<Instant> parse(String value) {
    if (value == null) {
      return Optional.empty();
    }
    String v = value.trim();
    try {
      int comma = v.indexOf(',');
      if (comma > 0) {
        String rest = v.substring(comma + 1).trim();
        String[] p = rest.split("[ ]+");
        if (p.length == 5 && p[4].equals("GMT")) { // IMF-fixdate: 06 Nov 1994 08:49:37 GMT
          return build(p[2], p[1], p[0], p[3], false);
        }
        if (p.length == 3 && p[2].equals("GMT")) { // RFC 850: 06-Nov-94 08:49:37 GMT
          String[] d = p[0].split("-");
          if (d.length == 3) {
            return build(d[2], d[1], d[0], p[1], true);
          }
        }
        return Optional.empty();
      }
      String[] p = v.split("[ ]+"); // asctime: Sun Nov  6 08:49:37 1994
      if (p.length == 5) {
        return build(p[4], p[1], p[2], p[3], false);
      }
    } catch (RuntimeException e) {
      return Optional.empty();
    }
    return Optional.empty();
  }

  private static Optional<Instant> build(String y, String mon, String d, String hms, boolean twoDigitYear) {
    if (!y.chars().allMatch(Character::isDigit) || !d.chars().allMatch(Character::isDigit)) {
      return Optional.empty();
    }
    int year = Integer.parseInt(y);
    if (twoDigitYear) {
      if (y.length() != 2) {
        return Optional.empty();
      }
      // RFC 9110 5.6.7: a two-digit year more than 50 years in the future is in the past century.
      int nowYear = LocalDate.now(ZoneOffset.UTC).getYear();
      year += (nowYear / 100) * 100;
      if (year > nowYear + 50) {
        year -= 100;
      }
    } else if (y.length() != 4) {
      return Optional.empty();
    }
    int month = -1;
    for (int i = 0; i < 12; i++) {
      if (MONTHS[i].equalsIgnoreCase(mon)) {
        month = i + 1;
      }
    }
    String[] t = hms.split(":");
    if (month < 0 || t.length != 3 || d.length() > 2) {
      return Optional.empty();
    }
    for (String part : t) {
      if (part.length() != 2 || !part.chars().allMatch(Character::isDigit)) {
        return Optional.empty();
      }
    }
    try {
      LocalDateTime ldt =
          LocalDateTime.of(year, month, Integer.parseInt(d), Integer.parseInt(t[0]),
              Integer.parseInt(t[1]), Integer.parseInt(t[2]));
      return Optional.of(ZonedDateTime.of(ldt, ZoneOffset.UTC).toInstant());
    } catch (DateTimeException e) {
      return Optional.empty();
    }
  }
}
