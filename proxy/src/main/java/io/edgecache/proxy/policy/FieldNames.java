package io.edgecache.proxy.policy;

import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;

/**
 * An immutable set of header field names that matches a name in whatever case it arrives
 * (RFC 9110 section 5.1: field names are case-insensitive), so that each name of each message is
 * looked up as received. Lower-casing every name first made a new string per field and request;
 * a sorted case-insensitive set compared each name with several members. Here the members are
 * filed by length: a name of a length no member has, most names, is rejected by one array read,
 * and the others are compared only with the members of their length.
 */
public final class FieldNames extends AbstractSet<String> {
  private static final String[] NONE = new String[0];

  /** The members, lower case, in the order given. */
  private final String[] members;
  /** {@code byLength[n]}: the indexes into {@link #members} of the members of length n. */
  private final int[][] byLength;

  private FieldNames(Collection<String> names) {
    LinkedHashSet<String> lower = new LinkedHashSet<>();
    for (String n : names) {
      lower.add(n.toLowerCase(Locale.ROOT));
    }
    members = lower.toArray(NONE);
    int longest = 0;
    for (String m : members) {
      longest = Math.max(longest, m.length());
    }
    byLength = new int[longest + 1][];
    for (int i = 0; i < members.length; i++) {
      int[] same = byLength[members[i].length()];
      int[] grown = same == null ? new int[1] : Arrays.copyOf(same, same.length + 1);
      grown[grown.length - 1] = i;
      byLength[members[i].length()] = grown;
    }
  }

  /** The set of {@code names}, matched in any case. */
  public static FieldNames of(String... names) {
    return new FieldNames(List.of(names));
  }

  /** The set of {@code names}, matched in any case. */
  public static FieldNames copyOf(Collection<String> names) {
    return names instanceof FieldNames f ? f : new FieldNames(names);
  }

  /**
   * The position of {@code name} (any case) among the names this set was made of, duplicates
   * counted once, or -1.
   */
  public int indexOf(String name) {
    int n = name.length();
    int[] same = n < byLength.length ? byLength[n] : null;
    if (same != null) {
      for (int i : same) {
        if (members[i].equalsIgnoreCase(name)) {
          return i;
        }
      }
    }
    return -1;
  }

  @Override
  public boolean contains(Object o) {
    return o instanceof String s && indexOf(s) >= 0;
  }

  @Override
  public int size() {
    return members.length;
  }

  /** The members, lower case. */
  @Override
  public Iterator<String> iterator() {
    return List.of(members).iterator();
  }
}
