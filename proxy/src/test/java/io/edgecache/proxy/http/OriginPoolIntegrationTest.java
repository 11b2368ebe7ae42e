package io.edgecache.proxy.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.ProxyServer;
import io.edgecache.proxy.config.ConfigLoader;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Origin pools through real sockets: two scripted servers behind one origin, one of them stopped,
 * failing its health checks or coming back; what clients see, and what {@code GET /origins} says.
 */
class OriginPoolIntegrationTest extends ProxyHarness {
  private TestOrigin second;
  @TempDir
  Path dir;

  @BeforeEach
  void startSecond() throws Exception {
    second = new TestOrigin(originVertx);
  }

  @AfterEach
  void stopSecond() throws Exception {
    second.close();
  }

  private static String id(TestOrigin o) {
    return "127.0.0.1:" + o.port();
  }

  /** The base config with one origin of two servers ({@link #origin}, {@link #second}) and these extra keys. */
  private JsonObject pool(JsonObject extra) {
    JsonObject o = new JsonObject().put("name", "pool")
        .put("servers", new JsonArray().add(origin.url()).add(second.url()))
        .put("hosts", new JsonArray().add("*"));
    o.mergeIn(extra);
    return baseConfig().put("origins", new JsonArray().add(o));
  }

  /** Both servers answer with their name, uncacheable. */
  private void bothAnswerWithTheirName() {
    origin.handle(r -> r.response().putHeader("Cache-Control", "no-store").end("first"));
    second.handle(r -> r.response().putHeader("Cache-Control", "no-store").end("second"));
  }

  private JsonObject server(String id) throws Exception {
    JsonObject all = new JsonObject(RawHttp.get(proxy.adminPort(), "/origins").text());
    for (Object s : all.getJsonArray("origins").getJsonObject(0).getJsonArray("servers")) {
      if (((JsonObject) s).getString("server").equals(id)) {
        return (JsonObject) s;
      }
    }
    throw new AssertionError("no server " + id + " in " + all);
  }

  @Test
  void get_roundRobin_spreadsOverBothServers() throws Exception {
    bothAnswerWithTheirName();
    start(pool(new JsonObject()));
    for (int i = 0; i < 10; i++) {
      assertEquals(200, RawHttp.get(port(), "/p").status());
    }
    assertEquals(5, origin.requests.get());
    assertEquals(5, second.requests.get());
    assertEquals(5, server(id(second)).getLong("requests"));
    assertEquals("up", server(id(second)).getString("state"));
  }

  @Test
  void get_oneServerStopped_everyRequestSucceedsOnTheOtherAndTheStoppedOneIsEjected() throws Exception {
    bothAnswerWithTheirName();
    start(pool(new JsonObject()));
    RawHttp.get(port(), "/warm");
    RawHttp.get(port(), "/warm");
    origin.close();
    for (int i = 0; i < 20; i++) {
      RawHttp.Response r = RawHttp.get(port(), "/p" + i);
      assertEquals(200, r.status(), r.text());
      assertEquals("second", r.text());
    }
    JsonObject stopped = server(id(origin));
    assertEquals("ejected", stopped.getString("state"), stopped.encode());
    assertTrue(stopped.getLong("errors") >= 5, stopped.encode());
    assertEquals(0, stopped.getInteger("inFlight"));
    await().atMost(Duration.ofSeconds(5)).until(() -> server(id(second)).getInteger("inFlight") == 0);
  }

