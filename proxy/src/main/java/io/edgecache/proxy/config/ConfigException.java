package io.edgecache.proxy.config;

/**
 * A configuration problem, reported as one line: {@code FILE: KEY: what is wrong}.
 * Expected failures: no stack trace is ever printed for it.
 */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(oneLine(message), null, false, false);
  }

  /** Control characters (a value's line break, a NUL) are shown escaped, so the message stays one line. */
  private static String oneLine(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029 || c == 0x85) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.toString();
  }
}
