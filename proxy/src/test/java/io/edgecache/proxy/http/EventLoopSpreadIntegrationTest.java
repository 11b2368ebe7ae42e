package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Every instance of a listener gets an event loop of its own: with {@code listen.eventLoops} 2,
 * two instances on one loop would leave the other loop with no connection to serve, and the
 * proxy with half its CPU (this happened in about 2 of 5 starts before the origin clients were
 * made ahead of the deployment).
 */
class EventLoopSpreadIntegrationTest extends ProxyHarness {

  @Test
  void eachInstanceOfTheTrafficListener_runsOnItsOwnEventLoop_startAfterStart() throws Exception {
    origin.handle(r -> r.response().putHeader("Cache-Control", "max-age=60").end("x"));
    for (int start = 0; start < 8; start++) {
      start();
      List<Thread> loops = proxy.eventLoopThreads("listen");
      assertEquals(2, loops.size(), "instances of start " + start);
      Set<Thread> distinct = new HashSet<>(loops);
      assertEquals(2, distinct.size(), "start " + start + ": instances share a loop: " + loops);
      assertEquals(200, RawHttp.get(port(), "/x").status());
      proxy.stop().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      proxy = null;
    }
  }
}
