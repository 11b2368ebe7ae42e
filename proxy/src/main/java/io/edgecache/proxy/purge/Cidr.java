package io.edgecache.proxy.purge;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * An IPv4 or IPv6 network in CIDR notation ({@code 10.0.0.0/8}, {@code ::1/128}); a bare address
 * is a single-host network. IPv4-mapped IPv6 client addresses match IPv4 networks.
 */
public record Cidr(byte[] network, int prefixBits) {

  /** Parses {@code s}; throws IllegalArgumentException with a message saying what is expected. */
  public static Cidr parse(String s) {
    String t = s.trim();
    int slash = t.indexOf('/');
    String addr = slash < 0 ? t : t.substring(0, slash);
    if (!addr.matches("[0-9a-fA-F:.]+")) {
      throw new IllegalArgumentException("expected an address or CIDR such as \"10.0.0.0/8\" or \"::1/128\", got \"" + s + "\"");
    }
    byte[] bytes;
    try {
      bytes = InetAddress.getByName(addr).getAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP address: \"" + s + "\"");
    }
    int bits = bytes.length * 8;
    if (slash >= 0) {
      try {
        bits = Integer.parseInt(t.substring(slash + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("bad prefix length in \"" + s + "\"");
      }
      if (bits < 0 || bits > bytes.length * 8) {
        throw new IllegalArgumentException("prefix length out of range in \"" + s + "\"");
      }
    }
    return new Cidr(bytes, bits);
  }

  public boolean contains(String address) {
    byte[] a;
    try {
      a = InetAddress.getByName(address).getAddress();
    } catch (UnknownHostException e) {
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

  private static boolean isV4Mapped(byte[] a) {
    for (int i = 0; i < 10; i++) {
      if (a[i] != 0) {
        return false;
      }
    }
    return (a[10] & 0xff) == 0xff && (a[11] & 0xff) == 0xff;
  }
}
