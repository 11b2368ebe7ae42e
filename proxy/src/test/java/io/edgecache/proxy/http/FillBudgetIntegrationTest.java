package io.edgecache.proxy.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@code memory.fillBufferBytes} is the cause, everything else equal: the same 600 KB response is
 * not stored while another fill holds most of a 1 MiB budget, and is stored once that fill ended
 * and gave its reservation back.
 */
class FillBudgetIntegrationTest extends ProxyHarness {
  private static final int HOG = 900_000;
  private static final int BODY = 600_000;

  private final AtomicInteger bodyFetches = new AtomicInteger();
  private final Promise<Void> releaseHog = Promise.promise();

  private void script() {
    origin.handle(r -> {
      if (r.path().equals("/hog")) {
        // the fill reserves the whole announced body at its first byte and holds it until the last
        r.response().putHeader("Content-Length", Integer.toString(HOG + 1)).putHeader("Cache-Control", "max-age=600");
        r.response().write(Buffer.buffer(new byte[HOG]));
        releaseHog.future().onComplete(v -> r.response().end(Buffer.buffer(new byte[1])));
      } else {
        bodyFetches.incrementAndGet();
        r.response().putHeader("Cache-Control", "max-age=600").end(Buffer.buffer(new byte[BODY]));
      }
    });
  }

  private JsonObject config() {
    return baseConfig().put("memory", new JsonObject().put("maxBytes", "64MiB").put("maxObjectBytes", "2MiB")
        .put("fillBufferBytes", "1MiB"));
  }

  /** Reads the hog's first 900 KB: once the client has them, the proxy has collected them. */
  private CompletableFuture<Void> startHog() throws Exception {
    HttpResponse<InputStream> hog = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + "/hog")).timeout(Duration.ofSeconds(20)).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    InputStream in = hog.body();
    assertEquals(HOG, in.readNBytes(HOG).length);
    return CompletableFuture.runAsync(() -> {
      try (in) {
        in.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  /** Cache-Status of a HEAD for the hog, under the same Host as the hog's GET. */
  private String hogCacheStatus() throws Exception {
    return HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + "/hog"))
            .method("HEAD", HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.discarding()).headers().firstValue("cache-status").orElse("");
  }

  @Test
  void fill_budgetFree_theResponseIsStoredAndTheNextRequestIsAHit() throws Exception {
    script();
    start(config());
    assertEquals(BODY, RawHttp.get(port(), "/body").body().length);
    RawHttp.Response second = RawHttp.get(port(), "/body");
    assertTrue(second.header("Cache-Status").contains("hit"), second.header("Cache-Status"));
    assertEquals(1, bodyFetches.get());
  }

  @Test
  void fill_budgetHeldByAnotherFill_theSameResponseIsServedButNotStored_untilTheBudgetComesBack() throws Exception {
    script();
    start(config());
    CompletableFuture<Void> hogRest = startHog();

    assertEquals(BODY, RawHttp.get(port(), "/body").body().length);
    RawHttp.Response again = RawHttp.get(port(), "/body");
    assertTrue(again.header("Cache-Status").contains("fwd=uri-miss"), again.header("Cache-Status"));
    assertEquals(2, bodyFetches.get(), "not stored while the budget was spent");

    originVertx.runOnContext(v -> releaseHog.complete());
    hogRest.get(20, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> hogCacheStatus().contains("hit"));

    RawHttp.get(port(), "/body");
    RawHttp.Response hit = RawHttp.get(port(), "/body");
    assertTrue(hit.header("Cache-Status").contains("hit"), hit.header("Cache-Status"));
    assertEquals(3, bodyFetches.get(), "stored once the budget came back");
  }
}
