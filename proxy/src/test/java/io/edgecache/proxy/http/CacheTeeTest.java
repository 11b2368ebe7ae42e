package io.edgecache.proxy.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerResponse;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * CacheTee between a real origin and a real client: the client always gets every byte; the owner
 * gets the collected copy only when it stayed within the object limit and the fill budget, and
 * (with a Content-Length) before the client's response ended.
 */
class CacheTeeTest {
  private static final byte[] BODY = new byte[200_000];

  static {
    new Random(7).nextBytes(BODY);
  }

  private Vertx vertx;
  private HttpServer origin;
  private HttpServer front;
  private volatile boolean chunkedOrigin;
  private volatile long objectLimit = 1 << 20;
  private final FillBudget budget = new FillBudget(1 << 20);
  private final AtomicBoolean completed = new AtomicBoolean();
  private final AtomicReference<byte[]> stored = new AtomicReference<>();
  private final AtomicBoolean endedBeforeComplete = new AtomicBoolean();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    origin = vertx.createHttpServer().requestHandler(r -> {
      if (chunkedOrigin) {
        r.response().setChunked(true).write(Buffer.buffer(BODY)).onComplete(v -> r.response().end());
      } else {
        r.response().end(Buffer.buffer(BODY));
      }
    });
    origin.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    HttpClient client = vertx.createHttpClient();
    front = vertx.createHttpServer(new HttpServerOptions().setHttp2ClearTextEnabled(false)).requestHandler(req ->
        client.request(HttpMethod.GET, origin.actualPort(), "127.0.0.1", "/").compose(r -> r.send()).onSuccess(cresp -> {
          HttpServerResponse resp = req.response();
          long length = Messages.contentLength(Messages.toHeaders(cresp.headers()));
          if (length < 0) {
            resp.setChunked(true);
          } else {
            resp.putHeader("Content-Length", Long.toString(length));
          }
          CacheTee.Owner owner = new CacheTee.Owner() {
            @Override
            public boolean clientGone() {
              return resp.closed();
            }

            @Override
            public void clientLeft() {
            }

            @Override
            public void complete(byte[] body) {
              endedBeforeComplete.set(resp.ended());
              stored.set(body);
              completed.set(true);
            }
          };
          new CacheTee(cresp, resp, new BodyCollector(objectLimit, budget), null, length, owner, "k", vertx, 60_000).start();
        }));
    front.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private byte[] get() throws Exception {
    return java.net.http.HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + front.actualPort() + "/")).timeout(Duration.ofSeconds(10))
            .build(), HttpResponse.BodyHandlers.ofByteArray()).body();
  }

  @Test
  void tee_withContentLength_clientGetsEveryByteAndOwnerTheSameCopyBeforeTheEnd() throws Exception {
    assertArrayEquals(BODY, get());
    await().atMost(Duration.ofSeconds(5)).untilTrue(completed);
    assertArrayEquals(BODY, stored.get());
    assertFalse(endedBeforeComplete.get(), "the copy is handed over before the client's response ends");
    assertEquals(1 << 20, budget.available());
  }

  @Test
  void tee_unknownLength_ownerGetsTheCopyAtTheOriginsEnd() throws Exception {
    chunkedOrigin = true;
    assertArrayEquals(BODY, get());
    await().atMost(Duration.ofSeconds(5)).untilTrue(completed);
    assertArrayEquals(BODY, stored.get());
  }

  @Test
  void tee_bodyOverTheObjectLimit_clientGetsEveryByteOwnerGetsNothing() throws Exception {
    objectLimit = BODY.length - 1;
    assertArrayEquals(BODY, get());
    await().atMost(Duration.ofSeconds(5)).untilTrue(completed);
    assertNull(stored.get());
    assertEquals(1 << 20, budget.available());
  }

  @Test
  void tee_fillBudgetSpent_clientGetsEveryByteOwnerGetsNothingAndTheBudgetIsUntouched() throws Exception {
    budget.tryReserve((1 << 20) - 1000);
    assertArrayEquals(BODY, get());
    await().atMost(Duration.ofSeconds(5)).untilTrue(completed);
    assertNull(stored.get());
    assertEquals(1000, budget.available());
  }
}
