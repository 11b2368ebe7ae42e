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