  @Test
  void post_toAStoppedServer_failsOverBecauseItWasNeverSent() throws Exception {
    bothAnswerWithTheirName();
    second.handle(r -> r.body().onSuccess(b -> r.response().putHeader("Cache-Control", "no-store").end("second " + b)));
    start(pool(new JsonObject().put("ejectAfter", 0)));
    origin.close();
    int answered = 0;
    for (int i = 0; i < 4; i++) {
      RawHttp.Response r;
      try (RawHttp c = new RawHttp(port())) {
        c.send("POST /form HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 3\r\n\r\na=b");
        r = c.read(false);
      }
      if (r.status() == 502) {
        // only when the freed port was taken by another process meanwhile: the connect succeeded,
        // the POST was sent, so it is not sent again
        assertTrue(r.header("Cache-Status").matches(".*detail=\"origin-error\".*"), r.header("Cache-Status"));
      } else {
        assertEquals("second a=b", r.text(), "a refused connect sends the POST, body and all, to the next server");
        answered++;
      }
    }
    assertTrue(answered >= 2, "round robin sent every other POST to the stopped server: " + answered);
    assertEquals(answered, second.requests.get());
    for (int i = 0; i < 4; i++) {
      assertEquals(200, RawHttp.get(port(), "/g" + i).status(), "a GET fails over");
    }
  }

  @Test
  void uploads_theClientAbandons_neverCountAgainstTheServers() throws Exception {
    origin.handle(r -> r.body().onSuccess(b -> r.response().end("first " + b.length())));
    second.handle(r -> r.body().onSuccess(b -> r.response().end("second " + b.length())));
    start(pool(new JsonObject().put("ejectAfter", 2)));
    for (int i = 0; i < 6; i++) { // streamed bodies (over 16 KiB), each broken off after 10 bytes
      try (RawHttp c = new RawHttp(port())) {
        c.send("PUT /up HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 100000\r\n\r\n0123456789");
      }
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> server(id(origin)).getInteger("inFlight") == 0
        && server(id(second)).getInteger("inFlight") == 0);
    for (TestOrigin o : new TestOrigin[] {origin, second}) {
      JsonObject s = server(id(o));
      assertEquals("up", s.getString("state"), s.encode());
      assertEquals(0L, s.getLong("errors"), "a client that leaves mid-upload says nothing about the server: " + s.encode());
    }
  }

