package io.edgecache.proxy.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A deliberately small HTTP/1.1 client over a plain socket, so tests control every byte: Host,
 * absolute-form targets, malformed framing, slow headers.
 */
final class RawHttp implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  RawHttp(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(10_000);
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  /** A parsed response: status, header lines in order, body bytes. */
  record Response(int status, List<String[]> headers, byte[] body) {
    String header(String name) {
      for (String[] h : headers) {
        if (h[0].equalsIgnoreCase(name)) {
          return h[1];
        }
      }
      return null;
    }

    List<String> headers(String name) {
      List<String> out = new ArrayList<>();
      for (String[] h : headers) {
        if (h[0].equalsIgnoreCase(name)) {
          out.add(h[1]);
        }
      }
      return out;
    }

    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /**
   * A client that reads slowly or not at all: a socket with a 4 KiB receive buffer (so little of a
   * response fits in it), a 20 s read timeout, and {@code GET path} already sent. The caller reads
   * the response, or not, and closes the socket.
   */
  static java.net.Socket slowGet(int port, String path) throws IOException {
    return slowSend(port, "GET " + path + " HTTP/1.1\r\nHost: edge.test\r\n\r\n");
  }

  /** Sends {@code request} as it is on a connection with a 4 KiB receive buffer that reads nothing yet. */
  static java.net.Socket slowSend(int port, String request) throws IOException {
    java.net.Socket s = new java.net.Socket();
    s.setReceiveBufferSize(4096);
    s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 5000);
    s.setSoTimeout(20_000);
    s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
    return s;
  }

  static Response get(int port, String path, String... headers) throws IOException {
    return exchange(port, "GET", path, headers);
  }

  static Response exchange(int port, String method, String path, String... headers) throws IOException {
    try (RawHttp c = new RawHttp(port)) {
      return c.request(method, path, headers);
    }
  }

  /** Sends a request with Host: edge.test unless a Host header is given; reads the response. */
  Response request(String method, String path, String... headers) throws IOException {
    StringBuilder sb = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\n");
    boolean host = false;
    for (int i = 0; i + 1 < headers.length; i += 2) {
      host |= headers[i].equalsIgnoreCase("host");
      sb.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
    }
    if (!host) {
      sb.append("Host: edge.test\r\n");
    }
    sb.append("\r\n");
    send(sb.toString());
    return read(method.equals("HEAD"));
  }

  void send(String raw) throws IOException {
    out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  void send(byte[] raw) throws IOException {
    out.write(raw);
    out.flush();
  }

  Response read(boolean head) throws IOException {
    String statusLine = line();
    if (statusLine == null) {
      throw new IOException("connection closed before a response");
    }
    int status = Integer.parseInt(statusLine.split(" ")[1]);
    List<String[]> hs = new ArrayList<>();
    String l;
    while ((l = line()) != null && !l.isEmpty()) {
      int colon = l.indexOf(':');
      hs.add(new String[] {l.substring(0, colon).trim(), l.substring(colon + 1).trim()});
    }
    Response headOnly = new Response(status, hs, new byte[0]);
    if (head || status == 204 || status == 304 || status < 200) {
      return headOnly;
    }
    String te = headOnly.header("transfer-encoding");
    String cl = headOnly.header("content-length");
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
      while (true) {
        String size = line();
        int n = Integer.parseInt(size.split(";")[0].trim(), 16);
        if (n == 0) {
          while ((l = line()) != null && !l.isEmpty()) {
            // trailers
          }
          break;
        }
        body.write(in.readNBytes(n));
        line();
      }
    } else if (cl != null) {
      body.write(in.readNBytes(Integer.parseInt(cl)));
    } else {
      body.write(in.readAllBytes());
    }
    return new Response(status, hs, body.toByteArray());
  }

  /** Everything the server sends until it closes or resets the connection. */
  byte[] readAll() {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    try {
      for (int c = in.read(); c >= 0; c = in.read()) {
        b.write(c);
      }
    } catch (IOException e) {
      // reset: what arrived before it is the answer
    }
    return b.toByteArray();
  }

  /** True when the server has closed the connection (reads EOF within the socket timeout). */
  boolean closedByPeer() {
    try {
      while (true) {
        int b = in.read();
        if (b < 0) {
          return true;
        }
      }
    } catch (IOException e) {
      return e.getMessage() != null && e.getMessage().contains("reset");
    }
  }

  private String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        break;
      }
      if (c != '\r') {
        b.write(c);
      }
    }
    if (c < 0 && b.size() == 0) {
      return null;
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
