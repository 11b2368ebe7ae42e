package io.edgecache.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real entry point in a child JVM: command line, config errors, and SIGTERM under load. */
class MainProcessTest {
  @TempDir
  Path dir;

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private Process launch(String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).directory(dir.toFile())
        .redirectOutput(dir.resolve("out.log").toFile()).redirectError(dir.resolve("err.log").toFile()).start();
  }

  private String err() throws IOException {
    return Files.readString(dir.resolve("err.log"), StandardCharsets.UTF_8);
  }

  @Test
  void version_andHelp_exitZero() throws Exception {
    Process p = launch("--version");
    assertEquals(0, p.waitFor());
    assertTrue(Files.readString(dir.resolve("out.log")).startsWith("edgecache "));
    p = launch("--help");
    assertEquals(0, p.waitFor());
    assertTrue(Files.readString(dir.resolve("out.log")).contains("--config FILE"));
  }

  @Test
  void brokenConfig_exitsNonZeroWithOneLineNamingFileAndKey() throws Exception {
    Files.writeString(dir.resolve("bad.json"), "{\"listen\": {\"port\": \"http\"}, \"origins\": []}");
    Process p = launch("--config", "bad.json");
    assertEquals(1, p.waitFor());
    String e = err().strip();
    assertEquals("edgecache: bad.json: listen.port: expected an integer from 0 to 65535, got \"http\"", e);
  }

  @Test
  void missingConfig_exitsNonZeroWithOneLine() throws Exception {
    Process p = launch("--config", "nope.json");
    assertEquals(1, p.waitFor());
    assertEquals("edgecache: nope.json: file not found", err().strip());
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
          .put("shutdown", new JsonObject().put("drainTimeout", "10s"));
      Files.writeString(dir.resolve("proxy.json"), cfg.encode());
      Process p = launch("--config", "proxy.json");
      HttpClient http = HttpClient.newHttpClient();
      boolean ready = false;
      for (int i = 0; i < 150 && !ready; i++) {
        try {
          ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/readyz")).build(),
              HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
        } catch (IOException e) {
          Thread.sleep(100);
        }
      }
      assertTrue(ready, "proxy never became ready: " + err());
      List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        inFlight.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/r" + i)).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      for (int i = 0; i < 200 && seen.get() < 10; i++) {
        Thread.sleep(10);
      }
      assertEquals(10, seen.get());
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
