package io.edgecache.proxy.policy;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.greenbytes.http.sfv.BooleanItem;
import org.greenbytes.http.sfv.ByteSequenceItem;
import org.greenbytes.http.sfv.DecimalItem;
import org.greenbytes.http.sfv.InnerList;
import org.greenbytes.http.sfv.IntegerItem;
import org.greenbytes.http.sfv.Item;
import org.greenbytes.http.sfv.ListElement;
import org.greenbytes.http.sfv.Parameters;
import org.greenbytes.http.sfv.Parser;
import org.greenbytes.http.sfv.StringItem;
import org.greenbytes.http.sfv.TokenItem;

/**
 * Structured Field values (RFC 8941) behind a narrow seam: the rest of the code sees only
 * {@link Member}, never the parser library's types, so the library can be replaced.
 *
 * <p>The parser is {@code org.greenbytes.http:structured-fields}, written against a late draft of
 * RFC 8941; {@code StructuredFieldsVectorTest} checks it against the HTTP Working Group's test
 * vectors for Dictionaries and the bare items used as their values. A value that fails to parse is
 * {@link Optional#empty()}, never an exception (RFC 8941 section 4.2: "fail parsing", and the field
 * is then ignored as a whole).
 *
 * <p>Pure and thread-safe: a new parser per call, no shared state.
 *
 * @see <a href="https://www.rfc-editor.org/rfc/rfc8941#section-4.2">RFC 8941 4.2</a>
 */
final class StructuredFields {

  /** The type of a bare item, or an inner list. */
  enum Kind { INTEGER, DECIMAL, STRING, TOKEN, BOOLEAN, BYTES, INNER_LIST }

  /**
   * One Dictionary member value or Item with its parameters.
   *
   * @param value by kind: {@code Long}, {@code BigDecimal}, {@code String} (string and token),
   *     {@code Boolean}, {@code byte[]}, or {@code List<Member>} for an inner list
   * @param params parameters in order; their values are bare items (empty parameter maps)
   */
  record Member(Kind kind, Object value, Map<String, Member> params) {
    boolean isTrue() {
      return kind == Kind.BOOLEAN && Boolean.TRUE.equals(value);
    }
  }

  private StructuredFields() {}

  /** The Dictionary in {@code lines} (one field, possibly over several lines), or empty when it fails to parse. */
  static Optional<Map<String, Member>> dictionary(List<String> lines) {
    try {
      Map<String, ListElement<?>> parsed = new Parser(lines).parseDictionary().get();
      Map<String, Member> out = new LinkedHashMap<>();
      for (Map.Entry<String, ListElement<?>> e : parsed.entrySet()) {
        out.put(e.getKey(), element(e.getValue()));
      }
      return Optional.of(Collections.unmodifiableMap(out));
    } catch (RuntimeException e) {
      // ParseException (an IllegalArgumentException) for malformed input; anything else the
      // library throws on hostile input is treated the same way: the field does not parse.
      return Optional.empty();
    }
  }

  /** The Item in {@code lines}, or empty when it fails to parse. */
  static Optional<Member> item(List<String> lines) {
    try {
      return Optional.of(element(new Parser(lines).parseItem()));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  private static Member element(ListElement<?> e) {
    if (e instanceof InnerList list) {
      List<Member> items = new ArrayList<>();
      for (Item<?> i : list.get()) {
        items.add(element(i));
      }
      return new Member(Kind.INNER_LIST, List.copyOf(items), params(list.getParams()));
    }
    return new Member(kind(e), bare(e), params(e.getParams()));
  }

  private static Map<String, Member> params(Parameters p) {
    if (p == null || p.isEmpty()) {
      return Map.of();
    }
    Map<String, Member> out = new LinkedHashMap<>();
    for (Map.Entry<String, Item<?>> e : p.entrySet()) {
      out.put(e.getKey(), new Member(kind(e.getValue()), bare(e.getValue()), Map.of()));
    }
    return Collections.unmodifiableMap(out);
  }

  private static Kind kind(ListElement<?> e) {
    if (e instanceof IntegerItem) {
      return Kind.INTEGER;
    } else if (e instanceof DecimalItem) {
      return Kind.DECIMAL;
    } else if (e instanceof StringItem) {
      return Kind.STRING;
    } else if (e instanceof TokenItem) {
      return Kind.TOKEN;
    } else if (e instanceof BooleanItem) {
      return Kind.BOOLEAN;
    } else if (e instanceof ByteSequenceItem) {
      return Kind.BYTES;
    }
    throw new IllegalArgumentException("unknown structured field type: " + e.getClass().getName());
  }

  private static Object bare(ListElement<?> e) {
    Object v = e.get();
    if (v instanceof ByteBuffer b) {
      ByteBuffer copy = b.duplicate();
      byte[] bytes = new byte[copy.remaining()];
      copy.get(bytes);
      return bytes;
    }
    if (v instanceof BigDecimal || v instanceof Long || v instanceof String || v instanceof Boolean) {
      return v;
    }
    throw new IllegalArgumentException("unexpected structured field value: " + v);
  }
}
