package io.edgecache.proxy.policy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.function.Predicate;

/**
 * An immutable, ordered list of header fields with case-insensitive lookup.
 *
 * <p>Order and repeated lines are kept as received, because order matters in places (of two
 * {@code Age} lines the first one counts, RFC 9111 section 5.1). Names keep the
 * case they arrived with; lookups ignore it.
 *
 * <p>The fields are kept in two arrays, which the instance owns: every lookup is a plain loop
 * over them, the same code whatever the number of fields (immutable lists are of one class up to
 * two elements and of another above, and the JIT recompiled the request path when the mix of
 * header counts changed, as when real traffic followed the start-up warm-up).
 */
public final class Headers {
  private static final String[] NONE = new String[0];
  public static final Headers EMPTY = new Headers(NONE, NONE);

  private final String[] names;
  private final String[] values;

  private Headers(String[] names, String[] values) {
    this.names = names;
    this.values = values;
  }

  public static Builder builder() {
    return new Builder(12);
  }

  /** A builder with room for {@code expected} fields before it grows. */
  public static Builder builder(int expected) {
    return new Builder(expected);
  }

  /** Builds from alternating name, value arguments; for tests. */
  public static Headers of(String... nameValues) {
    Builder b = builder();
    for (int i = 0; i + 1 < nameValues.length; i += 2) {
      b.add(nameValues[i], nameValues[i + 1]);
    }
    return b.build();
  }

  public int size() {
    return names.length;
  }

  public String name(int i) {
    return names[i];
  }

  public String value(int i) {
    return values[i];
  }

  /** The first value of {@code name}, or {@code null}. */
  public String get(String name) {
    for (int i = 0; i < names.length; i++) {
      if (names[i].equalsIgnoreCase(name)) {
        return values[i];
      }
    }
    return null;
  }

  public boolean contains(String name) {
    return get(name) != null;
  }

  /** Every field line of {@code name}, in order. */
  public List<String> all(String name) {
    List<String> out = null;
    for (int i = 0; i < names.length; i++) {
      if (names[i].equalsIgnoreCase(name)) {
        if (out == null) {
          out = new ArrayList<>(2);
        }
        out.add(values[i]);
      }
    }
    return out == null ? List.of() : Collections.unmodifiableList(out);
  }

  /** All lines of {@code name} joined as one list-based field value ({@code a, b}), or null. */
  public String combined(String name) {
    List<String> all = all(name);
    if (all.isEmpty()) {
      return null;
    }
    return all.size() == 1 ? all.get(0) : String.join(", ", all);
  }

  /** The comma-separated members of a list-based field, trimmed, empty members dropped. */
  public List<String> listMembers(String name) {
    List<String> out = new ArrayList<>();
    for (String v : all(name)) {
      for (String part : splitList(v)) {
        if (!part.isEmpty()) {
          out.add(part);
        }
      }
    }
    return out;
  }

  /** Splits a list-based field value on commas that are not inside a quoted string. */
  public static List<String> splitList(String v) {
    if (v.indexOf(',') < 0 && v.indexOf('"') < 0) {
      return List.of(v.trim()); // one member: most values of most fields
    }
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (quoted) {
        cur.append(c);
        if (c == '\\' && i + 1 < v.length()) {
          cur.append(v.charAt(++i));
        } else if (c == '"') {
          quoted = false;
        }
      } else if (c == '"') {
        quoted = true;
        cur.append(c);
      } else if (c == ',') {
        out.add(cur.toString().trim());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    out.add(cur.toString().trim());
    return out;
  }

  /**
   * These fields without those whose name matches, {@code this} when none does. The predicate
   * sees each name as received: give it a case-insensitive set's {@code contains}
   * ({@link FieldNames}).
   */
  public Headers without(Predicate<String> nameMatches) {
    int first = -1;
    for (int i = 0; i < names.length && first < 0; i++) {
      if (nameMatches.test(names[i])) {
        first = i;
      }
    }
    if (first < 0) {
      return this;
    }
    Builder b = new Builder(names.length - 1);
    for (int i = 0; i < names.length; i++) {
      if (i != first && (i < first || !nameMatches.test(names[i]))) {
        b.add(names[i], values[i]);
      }
    }
    return b.build();
  }

  public Builder toBuilder() {
    Builder b = new Builder(names.length + 1);
    for (int i = 0; i < names.length; i++) {
      b.add(names[i], values[i]);
    }
    return b;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < names.length; i++) {
      sb.append(names[i]).append(": ").append(values[i]).append('\n');
    }
    return sb.toString();
  }

  /** Accumulates field lines; not thread-safe. */
  public static final class Builder {
    private String[] names;
    private String[] values;
    private int size;

    private Builder(int capacity) {
      names = new String[Math.max(capacity, 4)];
      values = new String[names.length];
    }

    public Builder add(String name, String value) {
      if (size == names.length) {
        names = Arrays.copyOf(names, size * 2);
        values = Arrays.copyOf(values, size * 2);
      }
      names[size] = name;
      values[size] = value;
      size++;
      return this;
    }

    /** Removes every line of {@code name}, then adds one. */
    public Builder set(String name, String value) {
      remove(name);
      return add(name, value);
    }

    public Builder remove(String name) {
      int kept = 0;
      for (int i = 0; i < size; i++) {
        if (!names[i].equalsIgnoreCase(name)) {
          names[kept] = names[i];
          values[kept] = values[i];
          kept++;
        }
      }
      Arrays.fill(names, kept, size, null);
      Arrays.fill(values, kept, size, null);
      size = kept;
      return this;
    }

    /** Forgets every field added. */
    public Builder clear() {
      Arrays.fill(names, 0, size, null);
      Arrays.fill(values, 0, size, null);
      size = 0;
      return this;
    }

    /** The fields added so far; the builder may be used again afterwards. */
    public Headers build() {
      if (size == 0) {
        return EMPTY;
      }
      return new Headers(Arrays.copyOf(names, size), Arrays.copyOf(values, size));
    }
  }
}
