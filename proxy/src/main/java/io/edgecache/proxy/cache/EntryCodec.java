package io.edgecache.proxy.cache;

import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.ResponseView;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The metadata block of a stored entry. Layout (big-endian), version 1:
 *
 * <pre>
 * byte    version (1)
 * byte    kind: 0 = response, 1 = vary spec
 * kind 0: byte flags (bit 0: invalidated by a soft purge),
 *         int status, long requestTimeMs, long responseTimeMs,
 *         int n, n x (str name, str value)        stored header fields
 *         int v, v x str                           Vary names (lower case, sorted)
 *         str secondaryKey
 * kind 1: int v, v x str                           Vary names
 *         int k, k x str                           secondary keys of stored variants
 * str     = int length + UTF-8 bytes
 * </pre>
 *
 * An unknown version or kind decodes to null: the entry is treated as a miss, never misread.
 */
public final class EntryCodec {
  static final byte VERSION = 1;
  static final byte KIND_RESPONSE = 0;
  static final byte KIND_VARY = 1;

  private EntryCodec() {}

  /** The Vary names and variant keys stored under a primary key whose responses vary. */
  public record VarySpec(List<String> names, List<String> variantKeys) {}

  public static byte[] encodeResponse(ResponseView v, List<String> varyNames, String secondaryKey) {
    return encodeResponse(v, varyNames, secondaryKey, false);
  }

  public static byte[] encodeResponse(ResponseView v, List<String> varyNames, String secondaryKey, boolean invalidated) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeByte(KIND_RESPONSE);
      out.writeByte(invalidated ? 1 : 0);
      out.writeInt(v.status());
      out.writeLong(v.requestTimeMs());
      out.writeLong(v.responseTimeMs());
      Headers h = v.headers();
      out.writeInt(h.size());
      for (int i = 0; i < h.size(); i++) {
        str(out, h.name(i));
        str(out, h.value(i));
      }
      strings(out, varyNames);
      str(out, secondaryKey);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  public static byte[] encodeVary(VarySpec spec) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeByte(KIND_VARY);
      strings(out, spec.names());
      strings(out, spec.variantKeys());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * The metadata block of a response with the soft-purge flag set, for a purge that must not read
   * or rewrite the body; {@code null} for a Vary spec or a block of another version, which a soft
   * purge leaves alone. A block already flagged comes back flagged (and still counts as purged).
   */
  public static byte[] markInvalidated(byte[] meta) {
    if (meta.length < 3 || meta[0] != VERSION || meta[1] != KIND_RESPONSE) {
      return null;
    }
    byte[] marked = meta.clone();
    marked[2] |= 1;
    return marked;
  }

  /**
   * Heap of a decoded response beyond its strings: {@code CachedResponse} (40 B), {@code ResponseView}
   * (48 B), {@code Headers} and its two lists (24 + 2 x 40 B), the parsed Cache-Control (its object,
   * map and a few directive nodes, about 300 B) and the Vary list; measured with a class histogram
   * of 100,000 decoded responses (see {@code HeapAccountingTest}), rounded up.
   */
  static final int DECODED_RESPONSE_BYTES = 512;
  /** Heap of a decoded Vary spec beyond its strings: the record and its two lists. */
  static final int DECODED_VARY_BYTES = 112;
  /** Heap of one decoded string beyond its UTF-8 bytes: the String, its array's header, a list slot. */
  static final int DECODED_STRING_BYTES = 48;

  /**
   * The heap that {@link #decode} of {@code meta} yields (what the memory tier keeps attached to
   * an entry), estimated without decoding: a fixed part per kind plus, for every string of the
   * block, its bytes and {@value #DECODED_STRING_BYTES}. The memory tier's weigher calls it on every
   * put, so it only walks the length fields. 0 for a block it cannot read (nothing is attached).
   */
  public static long decodedHeapBytes(byte[] meta) {
    java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(meta);
    try {
      if (in.get() != VERSION) {
        return 0;
      }
      byte kind = in.get();
      if (kind == KIND_VARY) {
        return DECODED_VARY_BYTES + skipStrings(in, in.getInt()) + skipStrings(in, in.getInt());
      }
      if (kind != KIND_RESPONSE) {
        return 0;
      }
      in.position(in.position() + 1 + 4 + 8 + 8);
      long bytes = DECODED_RESPONSE_BYTES + skipStrings(in, 2 * in.getInt());
      return bytes + skipStrings(in, in.getInt()) + skipStrings(in, 1);
    } catch (RuntimeException e) {
      return 0;
    }
  }

  private static long skipStrings(java.nio.ByteBuffer in, int count) {
    long bytes = 0;
    for (int i = 0; i < count; i++) {
      int len = in.getInt();
      in.position(in.position() + len);
      bytes += DECODED_STRING_BYTES + len;
    }
    return bytes;
  }

  /** Decodes a metadata block: a {@link CachedResponse} (body attached), a {@link VarySpec}, or null. */
  public static Object decode(byte[] meta, byte[] body) {
    return decode(meta, body, java.util.Set.of());
  }

  /** As {@link #decode(byte[], byte[])}, attaching the entry's purge tags to a response. */
  public static Object decode(byte[] meta, byte[] body, java.util.Set<String> tags) {
    try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(meta))) {
      if (in.readByte() != VERSION) {
        return null;
      }
      byte kind = in.readByte();
      if (kind == KIND_VARY) {
        return new VarySpec(readStrings(in), readStrings(in));
      }
      if (kind != KIND_RESPONSE) {
        return null;
      }
      byte flags = in.readByte();
      int status = in.readInt();
      long reqT = in.readLong();
      long respT = in.readLong();
      int n = in.readInt();
      Headers.Builder b = Headers.builder();
      for (int i = 0; i < n; i++) {
        b.add(readStr(in), readStr(in));
      }
      List<String> vary = readStrings(in);
      String sk = readStr(in);
      return new CachedResponse(new ResponseView(status, b.build(), reqT, respT), body, vary, sk, tags, (flags & 1) != 0);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static void str(DataOutputStream out, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  private static void strings(DataOutputStream out, List<String> l) throws IOException {
    out.writeInt(l.size());
    for (String s : l) {
      str(out, s);
    }
  }

  private static String readStr(DataInputStream in) throws IOException {
    int len = in.readInt();
    if (len < 0 || len > in.available()) {
      throw new IOException("bad length " + len);
    }
    byte[] b = new byte[len];
    in.readFully(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  private static List<String> readStrings(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > 10_000) {
      throw new IOException("bad count " + n);
    }
    List<String> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(readStr(in));
    }
    return out;
  }
}
