package io.edgecache.proxy.e2e;

import java.io.BufferedInputStream;
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
 * A small HTTP/1.1 client over one keep-alive socket, so a test writes every byte of the request
 * head itself: the Host field (which {@code java.net.http} refuses to set), absolute-form targets,
 * methods such as {@code PURGE}. Not thread-safe; one request at a time.
 */
final class Http1 implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  /** A response: status, header fields in order, body. */
  record Response(int status, List<String[]> headers, byte[] body) {
    /** The first field named {@code name} (case-insensitive), or null. */
    String header(String name) {
      for (String[] h : headers) {
        if (h[0].equalsIgnoreCase(name)) {
          return h[1];
        }
      }
      return null;
    }

    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    /** The {@code Cache-Status} field, or an empty string, for messages and checks. */
    String cacheStatus() {
      String cs = header("Cache-Status");
      return cs == null ? "" : cs;
    }

    boolean isHit() {
      return cacheStatus().startsWith("edgecache; hit");
    }
  }

  /** Connects to {@code 127.0.0.1:port}. */
  Http1(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(30_000);
    socket.setTcpNoDelay(true);
    in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
    out = socket.getOutputStream();
  }

  /** One request on a fresh connection. */
  static Response once(int port, String method, String target, String host, String... headers) throws IOException {
    try (Http1 c = new Http1(port)) {
      return c.request(method, target, host, null, headers);
    }
  }

  /** Reads a response's head, status line to the empty line, from {@code in}: for sockets read by hand. */
  static String readHead(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("closed inside the head: " + head);
      }
      head.append((char) c);
    }
    return head.toString();
  }

  /**
   * Sends {@code method target HTTP/1.1} with {@code Host: host}, the given name/value pairs and,
   * when {@code body} is not null, that body with its Content-Length; reads the whole response.
   */
  Response request(String method, String target, String host, String body, String... headers) throws IOException {
    StringBuilder head = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\n")
        .append("Host: ").append(host).append("\r\n");
    for (int i = 0; i + 1 < headers.length; i += 2) {
      head.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
    }
    byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    if (body != null || method.equals("POST")) {
      head.append("Content-Length: ").append(content.length).append("\r\n");
    }
    head.append("\r\n");
    out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
    out.write(content);
    out.flush();
    return read(method.equals("HEAD"));
  }

  /**
   * Writes {@code request} exactly as given (request line, fields, framing and body: anything a
   * hostile client might send) and reads one response; {@code head} when it answers a HEAD.
   */
  Response raw(String request, boolean head) throws IOException {
    out.write(request.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    return read(head);
  }

  private Response read(boolean head) throws IOException {
    String statusLine = line();
    if (statusLine == null) {
      throw new IOException("connection closed before a response");
    }
    int status = Integer.parseInt(statusLine.split(" ")[1]);
    List<String[]> headers = new ArrayList<>();
    for (String l = line(); l != null && !l.isEmpty(); l = line()) {
      int colon = l.indexOf(':');
      headers.add(new String[] {l.substring(0, colon).trim(), l.substring(colon + 1).trim()});
    }
    Response headOnly = new Response(status, headers, new byte[0]);
    if (head || status == 204 || status == 304 || status < 200) {
      return headOnly;
    }
    String te = headOnly.header("Transfer-Encoding");
    String cl = headOnly.header("Content-Length");
    byte[] body;
    if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      for (int n = chunkSize(); n > 0; n = chunkSize()) {
        b.write(readExactly(n));
        line();
      }
      for (String l = line(); l != null && !l.isEmpty(); l = line()) {
        // trailer fields are ignored
      }
      body = b.toByteArray();
    } else if (cl != null) {
      body = readExactly(Integer.parseInt(cl));
    } else {
      body = in.readAllBytes();
    }
    return new Response(status, headers, body);
  }

  private int chunkSize() throws IOException {
    String l = line();
    if (l == null) {
      throw new IOException("connection closed inside a chunked body");
    }
    return Integer.parseInt(l.split(";")[0].trim(), 16);
  }

  private byte[] readExactly(int n) throws IOException {
    byte[] b = in.readNBytes(n);
    if (b.length != n) {
      throw new IOException("body truncated: " + b.length + " of " + n + " bytes");
    }
    return b;
  }

  private String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0 && c != '\n') {
      if (c != '\r') {
        b.write(c);
      }
    }
    return c < 0 && b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
