package io.edgecache.proxy.purge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CidrTest {

  private static String parseError(String text) {
    return assertThrows(IllegalArgumentException.class, () -> Cidr.parse(text)).getMessage();
  }

  @Test
  void contains_ipv4Network_matchesInsideAndNotOutside() {
    Cidr c = Cidr.parse("10.0.0.0/8");
    assertTrue(c.contains("10.0.0.1"));
    assertTrue(c.contains("10.255.255.255"));
    assertFalse(c.contains("11.0.0.0"));
    assertFalse(c.contains("9.255.255.255"));
  }

  @Test
  void contains_prefixNotOnAByteBoundary_comparesOnlyThePrefixBits() {
    Cidr c = Cidr.parse("192.168.4.0/22");
    assertTrue(c.contains("192.168.4.0"));
    assertTrue(c.contains("192.168.7.255"));
    assertFalse(c.contains("192.168.8.0"));
    assertFalse(c.contains("192.168.3.255"));
  }

  @Test
  void parse_bareIpv4Address_isASingleHost() {
    Cidr c = Cidr.parse(" 203.0.113.7 ");
    assertEquals(32, c.prefixBits());
    assertTrue(c.contains("203.0.113.7"));
    assertFalse(c.contains("203.0.113.8"));
  }

  @Test
  void contains_ipv6Network_matchesInsideAndNotOutside() {
    Cidr c = Cidr.parse("2001:db8::/32");
    assertTrue(c.contains("2001:db8::1"));
    assertTrue(c.contains("2001:0db8:ffff:ffff:ffff:ffff:ffff:ffff"));
    assertFalse(c.contains("2001:db9::1"));
  }

  @Test
  void contains_ipv6LoopbackSlash128_matchesOnlyLoopback() {
    Cidr c = Cidr.parse("::1/128");
    assertEquals(128, c.prefixBits());
    assertTrue(c.contains("::1"));
    assertTrue(c.contains("0:0:0:0:0:0:0:1"));
    assertFalse(c.contains("::2"));
    assertFalse(c.contains("127.0.0.1"));
  }

  @Test
  void contains_linkLocalClientAddressWithZone_matchesByAddress() {
    assertTrue(Cidr.parse("fe80::/10").contains("fe80::1%1"));
    assertFalse(Cidr.parse("fe80::/10").contains("fec0::1%1"));
  }

  @Test
  void contains_ipv4MappedClientAddress_matchesTheIpv4Network() {
    // A dual-stack (IPv6) socket reports an IPv4 peer as ::ffff:a.b.c.d: it is that IPv4 client.
    Cidr loopback4 = Cidr.parse("127.0.0.0/8");
    assertTrue(loopback4.contains("::ffff:127.0.0.1"));
    assertFalse(loopback4.contains("::ffff:10.0.0.1"));
  }

  @Test
  void contains_ipv4MappedClientAddress_doesNotMatchIpv6Loopback() {
    assertFalse(Cidr.parse("::1/128").contains("::ffff:127.0.0.1"));
  }

  @Test
  void contains_ipv6Loopback_doesNotMatchIpv4Loopback() {
    assertFalse(Cidr.parse("127.0.0.0/8").contains("::1"));
  }

  @Test
  void parse_ipv4MappedNetworkWithIpv6Prefix_coversTheIpv4Network() {
    // ::ffff:10.0.0.0/104 is 10.0.0.0/8 written as IPv6: the first 96 bits are the mapping.
    Cidr c = Cidr.parse("::ffff:10.0.0.0/104");
    assertEquals(8, c.prefixBits());
    assertTrue(c.contains("10.1.2.3"));
    assertTrue(c.contains("::ffff:10.1.2.3"));
    assertFalse(c.contains("11.0.0.1"));
  }

  @Test
  void parse_ipv4MappedNetworkWithPrefixInsideTheMapping_isRejected() {
    assertTrue(parseError("::ffff:10.0.0.0/64").contains("(expected: 96..128)"));
  }

  @Test
  void contains_prefixZero_matchesEveryAddressOfThatFamily() {
    assertTrue(Cidr.parse("0.0.0.0/0").contains("1.2.3.4"));
    assertTrue(Cidr.parse("0.0.0.0/0").contains("255.255.255.255"));
    assertTrue(Cidr.parse("::/0").contains("2001:db8::1"));
    assertFalse(Cidr.parse("::/0").contains("1.2.3.4"));
    assertFalse(Cidr.parse("0.0.0.0/0").contains("2001:db8::1"));
  }

  @Test
  void parse_hostBitsSet_areIgnoredAndTheNetworkIsThePrefix() {
    // Lenient on purpose: "10.1.2.3/8" in a config means 10.0.0.0/8, not an error.
    Cidr c = Cidr.parse("10.1.2.3/8");
    assertTrue(c.contains("10.200.0.1"));
    assertFalse(c.contains("11.1.2.3"));
    Cidr v6 = Cidr.parse("2001:db8::1/32");
    assertTrue(v6.contains("2001:db8:ffff::1"));
  }

  @Test
  void parse_garbage_saysWhatIsExpected() {
    assertEquals("expected an address or CIDR such as \"10.0.0.0/8\" or \"::1/128\", got \"localhost\"",
        parseError("localhost"));
    assertTrue(parseError("10.0.0.0/8; drop").startsWith("bad prefix length in"));
  }

  @Test
  void parse_empty_saysWhatIsExpected() {
    assertTrue(parseError("").startsWith("expected an address or CIDR"));
    assertTrue(parseError("   ").startsWith("expected an address or CIDR"));
    assertTrue(parseError("/8").startsWith("expected an address or CIDR"));
    assertEquals("bad prefix length in \"10.0.0.0/\"", parseError("10.0.0.0/"));
  }

  @Test
  void parse_prefixOutOfRange_namesTheRange() {
    assertEquals("prefix length out of range in \"10.0.0.0/33\" (expected: 0..32)", parseError("10.0.0.0/33"));
    assertEquals("prefix length out of range in \"::1/129\" (expected: 0..128)", parseError("::1/129"));
    assertEquals("prefix length out of range in \"10.0.0.0/-1\" (expected: 0..32)", parseError("10.0.0.0/-1"));
  }

  @Test
  void parse_shortIpv4Form_isRejectedNotReadAsAnotherAddress() {
    // InetAddress reads "10" as 0.0.0.10 and "10.1" as 10.0.0.1: "10/8" must not become 0.0.0.0/8.
    assertTrue(parseError("10/8").startsWith("not an IP address: \"10/8\""));
    assertTrue(parseError("10.1/16").startsWith("not an IP address"));
    assertTrue(parseError("1.2.3.256").startsWith("not an IP address"));
  }

  @Test
  void parse_hexWordThatLooksLikeAnAddress_isRejectedWithoutANameLookup() {
    // "cafe" and "bad" pass the character check; they must not reach a DNS resolver.
    assertTrue(parseError("cafe").startsWith("not an IP address"));
    assertTrue(parseError("bad/8").startsWith("not an IP address"));
    assertTrue(parseError("1::2::3").startsWith("not an IP address"));
  }

  @Test
  void contains_hostNameAsClientAddress_isNeverLookedUpAndNeverMatches() {
    // Exchange passes "unknown" when the peer address is not known; "localhost" would resolve to loopback.
    assertFalse(Cidr.parse("0.0.0.0/0").contains("unknown"));
    assertFalse(Cidr.parse("0.0.0.0/0").contains("cafe"));
    assertFalse(Cidr.parse("127.0.0.0/8").contains("localhost"));
  }

  @Test
  void contains_emptyOrNullClientAddress_isNotReadAsLoopback() {
    // InetAddress.getByName("") and getByName(null) return the loopback address.
    assertFalse(Cidr.parse("127.0.0.0/8").contains(""));
    assertFalse(Cidr.parse("::1/128").contains(""));
    assertFalse(Cidr.parse("127.0.0.0/8").contains(null));
  }

  @Test
  void equals_sameNetworkParsedTwice_isEqual() {
    assertEquals(Cidr.parse("10.0.0.0/8"), Cidr.parse("10.0.0.0/8"));
    assertEquals(Cidr.parse("::1"), Cidr.parse("::1/128"));
    assertFalse(Cidr.parse("10.0.0.0/8").equals(Cidr.parse("10.0.0.0/16")));
    assertEquals("10.0.0.0/8", Cidr.parse("10.0.0.0/8").toString());
  }
}
