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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HTTP-date (RFC 9110 section 5.6.7) in two readings: exact and robust.
 *
 * <p>{@link #parse} accepts exactly the three forms of the grammar, as RFC 9110 section 5.6.7
 * requires ("A recipient that parses a timestamp value in an HTTP field MUST accept all three
 * HTTP-date formats"): IMF-fixdate ({@code Sun, 06 Nov 1994 08:49:37 GMT}), obsolete RFC 850
 * ({@code Sunday, 06-Nov-94 08:49:37 GMT}) and asctime ({@code Sun Nov  6 08:49:37 1994}), with
 * single spaces, "HTTP-date is case sensitive" (day and month names as written, {@code GMT} in
 * capitals) and no other zone. The day name is not checked against the date. Only the
 * optional whitespace around a field value is dropped (section 5.5).
 *
 * <p>{@link #parseLenient} also takes runs of spaces and month names in any case. Section 5.6.7:
 * "Recipients of timestamp values are encouraged to be robust in parsing timestamps unless
 * otherwise restricted by the field definition." Which reading each field gets:
 * <ul>
 *   <li>{@code Expires}: exact. RFC 9111 section 5.3 restricts it: "A cache recipient MUST
 *       interpret invalid date formats, especially the value "0", as representing a time in the
 *       past (i.e., "already expired")."
 *   <li>{@code If-Modified-Since}: exact. RFC 9110 section 13.1.3: "A recipient MUST ignore the
 *       If-Modified-Since header field if the received field value is not a valid HTTP-date".
 *   <li>{@code If-Range} (a date): exact. RFC 9110 section 13.1.5 takes the date form only as
 *       "a valid HTTP-date"; otherwise the condition is false and the whole body is sent.
 *   <li>{@code Date} and {@code Last-Modified} of a response: lenient. Their definitions
 *       (sections 6.6.1 and 8.8.2) add no restriction, and a robust reading only feeds the age
 *       and heuristic calculations, which fall back safely (arrival time, no heuristic).
 *   <li>{@code Retry-After} is not interpreted by this proxy; it is passed through.
 * </ul>
 * Anything that does not parse is {@link Optional#empty()}, never an exception: callers decide
 * what garbage means.
 *
 * @see <a href="https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7">RFC 9110 5.6.7</a>
 */
public final class HttpDates {
  private static final DateTimeFormatter IMF =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);
  private static final String[] MONTHS = {
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"
  };
  private static final String DAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
  private static final String MONTH = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
  private static final String TIME = "([0-9]{2}):([0-9]{2}):([0-9]{2})";
  /** {@code IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT}, date1 = day SP month SP year. */
  /** Runs of spaces, compiled once: the lenient reading runs on every cache hit (the Date field). */
  private static final Pattern SPACES = Pattern.compile(" +");
  private static final Pattern IMF_FIXDATE =
      Pattern.compile(DAY + ", ([0-9]{2}) " + MONTH + " ([0-9]{4}) " + TIME + " GMT");
  /** {@code rfc850-date = day-name-l "," SP date2 SP time-of-day SP GMT}, date2 = day "-" month "-" 2DIGIT. */
  private static final Pattern RFC850_DATE = Pattern.compile(
      "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), ([0-9]{2})-" + MONTH + "-([0-9]{2}) "
          + TIME + " GMT");
  /** {@code asctime-date = day-name SP date3 SP time-of-day SP year}, date3 = month SP ( 2DIGIT / ( SP DIGIT ) ). */
  private static final Pattern ASCTIME_DATE =
      Pattern.compile(DAY + " " + MONTH + " ([0-9]{2}| [0-9]) " + TIME + " ([0-9]{4})");

  private HttpDates() {}

  public static String format(Instant t) {
    return IMF.format(t);
  }

  public static String format(long epochMillis) {
    return IMF.format(Instant.ofEpochMilli(epochMillis));
  }

  /** An HTTP-date in exactly one of the three forms of RFC 9110 section 5.6.7, else empty. */
  public static Optional<Instant> parse(String value) {
    if (value == null) {
      return Optional.empty();
    }
    String v = trimOws(value);
    Instant fast = imfFixdate(v, false);
    return fast != null ? Optional.of(fast) : byPattern(v);
  }

  /** {@link #parse} by regular expressions alone (of an already trimmed value). */
  static Optional<Instant> byPattern(String v) {
    Matcher m = IMF_FIXDATE.matcher(v);
    if (m.matches()) {
      return build(m.group(3), m.group(2), m.group(1), m.group(4), m.group(5), m.group(6), false);
    }
    m = RFC850_DATE.matcher(v);
    if (m.matches()) {
      return build(m.group(3), m.group(2), m.group(1), m.group(4), m.group(5), m.group(6), true);
    }
    m = ASCTIME_DATE.matcher(v);
    if (m.matches()) {
      return build(m.group(6), m.group(1), m.group(2).trim(), m.group(3), m.group(4), m.group(5), false);
    }
    return Optional.empty();
  }

  /** RFC 9110 section 5.5: a field value excludes leading and trailing SP and HTAB. */
  private static String trimOws(String v) {
    int start = 0;
    int end = v.length();
    while (start < end && (v.charAt(start) == ' ' || v.charAt(start) == '\t')) {
      start++;
    }
    while (end > start && (v.charAt(end - 1) == ' ' || v.charAt(end - 1) == '\t')) {
      end--;
    }
    return v.substring(start, end);
  }

  private static Optional<Instant> build(String y, String mon, String d, String h, String min, String sec,
      boolean twoDigitYear) {
    return build(y, mon, d, h + ":" + min + ":" + sec, twoDigitYear);
  }

  /**
   * An HTTP-date read robustly (runs of spaces, month names in any case, one-digit days), for
   * fields whose definition adds no restriction (see the class comment), else empty.
   */
  public static Optional<Instant> parseLenient(String value) {
    if (value == null) {
      return Optional.empty();
    }
    String v = value.trim();
    Instant fast = imfFixdate(v, true);
    return fast != null ? Optional.of(fast) : bySplitting(v);
  }

  /** {@link #parseLenient} by splitting alone (of an already trimmed value). */
  static Optional<Instant> bySplitting(String v) {
    try {
      int comma = v.indexOf(',');
      if (comma > 0) {
        String rest = v.substring(comma + 1).trim();
        String[] p = SPACES.split(rest);
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
      String[] p = SPACES.split(v); // asctime: Sun Nov  6 08:49:37 1994
      if (p.length == 5) {
        return build(p[4], p[1], p[2], p[3], false);
      }
    } catch (RuntimeException e) {
      return Optional.empty();
    }
    return Optional.empty();
  }

  private static final String[] DAYS = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  private static final String[] MONTH_NAMES = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
  };

  /**
   * {@code Sun, 06 Nov 1994 08:49:37 GMT} read by position, without a regular expression: the form
   * nearly every server sends, and the Date of every response fetched. Null when {@code v} is not
   * exactly that form (or not a real date): the caller then tries the other readings, which reach
   * the same answer for everything this accepts. {@code lenient}: month name in any case and the
   * day name not checked, as {@link #parseLenient} does.
   */
  static Instant imfFixdate(String v, boolean lenient) {
    if (v.length() != 29 || v.charAt(3) != ',' || v.charAt(4) != ' ' || v.charAt(7) != ' ' || v.charAt(11) != ' '
        || v.charAt(16) != ' ' || v.charAt(19) != ':' || v.charAt(22) != ':' || v.charAt(25) != ' '
        || !v.startsWith("GMT", 26)) {
      return null;
    }
    if (lenient ? v.indexOf(',') != 3 : !oneOf(v, 0, DAYS, false)) {
      return null; // lenient: the first comma ends the day name, whatever it is
    }
    int month = -1;
    for (int i = 0; i < 12 && month < 0; i++) {
      if (v.regionMatches(lenient, 8, MONTH_NAMES[i], 0, 3)) {
        month = i + 1;
      }
    }
    int day = digits(v, 5, 2);
    int year = digits(v, 12, 4);
    int hour = digits(v, 17, 2);
    int minute = digits(v, 20, 2);
    int second = digits(v, 23, 2);
    if (month < 0 || day < 0 || year < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0
        || second > 59) {
      return null;
    }
    try {
      long days = LocalDate.of(year, month, day).toEpochDay();
      return Instant.ofEpochSecond(days * 86_400 + hour * 3_600L + minute * 60L + second);
    } catch (DateTimeException e) {
      return null;
    }
  }

  private static boolean oneOf(String v, int at, String[] names, boolean ignoreCase) {
    for (String n : names) {
      if (v.regionMatches(ignoreCase, at, n, 0, n.length())) {
        return true;
      }
    }
    return false;
  }

  /** The decimal number in {@code v[at, at + n)}, or -1 if any of those is not an ASCII digit. */
  private static int digits(String v, int at, int n) {
    int r = 0;
    for (int i = at; i < at + n; i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      r = r * 10 + (c - '0');
    }
    return r;
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
