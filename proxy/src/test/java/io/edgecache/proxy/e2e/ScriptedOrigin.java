package io.edgecache.proxy.e2e;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

/**
 * A misbehaving origin over raw TCP on an ephemeral loopback port: it reads each request head and
 * lets the test's {@link Script} write whatever bytes it likes (interim responses, half a body, a
 * stall), which no well-behaved HTTP server library would send. Every request head is recorded.
 * One thread per connection; {@link #close} closes the listener and every open connection.
 *
 * <p>Public so that in-process integration tests in other packages can use it too.
 */
public final class ScriptedOrigin implements AutoCloseable {
  /**
   * Answers one request; {@code requestHead} is the request line and fields, CRLF-separated. A
   * request body, if any, is still in {@code in}: a script that expects one reads it.
   */
  public interface Script {
    void answer(String requestHead, InputStream in, OutputStream out) throws IOException, InterruptedException;
  }

  private final ServerSocket server;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final List<String> requests = new CopyOnWriteArrayList<>();
  private final CountDownLatch closed = new CountDownLatch(1);
  private volatile Script script;

  public ScriptedOrigin(Script script) throws IOException {
    this.script = script;
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread accept = new Thread(this::acceptLoop, "scripted-origin-accept");
    accept.setDaemon(true);
    accept.start();
  }

  /** Replaces the script for the requests that follow. */
  public void script(Script next) {
    script = next;
  }

  /** {@code http://127.0.0.1:port}. */
  public String url() {
    return "http://127.0.0.1:" + server.getLocalPort();
  }

  /** Request heads received so far, in order. */
  public List<String> requests() {
    return requests;
  }

  /** Writes {@code text} (ISO-8859-1) and flushes. */
  public static void write(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  /** Blocks the calling script until {@link #close}: an origin that stops sending mid-response. */
  public void stall() throws InterruptedException {
    closed.await();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        open.add(s);
        Thread t = new Thread(() -> serve(s), "scripted-origin-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void serve(Socket s) {
    try (s) {
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      while (true) {
        String head = readHead(in);
        if (head == null) {
          return;
        }
        requests.add(head);
        script.answer(head, in, out);
      }
    } catch (IOException | InterruptedException e) {
      // the proxy closed or reset the connection: nothing to do
    } finally {
      open.remove(s);
    }
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int state = 0;
    int c;
    while ((c = in.read()) >= 0) {
      b.write(c);
      state = (c == '\r' && (state == 0 || state == 2)) ? state + 1 : (c == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
      if (state == 4) {
        return b.toString(StandardCharsets.ISO_8859_1);
      }
    }
    return null;
  }

  @Override
  public void close() throws IOException {
    closed.countDown();
    server.close();
    for (Socket s : open) {
      s.close();
    }
  }
}
