package io.edgecache.proxy.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgecache.proxy.policy.StructuredFields.Kind;
import io.edgecache.proxy.policy.StructuredFields.Member;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link StructuredFields} against the HTTP Working Group's RFC 8941 test vectors
 * ({@code src/test/resources/structured-field-tests}): every Dictionary vector, and every Item
 * vector for the bare-item types a Dictionary member can carry. {@code must_fail} vectors must not
 * parse; {@code can_fail} vectors may fail, and if they parse they must give the expected value.
 */
class StructuredFieldsVectorTest {
  private static final String[] FILES = {
    "dictionary", "param-dict", "examples", "key-generated", "item", "number", "number-generated",
    "string", "string-generated", "token", "token-generated", "boolean", "binary",
  };

  static Stream<Arguments> vectors() {
    List<Arguments> out = new ArrayList<>();
    for (String file : FILES) {
      JsonArray tests = new JsonArray(read("/structured-field-tests/" + file + ".json"));
      for (int i = 0; i < tests.size(); i++) {
        JsonObject t = tests.getJsonObject(i);
        String type = t.getString("header_type");
        if (type.equals("dictionary") || type.equals("item")) {
          out.add(Arguments.of(file + ": " + t.getString("name"), t));
        }
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("vectors")
  void parse_vector_matchesExpectation(String name, JsonObject t) {
    List<String> raw = t.getJsonArray("raw").getList();
    boolean dictionary = t.getString("header_type").equals("dictionary");
    Optional<?> parsed = dictionary ? StructuredFields.dictionary(raw) : StructuredFields.item(raw);

    if (t.getBoolean("must_fail", false)) {
      assertTrue(parsed.isEmpty(), "must fail: " + raw + " gave " + parsed);
      return;
    }
    if (t.getBoolean("can_fail", false) && parsed.isEmpty()) {
      return;
    }
    assertTrue(parsed.isPresent(), "must parse: " + raw);
    if (dictionary) {
      @SuppressWarnings("unchecked")
      Map<String, Member> dict = (Map<String, Member>) parsed.get();
      JsonArray expected = t.getJsonArray("expected");
      assertEquals(expected.size(), dict.size(), "members of " + raw);
      int i = 0;
      for (Map.Entry<String, Member> e : dict.entrySet()) {
        JsonArray pair = expected.getJsonArray(i++);
        assertEquals(pair.getString(0), e.getKey());
        assertMember(pair.getJsonArray(1), e.getValue());
      }
    } else {
      assertMember(t.getJsonArray("expected"), (Member) parsed.get());
    }
  }

  /** {@code expected} is {@code [bare-item or inner list, parameters]}. */
  private static void assertMember(JsonArray expected, Member actual) {
    Object value = expected.getValue(0);
    if (value instanceof JsonArray inner) {
      assertEquals(Kind.INNER_LIST, actual.kind());
      @SuppressWarnings("unchecked")
      List<Member> items = (List<Member>) actual.value();
      assertEquals(inner.size(), items.size());
      for (int i = 0; i < inner.size(); i++) {
        assertMember(inner.getJsonArray(i), items.get(i));
      }
    } else {
      assertBare(value, actual);
    }
    JsonArray params = expected.getJsonArray(1);
    assertEquals(params.size(), actual.params().size(), "parameters");
    int i = 0;
    for (Map.Entry<String, Member> e : actual.params().entrySet()) {
      JsonArray pair = params.getJsonArray(i++);
      assertEquals(pair.getString(0), e.getKey());
      assertBare(pair.getValue(1), e.getValue());
    }
  }

  private static void assertBare(Object expected, Member actual) {
    if (expected instanceof JsonObject typed) {
      String type = typed.getString("__type");
      // Date and Display String are RFC 9651 additions; RFC 8941 has neither.
      assumeTrue(type.equals("token") || type.equals("binary"), "not an RFC 8941 type: " + type);
      if (type.equals("token")) {
        assertEquals(Kind.TOKEN, actual.kind());
        assertEquals(typed.getString("value"), actual.value());
      } else {
        assertEquals(Kind.BYTES, actual.kind());
        assertArrayEquals(base32(typed.getString("value")), (byte[]) actual.value());
      }
    } else if (expected instanceof Boolean b) {
      assertEquals(Kind.BOOLEAN, actual.kind());
      assertEquals(b, actual.value());
    } else if (expected instanceof String s) {
      assertEquals(Kind.STRING, actual.kind());
      assertEquals(s, actual.value());
    } else if (expected instanceof Integer || expected instanceof Long) {
      assertEquals(Kind.INTEGER, actual.kind());
      assertEquals(((Number) expected).longValue(), actual.value());
    } else {
      assertEquals(Kind.DECIMAL, actual.kind());
      BigDecimal want = new BigDecimal(expected.toString());
      assertEquals(0, want.compareTo((BigDecimal) actual.value()), want + " vs " + actual.value());
    }
  }

  /** RFC 4648 base32, as the vectors encode byte sequences. */
  private static byte[] base32(String s) {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    List<Byte> out = new ArrayList<>();
    int buffer = 0;
    int bits = 0;
    for (char c : s.toCharArray()) {
      if (c == '=') {
        break;
      }
      buffer = (buffer << 5) | alphabet.indexOf(c);
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        out.add((byte) (buffer >> bits));
        buffer &= (1 << bits) - 1;
      }
    }
    byte[] bytes = new byte[out.size()];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = out.get(i);
    }
    return bytes;
  }

  private static String read(String resource) {
    try (InputStream in = StructuredFieldsVectorTest.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource " + resource);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
