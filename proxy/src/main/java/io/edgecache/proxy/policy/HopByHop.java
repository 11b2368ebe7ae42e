package io.edgecache.proxy.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Connection-specific header fields that a proxy must not forward or store (RFC 9110 section
 * 7.6.1), plus those named in a message's own {@code Connection} field.
 */
public final class HopByHop {
  static final FieldNames FIELDS =
      FieldNames.of("connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade",
          "proxy-connection", "proxy-authenticate", "proxy-authorization", "proxy-authentication-info");

  private HopByHop() {}

  /** Whether {@code name} (in any case) is one of the fixed hop-by-hop fields. */
  public static boolean isHopByHop(String name) {
    return FIELDS.contains(name);
  }

  /**
   * The fixed hop-by-hop names plus those listed in Connection, as a case-insensitive set; the
   * fixed set itself when Connection names nothing else (its usual {@code keep-alive} or
   * {@code close}).
   */
  public static Set<String> namesIn(Headers h) {
    List<String> out = null;
    for (String n : h.listMembers("connection")) {
      if (!FIELDS.contains(n)) {
        if (out == null) {
          out = new ArrayList<>(FIELDS);
        }
        out.add(n);
      }
    }
    return out == null ? FIELDS : FieldNames.copyOf(out);
  }

  /** {@code h} without hop-by-hop fields: {@code h} itself when it has none. */
  public static Headers strip(Headers h) {
    boolean any = false;
    for (int i = 0; i < h.size() && !any; i++) {
      any = FIELDS.contains(h.name(i)); // Connection is one of them
    }
    if (!any) {
      return h;
    }
    return h.without(namesIn(h)::contains);
  }
}
