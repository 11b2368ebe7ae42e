package io.edgecache.proxy.e2e;

import static org.awaitility.Awaitility.await;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Debian's headless Chromium driven over the Chrome DevTools Protocol with nothing but the JDK's
 * {@link HttpClient} WebSocket: no browser download, no driver process, works offline.
 *
 * <p>Chromium starts with {@code --remote-debugging-port=0} and writes the port it chose to
 * {@code DevToolsActivePort} in its profile folder; the first page target's WebSocket then takes
 * commands ({@code {"id", "method", "params"}}) and answers each with the same id. Page script
 * errors and console errors are kept, for failure messages.
 *
 * <p>{@link #close} kills the browser and waits for it, whatever state it is in.
 */
final class HeadlessChromium implements AutoCloseable {
  /** Where Debian installs it; {@code -Dedgecache.chromium} overrides. */
  static final String DEFAULT_BINARY = "/usr/bin/chromium";
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(20);

  private final Process process;
  private final WebSocket socket;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonObject>> pending = new ConcurrentHashMap<>();
  private final List<String> pageErrors = new CopyOnWriteArrayList<>();

  private HeadlessChromium(Process process, WebSocket socket) {
    this.process = process;
    this.socket = socket;
  }

  /** The browser binary to use, or null when there is none. */
  static Path binary() {
    Path p = Path.of(System.getProperty("edgecache.chromium", DEFAULT_BINARY));
    return Files.isExecutable(p) ? p : null;
  }

  /** Starts Chromium with a fresh profile under {@code dir} and attaches to its first tab. */
  static HeadlessChromium start(Path binary, Path dir) throws Exception {
    Path profile = Files.createDirectories(dir.resolve("chromium-profile"));
    Process p = new ProcessBuilder(binary.toString(), "--headless=new", "--no-sandbox", "--disable-gpu",
        "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
        "--disable-sync", "--disable-component-update", "--remote-debugging-port=0", "--remote-allow-origins=*",
        "--user-data-dir=" + profile, "--window-size=1100,1500", "about:blank")
        .redirectErrorStream(true).redirectOutput(dir.resolve("chromium.log").toFile()).start();
    try {
      Path active = profile.resolve("DevToolsActivePort");
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
          .until(() -> !p.isAlive() || (Files.exists(active) && Files.readAllLines(active).size() >= 2));
      if (!p.isAlive()) {
        throw new IllegalStateException("chromium exited with " + p.exitValue() + ": "
            + Files.readString(dir.resolve("chromium.log")));
      }
      int port = Integer.parseInt(Files.readAllLines(active).get(0).trim());
      HttpClient http = HttpClient.newHttpClient();
      String pageSocket = null;
      JsonArray targets = new JsonArray(http.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + port + "/json/list")).build(), HttpResponse.BodyHandlers.ofString()).body());
      for (int i = 0; i < targets.size(); i++) {
        if ("page".equals(targets.getJsonObject(i).getString("type"))) {
          pageSocket = targets.getJsonObject(i).getString("webSocketDebuggerUrl");
          break;
        }
      }
      if (pageSocket == null) {
        throw new IllegalStateException("chromium shows no page target: " + targets.encode());
      }
      Listener listener = new Listener();
      WebSocket ws = http.newWebSocketBuilder().buildAsync(URI.create(pageSocket), listener).get(10, TimeUnit.SECONDS);
      HeadlessChromium c = new HeadlessChromium(p, ws);
      listener.owner = c;
      c.send("Page.enable", new JsonObject());
      c.send("Runtime.enable", new JsonObject());
      return c;
    } catch (Exception | Error e) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw e;
    }
  }

  /** Sends one command and waits for its result; a protocol error becomes an exception. */
  JsonObject send(String method, JsonObject params) throws Exception {
    int id = ids.incrementAndGet();
    CompletableFuture<JsonObject> answer = new CompletableFuture<>();
    pending.put(id, answer);
    socket.sendText(new JsonObject().put("id", id).put("method", method).put("params", params).encode(), true)
        .get(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    JsonObject reply = answer.get(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    if (reply.containsKey("error")) {
      throw new IllegalStateException(method + ": " + reply.getJsonObject("error").encode());
    }
    return reply.getJsonObject("result", new JsonObject());
  }

  /** Opens {@code url} and waits until the document and its deferred scripts have loaded. */
  void navigate(String url) throws Exception {
    send("Page.navigate", new JsonObject().put("url", url));
    await().atMost(Duration.ofSeconds(20)).until(() -> "complete".equals(eval("document.readyState")));
  }

  /** Evaluates {@code expression} in the page (awaiting a promise) and returns its JSON value. */
  Object eval(String expression) throws Exception {
    JsonObject r = send("Runtime.evaluate", new JsonObject().put("expression", expression)
        .put("returnByValue", true).put("awaitPromise", true));
    if (r.containsKey("exceptionDetails")) {
      throw new IllegalStateException("page script failed: " + r.getJsonObject("exceptionDetails").encode());
    }
    return r.getJsonObject("result").getValue("value");
  }

  /** {@code eval} of an expression that yields a string ("" for null/undefined). */
  String text(String expression) throws Exception {
    Object v = eval(expression);
    return v == null ? "" : v.toString();
  }

  /** Sets the viewport as a phone ({@code mobile}) or desktop window of that CSS size. */
  void viewport(int width, int height, boolean mobile) throws Exception {
    send("Emulation.setDeviceMetricsOverride", new JsonObject().put("width", width).put("height", height)
        .put("deviceScaleFactor", 1).put("mobile", mobile));
  }

  /** Saves a PNG of the whole page (beyond the viewport) to {@code file}. */
  void screenshot(Path file) throws Exception {
    JsonObject r = send("Page.captureScreenshot", new JsonObject().put("format", "png")
        .put("captureBeyondViewport", true));
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.write(file, Base64.getDecoder().decode(r.getString("data")));
  }

  /** Uncaught page exceptions and console errors seen so far. */
  List<String> pageErrors() {
    return List.copyOf(pageErrors);
  }

  private void onMessage(String text) {
    JsonObject m = new JsonObject(text);
    Integer id = m.getInteger("id");
    if (id != null) {
      CompletableFuture<JsonObject> f = pending.remove(id);
      if (f != null) {
        f.complete(m);
      }
    } else if ("Runtime.exceptionThrown".equals(m.getString("method"))) {
      pageErrors.add(m.getJsonObject("params").encode());
    } else if ("Runtime.consoleAPICalled".equals(m.getString("method"))
        && "error".equals(m.getJsonObject("params").getString("type"))) {
      pageErrors.add(m.getJsonObject("params").getJsonArray("args").encode());
    }
  }

  /** Joins the text frames of each message and hands whole messages to the owner. */
  private static final class Listener implements WebSocket.Listener {
    private final StringBuilder partial = new StringBuilder();
    private volatile HeadlessChromium owner;
    private final List<String> early = new CopyOnWriteArrayList<>();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        String message = partial.toString();
        partial.setLength(0);
        HeadlessChromium o = owner;
        if (o == null) {
          early.add(message);
        } else {
          early.forEach(o::onMessage);
          early.clear();
          o.onMessage(message);
        }
      }
      ws.request(1);
      return null;
    }
  }

  @Override
  public void close() throws IOException, InterruptedException {
    try {
      socket.abort();
    } finally {
      // the browser's own helpers (zygote, renderer, GPU) first, then the browser
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
