package io.edgecache.proxy.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status page in a real browser: the jar runs as a process with {@code admin.token} set, a
 * Vert.x origin behind it, traffic flowing; headless Chromium opens {@code http://<admin>/}.
 * Without the token the page shows nothing and purges nothing; with it the hit counter and the
 * chart move, and the purge form turns a stored object into a miss (seen in a real GET's
 * Cache-Status). A screenshot goes to {@code target/status-page.png} (copied to
 * {@code docs/status-page.png} for the README).
 *
 * <p>Needs Debian's {@code chromium} ({@code -Dedgecache.chromium} names another binary). It is
 * skipped only when the browser is missing and {@code -Dedgecache.browserTests=optional} (the
 * build's default for a developer machine); {@code .ci/run} sets {@code required}, so there a
 * missing browser fails the build.
 */
class StatusPageJarIT {
  private static final String TOKEN = "status-page-jar-token-0123456789";
  private static final String HOST = "edge.test";

  @TempDir
  Path dir;
  private CountingOrigin origin;
  private JarProxy proxy;
  private HeadlessChromium browser;
  private ScheduledExecutorService traffic;

  @BeforeEach
  void start() throws Exception {
    Path chromium = HeadlessChromium.binary();
    if (chromium == null) {
      boolean optional = "optional".equals(System.getProperty("edgecache.browserTests",
          System.getenv().getOrDefault("EDGECACHE_BROWSER_TESTS", "required")));
      Assumptions.assumeTrue(!optional, "no chromium and browser tests are optional: skipped");
      throw new AssertionError("browser tests are required but there is no executable at "
          + System.getProperty("edgecache.chromium", HeadlessChromium.DEFAULT_BINARY)
          + " (apt-get install -y chromium, or -Dedgecache.browserTests=optional to skip)");
    }
    origin = new CountingOrigin(r -> r.response().putHeader("Cache-Control", "public, max-age=3600")
        .end("body of " + r.path()));
    JsonObject config = new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("eventLoops", 2))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("token", TOKEN))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "shop").put("url", origin.url())
            .put("hosts", new JsonArray().add(HOST))))
        .put("memory", new JsonObject().put("maxBytes", "16MiB").put("maxObjectBytes", "1MiB"));
    proxy = JarProxy.start(dir, "proxy", config);
    // traffic: mostly hits on a few hot objects, a miss every tenth request
    AtomicLong n = new AtomicLong();
    traffic = Executors.newSingleThreadScheduledExecutor();
    traffic.scheduleAtFixedRate(() -> {
      long i = n.incrementAndGet();
      try {
        Http1.once(proxy.port(), "GET", i % 10 == 0 ? "/new/" + i : "/hot/" + (i % 3), HOST);
      } catch (Exception e) {
        // the next tick tries again; the assertions below notice if traffic stops
      }
    }, 0, 40, TimeUnit.MILLISECONDS);
    browser = HeadlessChromium.start(chromium, dir);
  }

  @AfterEach
  void stop() throws Exception {
    if (traffic != null) {
      traffic.shutdownNow();
      traffic.awaitTermination(5, TimeUnit.SECONDS);
    }
    JarProxy.closeAll(browser, proxy, origin);
  }

  private String admin() {
    return "http://127.0.0.1:" + proxy.adminPort() + "/";
  }

  private long hitsShown() throws Exception {
    String t = browser.text("document.getElementById('hits').textContent");
    return t.matches("\\d+") ? Long.parseLong(t) : -1;
  }

  /** Fills and submits the purge form as a user would; returns once the page shows the answer. */
  private String purgeThroughForm(String url) throws Exception {
    browser.eval("document.getElementById('purge-result').textContent = ''");
    browser.eval("document.getElementById('purge-kind').value = 'urls';"
        + "document.getElementById('purge-value').value = " + new JsonArray().add(url).encode() + "[0];"
        + "document.getElementById('purge-form').requestSubmit()");
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      String t = browser.text("document.getElementById('purge-result').textContent");
      return !t.isEmpty() && !t.startsWith("Purging");
    });
    return browser.text("document.getElementById('purge-result').textContent");
  }

  @Test
  void statusPage_tokenGatesData_countersAndChartMove_purgeFormMakesAMiss() throws Exception {
    // a stored object the purge form will remove
    Http1.once(proxy.port(), "GET", "/p", HOST);
    assertTrue(Http1.once(proxy.port(), "GET", "/p", HOST).isHit(), "/p stored");

    browser.viewport(1100, 1500, false);
    browser.navigate(admin());
    // no token: a clear 401, no numbers, and the purge form purges nothing
    await().atMost(Duration.ofSeconds(10)).until(() -> browser.text("document.getElementById('message').textContent")
        .contains("401"));
    assertEquals(Boolean.TRUE, browser.eval("document.getElementById('data').hidden"));
    assertEquals("–", browser.text("document.getElementById('hits').textContent"));
    assertEquals("", browser.text("document.getElementById('origins').textContent"), "no origin shown");
    assertTrue(purgeThroughForm("http://edge.test/p").contains("401"));
    assertTrue(Http1.once(proxy.port(), "GET", "/p", HOST).isHit(), "/p still stored after the refused purge");
    browser.screenshot(Path.of("target", "status-page-no-token.png"));

    // the token, typed into the page's form
    browser.eval("document.getElementById('token').value = " + new JsonArray().add(TOKEN).encode() + "[0];"
        + "document.getElementById('token-form').requestSubmit()");
    await().atMost(Duration.ofSeconds(10)).until(() -> Boolean.FALSE.equals(browser.eval("document.getElementById('data').hidden")));
    assertEquals("", browser.text("sessionStorage.getItem('edgecache.adminToken') === null ? 'x' : ''"),
        "kept in sessionStorage");
    // live: the hit counter climbs without a reload, and the chart draws the hit line with a rate
    long first = hitsShown();
    assertTrue(first > 0, "hits shown: " + first);
    await().atMost(Duration.ofSeconds(10)).until(() -> hitsShown() > first);
    await().atMost(Duration.ofSeconds(20)).until(() -> Integer.parseInt(browser.text(
        "document.querySelector('#chart polyline[data-outcome=hit]').dataset.points")) >= 8);
    String hitLabel = browser.text("document.querySelector('#chart text[data-outcome=hit]').textContent");
    assertTrue(hitLabel.matches("hit [0-9.]+/s") && !hitLabel.equals("hit 0/s"), hitLabel);
    String origins = browser.text("document.getElementById('origins').textContent");
    assertTrue(origins.contains("shop") && origins.contains("up"), origins);

    // the purge form with the token: /p becomes a miss for the next real request
    String answer = purgeThroughForm("http://edge.test/p");
    assertTrue(answer.startsWith("Done (HTTP 200)") && answer.contains("\"purged\": 1"), answer);
    long fetches = origin.count("GET", "/p");
    Http1.Response after = Http1.once(proxy.port(), "GET", "/p", HOST);
    assertTrue(after.cacheStatus().contains("fwd=uri-miss"), after.cacheStatus());
    assertEquals(fetches + 1, origin.count("GET", "/p"), "fetched again from the origin");

    // what POST /reload would change: the file on disk is the one running
    browser.eval("document.getElementById('reload-preview').click()");
    await().atMost(Duration.ofSeconds(10)).until(() -> browser.text("document.getElementById('reload-result').textContent")
        .contains("changes nothing"));

    browser.screenshot(Path.of("target", "status-page.png"));
    // phone width: nothing wider than the screen
    browser.viewport(390, 844, true);
    await().atMost(Duration.ofSeconds(5)).until(() -> ((Number) browser.eval(
        "document.documentElement.scrollWidth")).intValue() <= 390);
    browser.screenshot(Path.of("target", "status-page-phone.png"));
    assertTrue(Files.size(Path.of("target", "status-page.png")) > 10_000);
    assertEquals(java.util.List.of(), browser.pageErrors(), "no script errors on the page");
    assertNotNull(proxy);
  }
}
