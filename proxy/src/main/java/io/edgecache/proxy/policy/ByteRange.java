package io.edgecache.proxy.policy;

/**
 * A single byte range requested with {@code Range: bytes=...} against a body of known length
 * (RFC 9110 section 14).
 *
 * <p>{@link #parse} returns null when the Range should be ignored (not bytes, malformed, or
 * several ranges: serving the whole 200 is always allowed), {@link #UNSATISFIABLE} for a
 * syntactically valid range that lies outside the body, or the first and last byte positions.
 */
public record ByteRange(long first, long last) {
  public static final ByteRange UNSATISFIABLE = new ByteRange(-1, -1);

  public long length() {
    return last - first + 1;
  }

  public static ByteRange parse(String header, long bodyLength) {
    if (header == null) {
      return null;
    }
    String h = header.trim();
    if (!h.regionMatches(true, 0, "bytes=", 0, 6)) {
      return null;
    }
    String spec = h.substring(6).trim();
    if (spec.indexOf(',') >= 0) {
      return null;
    }
    int dash = spec.indexOf('-');
    if (dash < 0) {
      return null;
    }
    String a = spec.substring(0, dash).trim();
    String b = spec.substring(dash + 1).trim();
    try {
      if (a.isEmpty()) { // suffix: last N bytes
        long n = digits(b);
        if (n <= 0 || bodyLength == 0) {
          return UNSATISFIABLE;
        }
        return new ByteRange(Math.max(0, bodyLength - n), bodyLength - 1);
      }
      long first = digits(a);
      if (!b.isEmpty() && digits(b) < first) {
        return null; // invalid range-spec: ignore the Range
      }
      if (first >= bodyLength) {
        return UNSATISFIABLE;
      }
      long last = b.isEmpty() ? bodyLength - 1 : digits(b);
      return new ByteRange(first, Math.min(last, bodyLength - 1));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** The range a 206 carries: bytes {@code first..last} of a body of {@code completeLength} bytes. */
  public record ContentRange(long first, long last, long completeLength) {
    /** Number of bytes in the range. */
    public long length() {
      return last - first + 1;
    }

    /** Whether {@code r} lies inside this range. */
    public boolean covers(ByteRange r) {
      return r.first() >= first && r.last() <= last;
    }
  }

  /**
   * The range a 206 carries, from {@code Content-Range: bytes first-last/complete-length}; null
   * when absent, malformed, or of unknown length.
   */
  public static ContentRange contentRange(Headers h) {
    java.util.List<String> all = h.all("content-range");
    if (all.size() != 1) {
      return null;
    }
    String v = all.get(0).trim();
    if (!v.regionMatches(true, 0, "bytes ", 0, 6)) {
      return null;
    }
    String spec = v.substring(6).trim();
    int dash = spec.indexOf('-');
    int slash = spec.indexOf('/');
    if (dash <= 0 || slash < dash) {
      return null;
    }
    try {
      long first = digits(spec.substring(0, dash).trim());
      long last = digits(spec.substring(dash + 1, slash).trim());
      long complete = digits(spec.substring(slash + 1).trim());
      if (last < first || last >= complete) {
        return null;
      }
      return new ContentRange(first, last, complete);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** {@code 1*DIGIT} (RFC 9110 14.1.1); Long.parseLong alone would accept a sign. */
  private static long digits(String s) {
    if (s.isEmpty() || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new NumberFormatException("not 1*DIGIT: \"" + s + "\"");
    }
    return Long.parseLong(s);
  }
}
