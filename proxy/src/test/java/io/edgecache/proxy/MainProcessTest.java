package io.edgecache.proxy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real entry point in a child JVM: command line, config errors, and SIGTERM under load. */
class MainProcessTest {
  @TempDir
  Path dir;

  /** Every child JVM a test started: {@link #killChildren} ends them whatever the test did. */
  private final List<Process> children = new ArrayList<>();

  /**
   * Kills (SIGKILL) and reaps every child JVM and its descendants, after a pass, a failed assertion
   * or a timeout alike; runs before the temporary directory is deleted.
   */
  @AfterEach
  void killChildren() throws InterruptedException {
    for (Process p : children) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    List<Long> survivors = new ArrayList<>();
    for (Process p : children) {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        survivors.add(p.pid());
      }
    }
    children.clear();
    assertEquals(List.of(), survivors, "child JVMs still running after SIGKILL");
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private Process launch(String... args) throws IOException {
    return launchWith(List.of(), args);
  }

  /** {@link #launch} with JVM options, such as a small {@code -Xmx}, before the main class. */
  private Process launchWith(List<String> jvmOptions, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java")));
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile())
        .redirectOutput(dir.resolve("out.log").toFile()).redirectError(dir.resolve("err.log").toFile()).start();
    children.add(p);
    return p;
  }

  /** The child's exit code; fails (and {@link #killChildren} ends it) if it has not exited in 30 s. */
  private static int exitCode(Process p) throws InterruptedException {
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "child JVM still running after 30 s");
    return p.exitValue();
  }

  private static boolean answers200(HttpClient http, String url) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString())
          .statusCode() == 200;
    } catch (IOException e) {
      return false; // not listening yet
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private String err() throws IOException {
    return Files.readString(dir.resolve("err.log"), StandardCharsets.UTF_8);
  }

  @Test
  void version_andHelp_exitZero() throws Exception {
    Process p = launch("--version");
    assertEquals(0, exitCode(p));
    assertTrue(Files.readString(dir.resolve("out.log")).startsWith("edgecache "));
    p = launch("--help");
    assertEquals(0, exitCode(p));
    assertTrue(Files.readString(dir.resolve("out.log")).contains("--config FILE"));
  }

  @Test
  void brokenConfig_exitsNonZeroWithOneLineNamingFileAndKey() throws Exception {
    Files.writeString(dir.resolve("bad.json"), "{\"listen\": {\"port\": \"http\"}, \"origins\": []}");
    Process p = launch("--config", "bad.json");
    assertEquals(1, exitCode(p));
    String e = err().strip();
    assertEquals("edgecache: bad.json: listen.port: expected an integer from 0 to 65535, got \"http\"", e);
  }

  @Test
  void namedTransportNotAvailable_exitsNonZeroWithOneLineNamingTheKey() throws Exception {
    Files.writeString(dir.resolve("t.json"), """
        {"listen": {"host": "127.0.0.1", "port": 0, "transport": "io_uring"}, "admin": {"host": "127.0.0.1", "port": 0},
         "origins": [{"name": "o", "url": "http://127.0.0.1:9", "hosts": ["*"]}]}
        """);
    // Netty's switch that turns every native transport off, as a kernel or seccomp profile without io_uring would
    Process p = launchWith(List.of("-Dio.netty.transport.noNative=true"), "--config", "t.json");
    assertEquals(1, exitCode(p));
    String e = err().strip();
    assertEquals(1, e.lines().count(), e);
    assertTrue(e.startsWith("edgecache: t.json: listen.transport: \"io_uring\" is not available here ("), e);
    assertTrue(e.endsWith("); use \"auto\""), e);
    // the training run (--train) runs on the transport too, and refuses it the same way
    p = launchWith(List.of("-Dio.netty.transport.noNative=true"), "--config", "t.json", "--train");
    assertEquals(1, exitCode(p));
    assertEquals(e, err().strip());
  }

  @Test
  void autoTransport_withoutNativeTransports_servesOnNio() throws Exception {
    int admin = freePort();
    Files.writeString(dir.resolve("nio.json"), """
        {"listen": {"host": "127.0.0.1", "port": 0}, "admin": {"host": "127.0.0.1", "port": %d},
         "origins": [{"name": "o", "url": "http://127.0.0.1:9", "hosts": ["*"]}], "startup": {"warmup": "0s"}}
        """.formatted(admin));
    Process p = launchWith(List.of("-Dio.netty.transport.noNative=true"), "--config", "nio.json");
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    await().atMost(Duration.ofSeconds(30)).until(() -> !p.isAlive() || answers200(http, "http://127.0.0.1:" + admin + "/healthz"));
    assertTrue(p.isAlive(), "exited: " + err());
    String status = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/api/status")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    assertEquals("nio", new JsonObject(status).getJsonObject("build").getString("transport"), status);
  }

  @Test
  void missingConfig_exitsNonZeroWithOneLine() throws Exception {
    Process p = launch("--config", "nope.json");
    assertEquals(1, exitCode(p));
    assertEquals("edgecache: nope.json: file not found", err().strip());
  }

  @Test
  void configLargerThanTheHeap_exitsNonZeroWithOneLineSayingWhatToChange() throws Exception {
    Files.writeString(dir.resolve("big.json"), """
        {"listen": {"host": "127.0.0.1", "port": 0}, "admin": {"host": "127.0.0.1", "port": 0},
         "origins": [{"name": "o", "url": "http://127.0.0.1:9", "hosts": ["*"]}],
         "memory": {"maxBytes": "256MiB", "fillBufferBytes": "64MiB"}}
        """);
    Process p = launchWith(List.of("-Xmx256m"), "--config", "big.json");
    assertEquals(1, exitCode(p));
    String e = err().strip();
    assertEquals(1, e.lines().count(), e);
    assertTrue(e.startsWith("edgecache: big.json: memory.maxBytes 256MiB + memory.fillBufferBytes 64MiB + overhead "), e);
    assertTrue(e.contains(" does not fit in the JVM's max heap "), e);
    assertTrue(e.endsWith("(expected: lower memory.maxBytes or memory.fillBufferBytes by " + e.replaceAll(".* by ([^,]+),.*", "$1")
        + ", or raise -Xmx / -XX:MaxRAMPercentage)"), e);
  }

  @Test
  void configThatFitsTheHeap_starts() throws Exception {
    int admin = freePort();
    Files.writeString(dir.resolve("small.json"), """
        {"listen": {"host": "127.0.0.1", "port": 0}, "admin": {"host": "127.0.0.1", "port": %d},
         "origins": [{"name": "o", "url": "http://127.0.0.1:9", "hosts": ["*"]}],
         "memory": {"maxBytes": "48MiB", "fillBufferBytes": "16MiB"}, "accessLog": {"enabled": false}}
        """.formatted(admin));
    launchWith(List.of("-Xmx256m"), "--config", "small.json");
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    await().atMost(Duration.ofSeconds(30)).until(() -> answers200(http, "http://127.0.0.1:" + admin + "/healthz"));
  }

  @Test
  void sigterm_underLoad_finishesInFlightRequestsAndExitsZero() throws Exception {
    Vertx vertx = Vertx.vertx();
    AtomicInteger seen = new AtomicInteger();
    HttpServer origin = vertx.createHttpServer().requestHandler(r -> {
      seen.incrementAndGet();
      vertx.setTimer(800, t -> r.response().end("finished"));
    });
    origin.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    try {
      int port = freePort();
      int admin = freePort();
      JsonObject cfg = new JsonObject()
          .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", port).put("eventLoops", 2))
          .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", admin))
          .put("origins", new JsonArray().add(new JsonObject().put("name", "o")
              .put("url", "http://127.0.0.1:" + origin.actualPort()).put("hosts", new JsonArray().add("*"))))
          .put("disk", new JsonObject().put("path", dir.resolve("cache").toString()).put("maxBytes", "64MiB"))
          .put("shutdown", new JsonObject().put("drainTimeout", "10s"))
          .put("startup", new JsonObject().put("warmup", "0s"));
      Files.writeString(dir.resolve("proxy.json"), cfg.encode());
      Process p = launch("--config", "proxy.json");
      HttpClient http = HttpClient.newHttpClient();
      String readyz = "http://127.0.0.1:" + admin + "/readyz";
      try {
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100))
            .until(() -> !p.isAlive() || answers200(http, readyz));
      } catch (ConditionTimeoutException e) {
        fail("proxy never became ready: " + err());
      }
      assertTrue(p.isAlive(), "proxy exited during start-up: " + err());
      List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        inFlight.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/r" + i)).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> seen.get() == 10);
      p.destroy(); // SIGTERM
      for (CompletableFuture<HttpResponse<String>> f : inFlight) {
        HttpResponse<String> r = f.get(15, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode());
        assertEquals("finished", r.body());
      }
      assertTrue(p.waitFor(20, TimeUnit.SECONDS), "still running after SIGTERM");
      assertEquals(0, p.exitValue(), err());
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
