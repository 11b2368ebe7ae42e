package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Requests that try to make the cache store or forward something other than what its key names:
 * rerouting fields, GET with a body, several Hosts, and Set-Cookie responses under coalescing.
 */
class HostileRequestsIntegrationTest extends ProxyHarness {
  private static final String[] REROUTING = {"X-Original-URL", "X-Rewrite-URL", "X-HTTP-Method-Override",
      "X-HTTP-Method", "X-Method-Override", "X-Forwarded-Scheme", "X-Forwarded-Port", "X-Forwarded-Server", "X-Host",
      "X-Forwarded-Prefix"};

  private static String[] reroutingFields() {
    List<String> out = new ArrayList<>();
    for (String name : REROUTING) {
      out.add(name);
      out.add("/admin");
    }
    return out.toArray(new String[0]);
  }

  @Test
  void forward_reroutingFields_areRemovedByDefault() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=60").end("ok"));
    start();
    String[] fields = reroutingFields();
    String[] withKeep = new String[fields.length + 2];
    System.arraycopy(fields, 0, withKeep, 0, fields.length);
    withKeep[fields.length] = "X-Kept";
    withKeep[fields.length + 1] = "yes";
    assertEquals(200, RawHttp.get(port(), "/page", withKeep).status());
    TestOrigin.Seen seen = origin.last();
    for (String name : REROUTING) {
      assertNull(seen.headers().get(name), name + " reached the origin");
    }
    assertEquals("yes", seen.headers().get("X-Kept"));
  }

  @Test
  void forward_stripRequestHeadersConfigured_replacesTheDefaultSet() throws Exception {
    origin.handle(r -> r.response().end("ok"));
    start(baseConfig().put("upstream", new JsonObject().put("stripRequestHeaders", new JsonArray().add("X-Secret"))));
    RawHttp.get(port(), "/page", "X-Secret", "1", "X-Original-URL", "/admin");
    assertNull(origin.last().headers().get("X-Secret"));
    assertEquals("/admin", origin.last().headers().get("X-Original-URL"));
  }

  @Test
  void getWithContentLengthBody_bodyDroppedAndConnectionStaysFramed() throws Exception {
    origin.handle(r -> r.body().onSuccess(b -> r.response().putHeader("Cache-Control", "max-age=60")
        .end("len=" + b.length())));
    start();
    try (RawHttp c = new RawHttp(port())) {
      c.send("GET /fat HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 11\r\n\r\nhello world");
      RawHttp.Response first = c.read(false);
      assertEquals(200, first.status());
      assertEquals("len=0", new String(first.body()));
      RawHttp.Response next = c.request("GET", "/fat");
      assertTrue(next.header("Cache-Status").contains("hit"), next.header("Cache-Status"));
    }
    assertEquals(1, origin.requests.get());
    assertNull(origin.last().headers().get("Content-Length"));
  }

  @Test
  void getWithChunkedBody_bodyDroppedAndConnectionStaysFramed() throws Exception {
    origin.handle(r -> r.body().onSuccess(b -> r.response().end("len=" + b.length())));
    start();
    try (RawHttp c = new RawHttp(port())) {
      c.send("GET /chunked HTTP/1.1\r\nHost: edge.test\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5\r\nhello\r\n0\r\n\r\n");
      RawHttp.Response first = c.read(false);
      assertEquals("len=0", new String(first.body()));
      assertEquals(200, c.request("GET", "/after").status());
    }
    assertEquals(2, origin.requests.get());
    assertNull(origin.seen.get(0).headers().get("Transfer-Encoding"));
  }

  @Test
  void headWithBodyOnAHit_connectionStaysFramed() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=60").end("stored"));
    start();
    RawHttp.get(port(), "/h");
    try (RawHttp c = new RawHttp(port())) {
      c.send("HEAD /h HTTP/1.1\r\nHost: edge.test\r\nContent-Length: 3\r\n\r\nabc");
      RawHttp.Response head = c.read(true);
      assertTrue(head.header("Cache-Status").contains("hit"), head.header("Cache-Status"));
      assertEquals("stored", new String(c.request("GET", "/h").body()));
    }
    assertEquals(1, origin.requests.get());
  }

  @Test
  void twoHostFields_is400AndNothingForwarded() throws Exception {
    start();
    try (RawHttp c = new RawHttp(port())) {
      c.send("GET / HTTP/1.1\r\nHost: edge.test\r\nHost: evil.test\r\n\r\n");
      assertEquals(400, c.read(false).status());
    }
    assertEquals(0, origin.requests.get());
  }

  @Test
  void invalidHost_is400AndNothingForwarded() throws Exception {
    start();
    try (RawHttp c = new RawHttp(port())) {
      c.send("GET / HTTP/1.1\r\nHost: edge.test evil.test\r\n\r\n");
      assertEquals(400, c.read(false).status());
    }
    assertEquals(0, origin.requests.get());
  }

  @Test
  void absoluteFormWithOtherHost_hostIgnoredAndTargetAuthorityForwarded() throws Exception {
    origin.handle(r -> r.response().end("ok"));
    start();
    try (RawHttp c = new RawHttp(port())) {
      c.send("GET http://edge.test/abs HTTP/1.1\r\nHost: evil.test\r\n\r\n");
      assertEquals(200, c.read(false).status());
    }
    assertEquals("edge.test", origin.last().headers().get("Host"));
    assertEquals("edge.test", origin.last().headers().get("X-Forwarded-Host"));
  }

  @Test
  void coalescedWaiters_getTheStoredFormWithoutFieldsNamedByQualifiedPrivate() throws Exception {
    AtomicInteger n = new AtomicInteger();
    origin.handle(r -> {
      int mine = n.incrementAndGet();
      r.response().setChunked(true).putHeader("Cache-Control", "public, max-age=60, private=\"X-User\"")
          .putHeader("X-User", "user-" + mine);
      origin.vertx().setTimer(300, t -> r.response().end("shared"));
    });
    start();
    List<RawHttp.Response> answers = concurrentGets("/personal", 10);
    int withUser = 0;
    for (RawHttp.Response r : answers) {
      assertEquals("shared", new String(r.body()));
      withUser += r.header("X-User") == null ? 0 : 1;
    }
    assertEquals(1, origin.requests.get(), "the fill was shared");
    assertEquals(1, withUser, "only the leader's own client sees the field its origin marked private");
  }

  @Test
  void coalescedColdKey_setCookieWithPublic_everyClientGetsItsOwnCookieAndNothingIsStored() throws Exception {
    AtomicInteger n = new AtomicInteger();
    origin.handle(r -> {
      int mine = n.incrementAndGet();
      // hold the first answer back a little so that the others queue behind it as waiters
      r.response().setChunked(true).putHeader("Cache-Control", "public, max-age=60")
          .putHeader("Set-Cookie", "session=" + mine);
      origin.vertx().setTimer(mine == 1 ? 300 : 1, t -> r.response().end("body " + mine));
    });
    start();
    Set<String> cookies = new HashSet<>();
    for (RawHttp.Response r : concurrentGets("/cold", 20)) {
      assertEquals(200, r.status());
      String cookie = r.header("Set-Cookie");
      assertEquals("body " + cookie.substring("session=".length()), new String(r.body()));
      cookies.add(cookie);
    }
    assertEquals(20, cookies.size(), "cookies: " + cookies);
    assertEquals(20, origin.requests.get());
    RawHttp.Response after = RawHttp.get(port(), "/cold");
    assertTrue(after.header("Cache-Status").contains("detail=\"set-cookie\""), after.header("Cache-Status"));
    assertEquals(21, origin.requests.get());
  }

  private List<RawHttp.Response> concurrentGets(String path, int clients) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      List<Callable<RawHttp.Response>> calls = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        calls.add(() -> RawHttp.get(port(), path));
      }
      List<RawHttp.Response> out = new ArrayList<>();
      for (Future<RawHttp.Response> f : pool.invokeAll(calls, 30, TimeUnit.SECONDS)) {
        out.add(f.get());
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }
}
