package io.edgecache.proxy.policy;

import java.util.Locale;
import java.util.Set;

/**
 * Connection-specific header fields that a proxy must not forward or store (RFC 9110 section
 * 7.6.1), plus those named in a message's own {@code Connection} field.
 */
public final class HopByHop {
  static final Set<String> FIELDS =
      Set.of("connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade",
          "proxy-connection", "proxy-authenticate", "proxy-authorization", "proxy-authentication-info");

  private HopByHop() {}

  public static boolean isHopByHop(String lowerCaseName) {
    return FIELDS.contains(lowerCaseName);
  }

  /** The fixed hop-by-hop names plus those listed in Connection, all lower case. */
  public static Set<String> namesIn(Headers h) {
    java.util.HashSet<String> out = new java.util.HashSet<>(FIELDS);
    for (String n : h.listMembers("connection")) {
      out.add(n.toLowerCase(Locale.ROOT));
    }
    return out;
  }

  /** A copy of {@code h} without hop-by-hop fields. */
  public static Headers strip(Headers h) {
    if (!h.contains("connection")) {
      return h.without(FIELDS::contains);
    }
    Set<String> names = namesIn(h);
    return h.without(names::contains);
  }
}
