package io.edgecache.proxy.purge;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * An IPv4 or IPv6 network in CIDR notation ({@code 10.0.0.0/8}, {@code ::1/128}); a bare address
 * is a single-host network. IPv4-mapped IPv6 client addresses match IPv4 networks.
 */
public record Cidr(byte[] network, int prefixBits) {

  /** By value (a record compares arrays by reference), so an unchanged {@code purge.allow} reads as unchanged on reload. */
  @Override
  public boolean equals(Object o) {
    return o instanceof Cidr c && c.prefixBits == prefixBits && java.util.Arrays.equals(c.network, network);
  }

  @Override
  public int hashCode() {
    return 31 * java.util.Arrays.hashCode(network) + prefixBits;
  }

  @Override
  public String toString() {
    try {
      return InetAddress.getByAddress(network).getHostAddress() + "/" + prefixBits;
    } catch (UnknownHostException e) {
      return "Cidr[" + network.length + " bytes/" + prefixBits + "]";
    }
  }

  /** Parses {@code s}; throws IllegalArgumentException with a message saying what is expected. */
  public static Cidr parse(String s) {
    String t = s.trim();
    int slash = t.indexOf('/');
    String addr = slash < 0 ? t : t.substring(0, slash);
    if (!addr.matches("[0-9a-fA-F:.]+")) {
      throw new IllegalArgumentException("expected an address or CIDR such as \"10.0.0.0/8\" or \"::1/128\", got \"" + s + "\"");
    }
    byte[] bytes = literal(addr);
    if (bytes == null) {
      throw new IllegalArgumentException("not an IP address: \"" + s + "\" (expected: a.b.c.d or an IPv6 address)");
    }
    // Java turns ::ffff:a.b.c.d into the IPv4 address: its IPv6 prefix counts 96 bits of mapping
    int offset = addr.indexOf(':') >= 0 && bytes.length == 4 ? 96 : 0;
    int bits = bytes.length * 8;
    if (slash >= 0) {
      try {
        bits = Integer.parseInt(t.substring(slash + 1)) - offset;
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("bad prefix length in \"" + s + "\"");
      }
      if (bits < 0 || bits > bytes.length * 8) {
        throw new IllegalArgumentException("prefix length out of range in \"" + s + "\" (expected: "
            + offset + ".." + (offset + bytes.length * 8) + ")");
      }
    }
    return new Cidr(bytes, bits);
  }

  public boolean contains(String address) {
    byte[] a = address == null ? null : literal(address);
    if (a == null) {
      return false;
    }
    if (a.length == 16 && network.length == 4 && isV4Mapped(a)) {
      a = java.util.Arrays.copyOfRange(a, 12, 16);
    }
    if (a.length != network.length) {
      return false;
    }
    int full = prefixBits / 8;
    for (int i = 0; i < full; i++) {
      if (a[i] != network[i]) {
        return false;
      }
    }
    int rest = prefixBits % 8;
    if (rest == 0) {
      return true;
    }
    int mask = (0xff << (8 - rest)) & 0xff;
    return (a[full] & mask) == (network[full] & mask);
  }

  /**
   * The bytes of an IP address literal, or null. Never a name lookup: {@link InetAddress#getByName}
   * resolves anything that is not a literal it knows ("cafe", "1.2.3.256", "unknown") through DNS,
   * and reads "10" as 0.0.0.10, so IPv4 must be four decimal octets before it gets there (text with a
   * colon is only ever parsed as an IPv6 literal).
   */
  private static byte[] literal(String s) {
    if (s.indexOf(':') < 0) {
      String[] octets = s.split("\\.", -1);
      if (octets.length != 4) {
        return null;
      }
      for (String o : octets) {
        if (!o.matches("[0-9]{1,3}") || Integer.parseInt(o) > 255) {
          return null;
        }
      }
    } else if (!s.matches("[0-9a-fA-F:.]+(%[0-9A-Za-z_.-]+)?")) { // a client address may carry a zone
      return null;
    }
    try {
      return InetAddress.getByName(s).getAddress();
    } catch (UnknownHostException e) {
      return null;
    }
  }

  private static boolean isV4Mapped(byte[] a) {
    for (int i = 0; i < 10; i++) {
      if (a[i] != 0) {
        return false;
      }
    }
    return (a[10] & 0xff) == 0xff && (a[11] & 0xff) == 0xff;
  }
}
