package io.edgecache.proxy.e2e;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * An HTTP/2 client over TLS that reads only when told to: one GET on stream 1 with the largest
 * flow-control windows, so that the server sends as fast as the socket takes it and a client that
 * stops reading makes the server queue. Reads back the DATA of stream 1 until its end, a reset, a
 * GOAWAY or the connection's end. Test use only; no HPACK decoding (response headers are skipped).
 */
final class RawH2 implements AutoCloseable {
  private static final int DATA = 0;
  private static final int HEADERS = 1;
  private static final int RST_STREAM = 3;
  private static final int SETTINGS = 4;
  private static final int PING = 6;
  private static final int GOAWAY = 7;
  private static final int END_STREAM = 0x1;
  private static final int PADDED = 0x8;
  private static final int MAX_WINDOW = 0x7fffffff;

  private final SSLSocket socket;

  private RawH2(SSLSocket socket) {
    this.socket = socket;
  }

  /** What stream 1 brought: its DATA bytes, and whether they ended with END_STREAM. */
  record Body(byte[] bytes, boolean complete, String endedBy) {}

  /** Connects with ALPN h2 and a receive buffer of {@code receiveBuffer} bytes. */
  static RawH2 connect(SSLContext tls, int port, int receiveBuffer) throws IOException {
    SSLSocket s = tlsSocket(tls, port, receiveBuffer, "h2");
    if (!"h2".equals(s.getApplicationProtocol())) {
      s.close();
      throw new IOException("ALPN chose " + s.getApplicationProtocol() + ", not h2");
    }
    return new RawH2(s);
  }

  /** A TLS socket to 127.0.0.1:{@code port}, handshaken, offering {@code alpn}, with that receive buffer. */
  static SSLSocket tlsSocket(SSLContext tls, int port, int receiveBuffer, String alpn) throws IOException {
    SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket();
    s.setReceiveBufferSize(receiveBuffer);
    s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    s.setSoTimeout(30_000);
    SSLParameters p = s.getSSLParameters();
    p.setApplicationProtocols(new String[] {alpn});
    s.setSSLParameters(p);
    s.startHandshake();
    return s;
  }

  /** Sends the preface, settings with the largest window, and {@code GET path} on stream 1. */
  void get(String authority, String path) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    frame(out, SETTINGS, 0, 0, new byte[] {0, 4, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff}); // INITIAL_WINDOW_SIZE
    frame(out, 8, 0, 0, int32(MAX_WINDOW - 65_535)); // WINDOW_UPDATE of the connection
    ByteArrayOutputStream block = new ByteArrayOutputStream();
    block.write(0x82); // :method GET (static table 2)
    block.write(0x87); // :scheme https (7)
    literal(block, 4, path); // :path, name from the static table, not indexed
    literal(block, 1, authority); // :authority
    frame(out, HEADERS, 0x4 | END_STREAM, 1, block.toByteArray()); // END_HEADERS
    OutputStream o = socket.getOutputStream();
    o.write(out.toByteArray());
    o.flush();
  }

  /** Reads frames until stream 1 ends, is reset, the connection goes away or ends. */
  Body readBody() throws IOException {
    DataInputStream in = new DataInputStream(socket.getInputStream());
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    try {
      while (true) {
        int length = in.readUnsignedShort() << 8 | in.readUnsignedByte();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        int stream = in.readInt() & MAX_WINDOW;
        byte[] payload = in.readNBytes(length);
        if (payload.length < length) {
          return new Body(body.toByteArray(), false, "the connection ended inside a frame");
        }
        if (type == DATA && stream == 1) {
          int pad = (flags & PADDED) != 0 ? payload[0] & 0xff : 0;
          int from = (flags & PADDED) != 0 ? 1 : 0;
          body.write(payload, from, payload.length - from - pad);
          if ((flags & END_STREAM) != 0) {
            return new Body(body.toByteArray(), true, "END_STREAM");
          }
        } else if (type == RST_STREAM && stream == 1) {
          return new Body(body.toByteArray(), false, "RST_STREAM");
        } else if (type == GOAWAY) {
          return new Body(body.toByteArray(), false, "GOAWAY");
        } else if (type == SETTINGS && (flags & 0x1) == 0) {
          send(SETTINGS, 0x1, 0, new byte[0]);
        } else if (type == PING && (flags & 0x1) == 0) {
          send(PING, 0x1, 0, payload);
        }
      }
    } catch (EOFException | SocketTimeoutException | javax.net.ssl.SSLException e) {
      return new Body(body.toByteArray(), false, e.toString());
    } catch (java.net.SocketException e) {
      return new Body(body.toByteArray(), false, e.toString());
    }
  }

  private void send(int type, int flags, int stream, byte[] payload) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    frame(out, type, flags, stream, payload);
    socket.getOutputStream().write(out.toByteArray());
    socket.getOutputStream().flush();
  }

  private static void frame(ByteArrayOutputStream out, int type, int flags, int stream, byte[] payload) {
    out.write(payload.length >>> 16);
    out.write(payload.length >>> 8);
    out.write(payload.length);
    out.write(type);
    out.write(flags);
    out.writeBytes(int32(stream));
    out.writeBytes(payload);
  }

  /** A literal header field without indexing, its name from static table entry {@code index}. */
  private static void literal(ByteArrayOutputStream out, int index, String value) {
    byte[] v = value.getBytes(StandardCharsets.US_ASCII);
    if (index > 14 || v.length > 126) {
      throw new IllegalArgumentException("kept short: index " + index + ", " + v.length + " bytes");
    }
    out.write(index);
    out.write(v.length);
    out.writeBytes(v);
  }

  private static byte[] int32(int v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
