package io.edgecache.proxy.policy;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Parsed {@code Cache-Control} directives, tolerant of garbage.
 *
 * <p>Names are case-insensitive; unknown directives are kept but ignored by the policy. Commas
 * inside quoted strings do not split directives ({@code ext="max-age=1"} is one extension). When a
 * directive repeats, the first occurrence wins (RFC 9111 section 4.2.1 allows "first"). A
 * delta-seconds value that is not {@code 1*DIGIT} (optionally quoted) is invalid; the policy
 * treats an invalid freshness directive as zero, i.e. stale (RFC 9111 section 4.2.1). Values
 * beyond 2^31 are clamped to 2147483648 (section 1.2.2).
 *
 * @see <a href="https://www.rfc-editor.org/rfc/rfc9111#section-5.2">RFC 9111 5.2</a>
 */
public final class CacheControl {
  public static final CacheControl NONE = new CacheControl(Map.of());
  /** RFC 9111 1.2.2: the largest delta-seconds a cache must represent. */
  public static final long MAX_DELTA = 2147483648L;

  private static final Object NO_VALUE = new Object();
  private final Map<String, Object> directives;

  private CacheControl(Map<String, Object> directives) {
    this.directives = directives;
  }

  public static CacheControl parse(List<String> fieldLines) {
    if (fieldLines.isEmpty()) {
      return NONE;
    }
    Map<String, Object> map = new LinkedHashMap<>();
    for (String line : fieldLines) {
      for (String member : Headers.splitList(line)) {
        addDirective(map, member);
      }
    }
    return map.isEmpty() ? NONE : new CacheControl(Collections.unmodifiableMap(map));
  }

  public static CacheControl parse(String fieldValue) {
    return fieldValue == null ? NONE : parse(List.of(fieldValue));
  }

  /**
   * Directives already parsed elsewhere (a Structured Field Dictionary, RFC 9213): a null value
   * is a directive without an argument. Names must be lower case.
   */
  static CacheControl of(Map<String, String> parsed) {
    if (parsed.isEmpty()) {
      return NONE;
    }
    Map<String, Object> map = new LinkedHashMap<>();
    parsed.forEach((name, value) -> map.put(name, value == null ? NO_VALUE : value));
    return new CacheControl(Collections.unmodifiableMap(map));
  }

  private static void addDirective(Map<String, Object> map, String member) {
    if (member.isEmpty()) {
      return;
    }
    int eq = member.indexOf('=');
    String name = (eq < 0 ? member : member.substring(0, eq)).toLowerCase(Locale.ROOT);
    if (name.isEmpty() || !isToken(name)) {
      return;
    }
    Object value = NO_VALUE;
    if (eq >= 0) {
      String raw = member.substring(eq + 1);
      value = raw.startsWith("\"") ? unquote(raw) : raw;
    }
    map.putIfAbsent(name, value);
  }

  private static boolean isToken(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c <= ' ' || c >= 127 || "\"(),/:;<=>?@[\\]{}".indexOf(c) >= 0) {
        return false;
      }
    }
    return true;
  }

  private static String unquote(String raw) {
    StringBuilder sb = new StringBuilder();
    for (int i = 1; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '\\' && i + 1 < raw.length()) {
        sb.append(raw.charAt(++i));
      } else if (c == '"') {
        return sb.toString();
      } else {
        sb.append(c);
      }
    }
    return null; // unterminated: invalid
  }

  public boolean isEmpty() {
    return directives.isEmpty();
  }

  public boolean has(String name) {
    return directives.containsKey(name);
  }

  /** The directive's argument, or null when it is absent or has none. */
  public String argument(String name) {
    Object v = directives.get(name);
    return v instanceof String s ? s : null;
  }

  /**
   * The delta-seconds of {@code name}: empty when absent; 0 when present but invalid (so that it
   * reads as "stale"); clamped to {@link #MAX_DELTA}.
   */
  public OptionalLong seconds(String name) {
    // containsKey, not get() == null: an unterminated quoted argument is stored as null and is
    // present-but-invalid (0), not absent.
    if (!directives.containsKey(name)) {
      return OptionalLong.empty();
    }
    Object v = directives.get(name);
    return OptionalLong.of(v instanceof String s ? parseDelta(s) : 0L);
  }

  /** Like {@link #seconds} but a directive without an argument reads as {@code whenBare}. */
  public OptionalLong secondsOr(String name, long whenBare) {
    if (!directives.containsKey(name)) {
      return OptionalLong.empty();
    }
    Object v = directives.get(name);
    return OptionalLong.of(v instanceof String s ? parseDelta(s) : v == NO_VALUE ? whenBare : 0L);
  }

  static long parseDelta(String s) {
    if (s == null || s.isEmpty()) {
      return 0;
    }
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return 0;
      }
      n = n * 10 + (c - '0');
      if (n > MAX_DELTA) {
        n = MAX_DELTA;
      }
    }
    return n;
  }

  /** Names in a qualified directive such as {@code no-cache="Set-Cookie, X-Foo"}, lower case. */
  public List<String> fieldNames(String name) {
    String arg = argument(name);
    if (arg == null) {
      return List.of();
    }
    return Headers.splitList(arg).stream()
        .filter(s -> !s.isEmpty())
        .map(s -> s.toLowerCase(Locale.ROOT))
        .toList();
  }

  /** True when {@code name} is present without a field-name list (e.g. plain {@code no-cache}). */
  public boolean unqualified(String name) {
    return directives.get(name) == NO_VALUE;
  }

  @Override
  public String toString() {
    return directives.keySet().toString();
  }
}