  @Test
  void get_everyServerDown_servesStaleWhereAllowedAndOtherwise503WithDetail() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=60").putHeader("Age", "120")
        .putHeader("ETag", "\"v1\"").end("kept"));
    second.handle(r -> r.response().putHeader("Cache-Control", "max-age=60").putHeader("Age", "120")
        .putHeader("ETag", "\"v1\"").end("kept"));
    start(pool(new JsonObject().put("healthCheck", new JsonObject().put("path", "/healthz").put("interval", "100ms")
        .put("timeout", "1s").put("unhealthy", 1).put("healthy", 1))));
    assertEquals("kept", RawHttp.get(port(), "/doc").text());
    origin.close();
    second.close();
    await().atMost(Duration.ofSeconds(10)).until(() -> server(id(origin)).getString("state").equals("down")
        && server(id(second)).getString("state").equals("down"));

    RawHttp.Response stale = RawHttp.get(port(), "/doc");
    assertEquals(200, stale.status());
    assertEquals("kept", stale.text());
    assertTrue(stale.header("Cache-Status").contains("stale-if-error: no-healthy-server"), stale.header("Cache-Status"));

    RawHttp.Response none = RawHttp.get(port(), "/never-stored");
    assertEquals(503, none.status());
    assertTrue(none.header("Cache-Status").contains("detail=\"no-healthy-server\""), none.header("Cache-Status"));
  }

  @Test
  void healthCheck_failingServer_isTakenOutAndBroughtBackWhenItPassesAgain() throws Exception {
    AtomicBoolean sick = new AtomicBoolean();
    origin.handle(r -> {
      if (r.path().equals("/healthz")) {
        r.response().setStatusCode(sick.get() ? 500 : 200).end();
      } else {
        r.response().putHeader("Cache-Control", "no-store").end("first");
      }
    });
    second.handle(r -> r.response().putHeader("Cache-Control", "no-store").end("second"));
    start(pool(new JsonObject().put("healthCheck", new JsonObject().put("path", "/healthz").put("interval", "100ms")
        .put("unhealthy", 2).put("healthy", 2))));
    sick.set(true);
    await().atMost(Duration.ofSeconds(10)).until(() -> server(id(origin)).getString("state").equals("down"));
    for (int i = 0; i < 6; i++) {
      assertEquals("second", RawHttp.get(port(), "/p").text());
    }
    String metrics = RawHttp.get(proxy.adminPort(), "/metrics").text();
    assertTrue(metrics.contains("edgecache_origin_server_up{origin=\"pool\",server=\"" + id(origin) + "\"} 0.0"),
        metrics);

    sick.set(false);
    await().atMost(Duration.ofSeconds(10)).until(() -> server(id(origin)).getString("state").equals("up"));
    boolean reachedFirst = false;
    for (int i = 0; i < 4; i++) {
      reachedFirst |= RawHttp.get(port(), "/p").text().equals("first");
    }
    assertTrue(reachedFirst, "traffic reaches the server again");
  }

  @Test
  void inFlight_clientLeavesMidBody_fallsBackToZero() throws Exception {
    origin.handle(r -> r.response().setChunked(true).putHeader("Cache-Control", "no-store").write("first part"));
    second.handle(r -> r.response().setChunked(true).putHeader("Cache-Control", "no-store").write("first part"));
    start(pool(new JsonObject().put("balance", "least-connections")));
    try (RawHttp c = new RawHttp(port())) {
      c.send("GET /slow HTTP/1.1\r\nHost: edge.test\r\n\r\n");
      await().atMost(Duration.ofSeconds(5)).until(() -> server(id(origin)).getInteger("inFlight")
          + server(id(second)).getInteger("inFlight") == 1);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> server(id(origin)).getInteger("inFlight")
        + server(id(second)).getInteger("inFlight") == 0);
  }

  @Test
  void reload_keepsADownServerDownAndTheNewChecksBringItBack() throws Exception {
    AtomicBoolean sick = new AtomicBoolean(true);
    origin.handle(r -> {
      if (r.path().equals("/healthz")) {
        r.response().setStatusCode(sick.get() ? 503 : 200).end();
      } else {
        r.response().putHeader("Cache-Control", "no-store").end("first");
      }
    });
    second.handle(r -> r.response().putHeader("Cache-Control", "no-store").end("second"));
    JsonObject checks = new JsonObject().put("path", "/healthz").put("interval", "100ms").put("unhealthy", 1)
        .put("healthy", 1);
    JsonObject cfg = pool(new JsonObject().put("healthCheck", checks));
    Path file = dir.resolve("proxy.json");
    Files.writeString(file, cfg.encodePrettily());
    proxy = new ProxyServer(ConfigLoader.load(file));
    proxy.start().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> server(id(origin)).getString("state").equals("down"));

    cfg.getJsonArray("origins").getJsonObject(0).put("healthCheck", checks.copy().put("interval", "1s"));
    Files.writeString(file, cfg.encodePrettily());
    assertEquals(java.util.List.of(), proxy.reload().restartNeeded());
    assertEquals("down", server(id(origin)).getString("state"), "the state carried over the reload");
    for (int i = 0; i < 4; i++) {
      assertEquals("second", RawHttp.get(port(), "/p").text());
    }

    sick.set(false);
    await().atMost(Duration.ofSeconds(10)).until(() -> server(id(origin)).getString("state").equals("up"));
  }

  @Test
  void origins_withAnAdminToken_answersOnlyWithTheToken() throws Exception {
    String token = "a-token-of-sufficient-length";
    start(pool(new JsonObject()).put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0)
        .put("token", token)));
    assertEquals(401, RawHttp.get(proxy.adminPort(), "/origins").status());
    RawHttp.Response r = RawHttp.get(proxy.adminPort(), "/origins", "Authorization", "Bearer " + token);
    assertEquals(200, r.status());
    assertEquals("pool", new JsonObject(r.text()).getJsonArray("origins").getJsonObject(0).getString("name"));
  }

  @Test
  void hash_sameUrl_alwaysGoesToTheSameServer() throws Exception {
    bothAnswerWithTheirName();
    start(pool(new JsonObject().put("balance", "hash")));
    for (int k = 0; k < 6; k++) {
      String first = RawHttp.get(port(), "/item/" + k).text();
      for (int i = 0; i < 3; i++) {
        assertEquals(first, RawHttp.get(port(), "/item/" + k).text());
      }
    }
  }
}
