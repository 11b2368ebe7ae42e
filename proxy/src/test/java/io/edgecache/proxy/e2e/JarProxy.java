package io.edgecache.proxy.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The shaded jar ({@code -Dedgecache.jar}, set by the Failsafe configuration) running in a child
 * JVM with a config written by the test. Both listeners bind port 0; the ports are read from the
 * start-up log line, so parallel builds on one machine cannot collide on a pre-picked port.
 *
 * <p>{@link #close} kills the process forcibly and waits for it, whatever state it is in: tests
 * close every instance they start in an {@code @AfterEach} / {@code @AfterAll}, so a failed
 * assertion never leaves a JVM behind.
 */
final class JarProxy implements AutoCloseable {
  private static final Pattern LISTENING =
      Pattern.compile("listening on https?://\\S+?:(\\d+) \\(admin http://\\S+?:(\\d+)\\)");
  private static final Pattern HTTPS = Pattern.compile("HTTPS on https://\\S+?:(\\d+) ");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

  private final String name;
  private final Process process;
  private final Path out;
  private final Path err;
  private final HttpClient admin = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private int port;
  private int tlsPort;
  private int adminPort;

  private JarProxy(String name, Process process, Path out, Path err) {
    this.name = name;
    this.process = process;
    this.out = out;
    this.err = err;
  }

  /** The jar under test; fails with a hint when the tests are not run by Failsafe. */
  static Path jar() {
    String jar = System.getProperty("edgecache.jar");
    assertNotNull(jar, "system property edgecache.jar is not set: run these tests with mvn verify (Failsafe)");
    Path p = Path.of(jar);
    assertTrue(Files.isRegularFile(p), "no jar at " + p + ": the package phase must run first");
    return p;
  }

  /**
   * Writes {@code config} to {@code dir/name.json}, starts {@code java -jar edgecache.jar --config}
   * on it and returns once {@code /healthz} answers 200. The caller owns the instance (close it).
   */
  /**
   * Closes each of {@code things} that is not null, in order, even when an earlier one fails; the
   * first failure is thrown once all were tried (later ones are added as suppressed).
   */
  static void closeAll(AutoCloseable... things) throws Exception {
    Exception first = null;
    for (AutoCloseable c : things) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  static JarProxy start(Path dir, String name, JsonObject config) throws IOException {
    return start(dir, name, config, List.of("-Xmx1g"));
  }

  /** {@link #start(Path, String, JsonObject)} with these JVM options (for example a small heap). */
  static JarProxy start(Path dir, String name, JsonObject config, List<String> jvmOptions) throws IOException {
    return start(dir, name, config, jvmOptions, START_TIMEOUT);
  }

  /**
   * {@link #start(Path, String, JsonObject, List)} that allows {@code startTimeout} for the ports
   * line and again for {@code /healthz} (a cluster node binds its traffic port only once it joined).
   */
  static JarProxy start(Path dir, String name, JsonObject config, List<String> jvmOptions, Duration startTimeout)
      throws IOException {
    return start(dir, name, config, jvmOptions, startTimeout, java.util.Map.of());
  }

  /** {@link #start(Path, String, JsonObject, List, Duration)} with these environment variables added. */
  static JarProxy start(Path dir, String name, JsonObject config, List<String> jvmOptions, Duration startTimeout,
      java.util.Map<String, String> environment) throws IOException {
    Path cfg = dir.resolve(name + ".json");
    if (!config.containsKey("startup")) {
      // the start-up warm-up only delays these tests; WarmupJarIT covers it
      config = config.copy().put("startup", new JsonObject().put("warmup", "0s"));
    }
    Files.writeString(cfg, config.encodePrettily());
    Path out = dir.resolve(name + ".out.log");
    Path err = dir.resolve(name + ".err.log");
    List<String> cmd = new java.util.ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    if (Runtime.version().feature() >= 23) {
      cmd.add("--sun-misc-unsafe-memory-access=allow"); // as the image's jvm.args (Dockerfile)
    }
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-jar", jar().toString(), "--config", cfg.toString()));
    ProcessBuilder builder = new ProcessBuilder(cmd)
        .directory(dir.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile());
    builder.environment().putAll(environment);
    Process p = builder.start();
    JarProxy proxy = new JarProxy(name, p, out, err);
    try {
      proxy.awaitHealthy(startTimeout);
    } catch (RuntimeException | Error e) {
      proxy.close();
      throw e;
    }
    return proxy;
  }

  private void awaitHealthy(Duration startTimeout) {
    await(name + " logs its ports").atMost(startTimeout).pollInterval(Duration.ofMillis(50))
        .failFast(this::assertAlive)
        .until(() -> {
          String log = Files.readString(out, StandardCharsets.UTF_8);
          Matcher m = LISTENING.matcher(log);
          if (!m.find()) {
            return false;
          }
          port = Integer.parseInt(m.group(1));
          adminPort = Integer.parseInt(m.group(2));
          Matcher tls = HTTPS.matcher(log);
          tlsPort = tls.find() ? Integer.parseInt(tls.group(1)) : 0;
          return true;
        });
    await(name + " /healthz").atMost(startTimeout).pollInterval(Duration.ofMillis(50))
        .ignoreException(IOException.class)
        .failFast(this::assertAlive)
        .until(() -> admin("GET", "/healthz", null).statusCode() == 200);
  }

  private void assertAlive() {
    if (!process.isAlive()) {
      throw new AssertionError(name + " exited with status " + process.exitValue() + " before it was healthy:\n"
          + logTail());
    }
  }

  /** The traffic port. */
  int port() {
    return port;
  }

  /** The HTTPS port (0 without {@code listen.tls}). */
  int tlsPort() {
    return tlsPort;
  }

  /** The admin port. */
  int adminPort() {
    return adminPort;
  }

  /** One request to the admin listener; {@code body} may be null. */
  HttpResponse<String> admin(String method, String path, String body) throws IOException, InterruptedException {
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
        .timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build();
    return admin.send(req, HttpResponse.BodyHandlers.ofString());
  }

  /** {@code GET /stats} as JSON. */
  JsonObject stats() throws IOException, InterruptedException {
    HttpResponse<String> r = admin("GET", "/stats", null);
    assertTrue(r.statusCode() == 200, "/stats answered " + r.statusCode() + ": " + r.body());
    return new JsonObject(r.body());
  }

  /** SIGTERM (a clean stop: drain, close the disk tier), then waits for the exit status. */
  int stop() throws InterruptedException {
    process.destroy();
    assertTrue(process.waitFor(30, TimeUnit.SECONDS), name + " still running 30 s after SIGTERM");
    return process.exitValue();
  }

  /** The child's name, as given to {@code start} (its config and log files are named after it). */
  String name() {
    return name;
  }

  /** The child's process id. */
  long pid() {
    return process.pid();
  }

  /** Whether the child process still runs. */
  boolean isAlive() {
    return process.isAlive();
  }

  /** SIGKILL (no shutdown hook, no drain: a crash), then waits until the process is gone. */
  void kill9() {
    close();
  }

  /**
   * SIGSTOP: the JVM freezes as in a very long GC pause or a stalled VM; its sockets stay open, so
   * peers notice only that it went silent. {@link #resume} continues it (POSIX {@code kill}).
   */
  void suspend() throws IOException, InterruptedException {
    signal("STOP");
  }

  /** SIGHUP: re-read the configuration (and the TLS certificate files). */
  void hangUp() throws IOException, InterruptedException {
    signal("HUP");
  }

  /** SIGCONT after {@link #suspend}. */
  void resume() throws IOException, InterruptedException {
    signal("CONT");
  }

  private void signal(String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
    assertTrue(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0, "kill -" + signal + " " + process.pid());
  }

  /** The child's whole stdout and stderr so far (for searching for one log line). */
  String log() {
    return read(out) + "\n--- stderr ---\n" + read(err);
  }

  private static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(" + p + ": " + e + ")";
    }
  }

  /** The end of the child's stdout and stderr, for assertion messages. */
  String logTail() {
    return tail(out) + "\n--- stderr ---\n" + tail(err);
  }

  private static String tail(Path p) {
    try {
      String s = Files.readString(p, StandardCharsets.UTF_8);
      return s.length() <= 3000 ? s : s.substring(s.length() - 3000);
    } catch (IOException e) {
      return "(" + p + ": " + e + ")";
    }
  }

  /** Kills the process (forcibly) if it still runs and waits until it is gone. */
  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
    }
    boolean interrupted = false;
    while (true) {
      try {
        process.waitFor();
        break;
      } catch (InterruptedException e) {
        interrupted = true; // keep waiting: the child must be gone before the test ends
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
