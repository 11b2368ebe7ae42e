package io.edgecache.proxy.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.edgecache.proxy.cache.EntryCodec.VarySpec;
import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.HttpDates;
import io.edgecache.proxy.policy.ResponseView;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class EntryCodecTest {
  private static final long NOW = 1_700_000_000_000L;
  private static final byte[] BODY = {10, 20, 30};

  private static final ResponseView VIEW = new ResponseView(203,
      Headers.of("Cache-Control", "max-age=60", "Date", HttpDates.format(NOW), "Set-Cookie", "a=1",
          "set-cookie", "b=2", "X-Note", "caf\u00e9 \u2603", "X-Empty", ""),
      NOW - 250, NOW);
  private static final List<String> VARY = List.of("accept-encoding", "accept-language");
  private static final String SECONDARY_KEY = "accept-encoding=br\naccept-language=en\n";

  private static CachedResponse roundTrip() {
    byte[] meta = EntryCodec.encodeResponse(VIEW, VARY, SECONDARY_KEY);
    return assertInstanceOf(CachedResponse.class, EntryCodec.decode(meta, BODY));
  }

  private static byte[] responseMeta() {
    return EntryCodec.encodeResponse(VIEW, VARY, SECONDARY_KEY);
  }

  private static byte[] varyMeta() {
    return EntryCodec.encodeVary(new VarySpec(VARY, List.of("k1", "k2")));
  }

  @Test
  void decode_encodedResponse_keepsStatusAndTimes() {
    ResponseView v = roundTrip().view();

    assertEquals(203, v.status());
    assertEquals(NOW - 250, v.requestTimeMs());
    assertEquals(NOW, v.responseTimeMs());
  }

  @Test
  void decode_encodedResponse_keepsHeaderLinesInOrderWithCaseAndUtf8() {
    assertEquals(VIEW.headers().toString(), roundTrip().view().headers().toString());
  }

  @Test
  void decode_encodedResponse_keepsVaryNamesAndSecondaryKey() {
    CachedResponse cr = roundTrip();

    assertEquals(VARY, cr.varyNames());
    assertEquals(SECONDARY_KEY, cr.secondaryKey());
  }

  @Test
  void decode_encodedResponse_attachesTheGivenBody() {
    assertSame(BODY, roundTrip().body());
  }

  @Test
  void decode_encodedResponseWithoutVary_keepsEmptyNamesAndKey() {
    byte[] meta = EntryCodec.encodeResponse(VIEW, List.of(), "");

    CachedResponse cr = assertInstanceOf(CachedResponse.class, EntryCodec.decode(meta, BODY));
    assertEquals(List.of(), cr.varyNames());
    assertEquals("", cr.secondaryKey());
  }

  @Test
  void decode_encodedVarySpec_isEqual() {
    VarySpec spec = new VarySpec(VARY, List.of("k1", "k2"));

    assertEquals(spec, EntryCodec.decode(EntryCodec.encodeVary(spec), new byte[0]));
  }

  @Test
  void encodeVary_layout_isPinned() {
    // Version 1, kind 1, one name "accept", no variant keys; all ints big-endian.
    byte[] expected = {1, 1, 0, 0, 0, 1, 0, 0, 0, 6, 'a', 'c', 'c', 'e', 'p', 't', 0, 0, 0, 0};

    assertArrayEquals(expected, EntryCodec.encodeVary(new VarySpec(List.of("accept"), List.of())));
  }

  @Test
  void decode_unknownVersion_isNull() {
    byte[] meta = responseMeta();
    meta[0] = 2;

    assertNull(EntryCodec.decode(meta, BODY));
  }

  @Test
  void decode_unknownKind_isNull() {
    byte[] meta = responseMeta();
    meta[1] = 7;

    assertNull(EntryCodec.decode(meta, BODY));
  }

  @Test
  void decode_empty_isNull() {
    assertNull(EntryCodec.decode(new byte[0], BODY));
  }

  @Test
  void decode_everyTruncatedResponse_isNull() {
    byte[] meta = responseMeta();
    for (int len = 0; len < meta.length; len++) {
      assertNull(EntryCodec.decode(Arrays.copyOf(meta, len), BODY), "truncated to " + len + " bytes");
    }
  }

  @Test
  void decode_everyTruncatedVarySpec_isNull() {
    byte[] meta = varyMeta();
    for (int len = 0; len < meta.length; len++) {
      assertNull(EntryCodec.decode(Arrays.copyOf(meta, len), new byte[0]), "truncated to " + len + " bytes");
    }
  }

  @Test
  void decode_hugeStringLength_isNull() {
    byte[] meta = varyMeta();
    // The first name's length field sits after version, kind and the name count.
    meta[6] = 0x7f;

    assertNull(EntryCodec.decode(meta, new byte[0]));
  }
}
