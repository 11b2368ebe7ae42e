package io.edgecache.proxy.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three jar nodes in replicated mode on loopback, formed from a static seed list (README, "Running a
 * cluster"): every node lists the same three members and listens on loopback only, every kind of
 * purge sent to any node reaches all of them within a second (the purge answer reports each node's
 * count), and a node that was away while purges happened (stopped, killed, the whole cluster down,
 * or purges racing its start) does not serve a purged object after it restarts on the same disk
 * folder.
 *
 * <p>The nodes are started once for the class. Every node has a disk tier, and objects under
 * {@code /big/} are larger than {@code memory.maxObjectBytes}, so they live on disk only (what a
 * restart keeps). The restart tests stop, kill and start nodes again, so they run last.
 *
 * <p>Probes use {@code Cache-Control: only-if-cached}: a stored fresh response answers 200, anything
 * else 504 without contacting the origin (RFC 9111 5.2.1.7), so polling never refills the cache.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterJarIT {
  private static final String HOST = JarCluster.HOST;
  /** The target: every live node misses within this long after the purge was sent. */
  private static final Duration PURGE_REACH = Duration.ofSeconds(1);

  @TempDir
  static Path dir;
  private static CountingOrigin origin;
  private static JarCluster cluster;

  @BeforeAll
  static void startOriginAndCluster() throws Exception {
    origin = new CountingOrigin(r -> r.response()
        .putHeader("Cache-Control", "public, max-age=3600")
        .putHeader("Surrogate-Key", tagOf(r.path()))
        .end(Buffer.buffer(body(r.path()))));
    UnaryOperator<JsonObject> withDisk = c -> c.put("disk", new JsonObject()
        .put("path", dir.resolve("cache-" + c.getJsonObject("listen").getInteger("port")).toString())
        .put("maxBytes", "64MiB").put("indexMaxBytes", "8MiB").put("maxObjectBytes", "8MiB"))
        .put("memory", c.getJsonObject("memory").put("maxObjectBytes", "16KiB"));
    cluster = new JarCluster(dir, origin.url(), 3, "replicated", withDisk);
    cluster.startAll();
    cluster.awaitFormed(0, 1, 2);
  }

  @AfterAll
  static void stopClusterAndOrigin() throws Exception {
    JarProxy.closeAll(cluster, origin);
  }

  /** {@code /tag/<group>/...} carries the tag {@code group-<group>}; anything else {@code other}. */
  static String tagOf(String path) {
    String[] parts = path.split("/");
    return parts.length > 3 && parts[1].equals("tag") ? "group-" + parts[2] : "other";
  }

  /** A body that is a function of the path: 64 KiB under {@code /big/} (disk only), else 2 KiB. */
  static byte[] body(String path) {
    byte[] b = new byte[path.startsWith("/big/") ? 64 * 1024 : 2048];
    new SplittableRandom(path.hashCode()).nextBytes(b);
    return b;
  }

  @Test
  @Order(1)
  void getCluster_threeNodesFromAStaticList_listsThreeMembersWithTheContractFieldsOnEach() throws Exception {
    Set<String> urls = new TreeSet<>();
    for (int i = 0; i < 3; i++) {
      urls.add(cluster.ports(i).advertiseUrl());
    }
    Set<String> ids = cluster.ids(0, 1, 2);
    for (int i = 0; i < 3; i++) {
      JsonObject c = cluster.cluster(i);
      assertEquals(true, c.getBoolean("enabled"), c.encode());
      assertEquals(JarCluster.NAME, c.getString("name"), c.encode());
      assertEquals("replicated", c.getString("mode"), c.encode());
      assertTrue(ids.contains(c.getString("self")), c.encode());
      JsonArray members = c.getJsonArray("members");
      assertEquals(3, members.size(), c.encode());
      Set<String> seenUrls = new TreeSet<>();
      for (int k = 0; k < members.size(); k++) {
        JsonObject m = members.getJsonObject(k);
        assertNotNull(m.getString("id"), m.encode());
        seenUrls.add(m.getString("url"));
        assertNotNull(Instant.parse(m.getString("since")), m.encode());
        assertEquals(true, m.getBoolean("trusted"), m.encode());
      }
      assertEquals(urls, seenUrls, "node " + i + " members' advertiseUrl: " + c.encode());
      assertEquals(ids, cluster.memberIds(i), "node " + i + ": " + c.encode());
    }
  }

  @Test
  @Order(2)
  void metrics_threeNodes_reportThreeMembers() throws Exception {
    for (int i = 0; i < 3; i++) {
      String metrics = cluster.node(i).admin("GET", "/metrics", null).body();
      assertTrue(metrics.lines().anyMatch(l -> l.matches("edgecache_cluster_members(\\{.*})? 3\\.0")),
          "node " + i + " edgecache_cluster_members 3:\n" + JarCluster.grep(metrics, "edgecache_cluster"));
    }
  }

  /**
   * Every socket a node listens on (traffic, admin, Hazelcast, event bus, anything else) is bound
   * to 127.0.0.1: {@code cluster.bind} and the event bus follow the configured host, nothing binds
   * the wildcard address.
   */
  @Test
  @Order(3)
  void listeners_everyNode_boundToLoopbackOnly() throws Exception {
    assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "needs Linux /proc");
    for (int i = 0; i < 3; i++) {
      JarCluster.Ports p = cluster.ports(i);
      List<InetSocketAddress> listening = JarCluster.listeningAddresses(cluster.node(i));
      Set<Integer> ports = new TreeSet<>();
      for (InetSocketAddress a : listening) {
        assertTrue(a.getAddress().isLoopbackAddress(), "node " + i + " listens on " + a + ": " + listening);
        ports.add(a.getPort());
      }
      assertTrue(ports.containsAll(List.of(p.listen(), p.admin(), p.bind(), p.eventBus())),
          "node " + i + " listens on its four configured ports " + p + ": " + listening);
    }
  }

  /**
   * Nothing but loopback is contacted: every TCP socket of every node has loopback addresses at
   * both ends (a listener's remote end is the wildcard), and no node holds a UDP socket on another
   * address (Hazelcast's multicast join would bind one).
   */
  @Test
  @Order(4)
  void sockets_everyNode_loopbackOnlyAndNoMulticast() throws Exception {
    assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "needs Linux /proc");
    for (int i = 0; i < 3; i++) {
      List<JarCluster.Socket> sockets = JarCluster.sockets(cluster.node(i));
      assertFalse(sockets.isEmpty(), "node " + i + ": no sockets found");
      for (JarCluster.Socket s : sockets) {
        assertTrue(s.local().getAddress().isLoopbackAddress(), "node " + i + " " + s + "\n" + sockets);
        boolean remoteOk = s.remote().getAddress().isLoopbackAddress()
            || s.remote().getAddress().isAnyLocalAddress() && s.remote().getPort() == 0;
        assertTrue(remoteOk, "node " + i + " " + s + "\n" + sockets);
      }
    }
  }

  @Test
  @Order(5)
  void purgeMethod_onOneNode_objectGoneFromAllThreeWithinOneSecond() throws Exception {
    String path = "/purge/one";
    cacheOnAll(path, 0, 1, 2);
    long before = origin.count("GET", path);

    long start = System.nanoTime();
    Http1.Response r = Http1.once(cluster.node(0).port(), "PURGE", path, HOST);
    Duration answered = JarCluster.since(start);
    assertEquals(200, r.status(), r.text());
    assertPurgeAnswer(new JsonObject(r.text()), Map.of(0, 1, 1, 1, 2, 1));
    awaitGone(start, answered, "PURGE on node 0", List.of(path), 0, 1, 2);

    assertRefetched(path, 0, 1, 2);
    assertEquals(before + 3, origin.count("GET", path), "each node asked the origin again (answer in " + answered + ")");
  }

  @Test
  @Order(6)
  void tagPurge_throughAnotherNodesAdmin_objectsGoneFromAllThreeWithinOneSecondOthersKept() throws Exception {
    List<String> tagged = List.of("/tag/a/1", "/tag/a/2");
    String kept = "/tag/b/1";
    for (String p : tagged) {
      cacheOnAll(p, 0, 1, 2);
    }
    cacheOnAll(kept, 0, 1, 2);

    long start = System.nanoTime();
    HttpResponse<String> r = cluster.node(1).admin("POST", "/purge",
        new JsonObject().put("tags", new JsonArray().add("group-a")).encode());
    Duration answered = JarCluster.since(start);
    assertEquals(200, r.statusCode(), r.body());
    assertPurgeAnswer(new JsonObject(r.body()), Map.of(0, 2, 1, 2, 2, 2));
    awaitGone(start, answered, "tag purge on node 1's admin", tagged, 0, 1, 2);

    for (int i = 0; i < 3; i++) {
      assertEquals(200, probe(i, kept).status(), "node " + i + " keeps " + kept + " (another tag)");
    }
    for (String p : tagged) {
      long before = origin.count("GET", p);
      assertRefetched(p, 0, 1, 2);
      assertEquals(before + 3, origin.count("GET", p), p + ": each node asked the origin again");
    }
  }

  @Test
  @Order(7)
  void adminPurgeByUrl_onOneNode_objectGoneFromAllThreeWithinOneSecond() throws Exception {
    String path = "/purge/by-url";
    cacheOnAll(path, 0, 1, 2);

    long start = System.nanoTime();
    HttpResponse<String> r = cluster.node(2).admin("POST", "/purge",
        new JsonObject().put("urls", new JsonArray().add("http://" + HOST + path)).encode());
    Duration answered = JarCluster.since(start);
    assertEquals(200, r.statusCode(), r.body());
    assertPurgeAnswer(new JsonObject(r.body()), Map.of(0, 1, 1, 1, 2, 1));
    awaitGone(start, answered, "URL purge on node 2's admin", List.of(path), 0, 1, 2);
  }

  @Test
  @Order(8)
  void softPrefixPurge_onOneNodesAdmin_marksTheObjectsStaleOnAllThreeWithinOneSecond() throws Exception {
    List<String> paths = List.of("/soft/1", "/soft/2");
    for (String p : paths) {
      cacheOnAll(p, 0, 1, 2);
    }
    long start = System.nanoTime();
    HttpResponse<String> r = cluster.node(0).admin("POST", "/purge", new JsonObject()
        .put("prefixes", new JsonArray().add("http://" + HOST + "/soft/")).put("soft", true).encode());
    Duration answered = JarCluster.since(start);
    assertEquals(200, r.statusCode(), r.body());
    assertPurgeAnswer(new JsonObject(r.body()), Map.of(0, 2, 1, 2, 2, 2));
    awaitGone(start, answered, "soft prefix purge on node 0's admin", paths, 0, 1, 2);
    for (String p : paths) {
      long before = origin.count("GET", p);
      assertRefetched(p, 0, 1, 2);
      assertEquals(before + 3, origin.count("GET", p), p + ": each node went to the origin (no validators to revalidate)");
    }
  }

  @Test
  @Order(9)
  void purgeAll_onOneNodesAdmin_emptiesAllThreeWithinOneSecond() throws Exception {
    String path = "/all/1";
    cacheOnAll(path, 0, 1, 2);
    long start = System.nanoTime();
    HttpResponse<String> r = cluster.node(2).admin("POST", "/purge", new JsonObject().put("all", true).encode());
    Duration answered = JarCluster.since(start);
    assertEquals(200, r.statusCode(), r.body());
    JsonObject answer = new JsonObject(r.body());
    assertEquals(cluster.ids(0, 1, 2), JarCluster.keys(answer.getJsonObject("nodes")), answer.encode());
    assertEquals(new JsonArray(), answer.getJsonArray("missing"), answer.encode());
    awaitGone(start, answered, "purge of everything on node 2's admin", List.of(path), 0, 1, 2);
  }

  /** The purges above are counted: fan-out latency where they were sent, applied where they arrived. */
  @Test
  @Order(10)
  void metrics_afterPurgesFromEveryNode_countFanoutsAndReceivedPurges() throws Exception {
    for (int i = 0; i < 3; i++) {
      assertTrue(cluster.metric(i, "edgecache_purge_fanout_seconds_count", "") >= 1,
          "node " + i + " sent purges: edgecache_purge_fanout_seconds_count\n"
              + JarCluster.grep(cluster.node(i).admin("GET", "/metrics", null).body(), "edgecache_purge_fanout"));
      assertTrue(cluster.metric(i, "edgecache_cluster_purges_received_total", "result=\"applied\"") >= 1,
          "node " + i + " applied purges from the others: edgecache_cluster_purges_received_total\n"
              + JarCluster.grep(cluster.node(i).admin("GET", "/metrics", null).body(), "purges_received"));
    }
  }

  /**
   * Node 2 stores {@code /big/rejoin} (disk only) and stops cleanly; the object is purged through
   * node 0 while node 2 is away; node 2 restarts on the same disk folder and ports. Whether it
   * replays the purge log or soft-purges everything, the next request for the object must not be a
   * hit: it goes to the origin (a full fetch or a revalidation).
   */
  @Test
  @Order(100)
  void restart_objectPurgedWhileStopped_rejoinsAndDoesNotServeIt() throws Exception {
    String path = "/big/rejoin";
    cacheOnAll(path, 0, 1, 2);
    String oldId = cluster.id(2);
    assertEquals(0, cluster.node(2).stop(), cluster.node(2).logTail());
    await("nodes 0 and 1 drop the stopped node").atMost(JarCluster.JOIN_TIMEOUT).ignoreExceptions()
        .until(() -> cluster.memberIds(0).size() == 2 && cluster.memberIds(1).size() == 2);

    Http1.Response purge = Http1.once(cluster.node(0).port(), "PURGE", path, HOST);
    assertEquals(200, purge.status(), purge.text());
    JsonObject answer = new JsonObject(purge.text());
    assertEquals(cluster.ids(0, 1), JarCluster.keys(answer.getJsonObject("nodes")), answer.encode());
    assertFalse(answer.getJsonObject("nodes").containsKey(oldId), answer.encode());
    JsonArray missing = answer.getJsonArray("missing");
    assertTrue(new JsonArray().equals(missing) || new JsonArray().add(oldId).equals(missing),
        "missing is the node that left or nothing: " + answer.encode());
    long before = origin.count("GET", path);

    assertRestartDoesNotServe(path, before);
  }

  /**
   * As {@link #restart_objectPurgedWhileStopped_rejoinsAndDoesNotServeIt}, but node 2 is killed with
   * SIGKILL (no clean leave, no last write of its purge-log position) and the purge goes through
   * node 1's admin API, answered while membership may still list the dead node.
   */
  @Test
  @Order(101)
  void restart_objectPurgedAfterSigkill_rejoinsAndDoesNotServeIt() throws Exception {
    String path = "/big/rejoin-after-kill";
    cacheOnAll(path, 0, 1, 2);
    String oldId = cluster.id(2);
    cluster.node(2).kill9();

    HttpResponse<String> purge = cluster.node(1).admin("POST", "/purge",
        new JsonObject().put("urls", new JsonArray().add("http://" + HOST + path)).encode());
    assertEquals(200, purge.statusCode(), purge.body());
    JsonObject answer = new JsonObject(purge.body());
    assertEquals(cluster.ids(0, 1), JarCluster.keys(answer.getJsonObject("nodes")), answer.encode());
    JsonArray missing = answer.getJsonArray("missing");
    assertTrue(new JsonArray().equals(missing) || new JsonArray().add(oldId).equals(missing),
        "missing is the killed node or nothing: " + answer.encode());
    long before = origin.count("GET", path);

    assertRestartDoesNotServe(path, before);
  }

  /**
   * Node 2 stops; the object is purged through node 0; then nodes 0 and 1 stop too, so the purge
   * log is gone with the last member. Node 2 starts first, alone in a new cluster whose log never
   * held that purge: it cannot prove it saw every purge, so it must not serve its stored copy as a
   * hit. Then the other two join it.
   */
  @Test
  @Order(102)
  void restart_wholeClusterWasDownAfterAPurgeWhileAway_doesNotServeIt() throws Exception {
    String path = "/big/whole-cluster-down";
    cacheOnAll(path, 0, 1, 2);
    assertEquals(0, cluster.node(2).stop(), cluster.node(2).logTail());
    Http1.Response purge = Http1.once(cluster.node(0).port(), "PURGE", path, HOST);
    assertEquals(200, purge.status(), purge.text());
    assertEquals(0, cluster.node(1).stop(), cluster.node(1).logTail());
    assertEquals(0, cluster.node(0).stop(), cluster.node(0).logTail());
    long before = origin.count("GET", path);

    cluster.start(2, UnaryOperator.identity());
    Http1.Response probe = probe(2, path);
    assertEquals(504, probe.status(), "only-if-cached on the first node back must not find a usable copy: "
        + probe.cacheStatus() + "\n" + cluster.node(2).logTail());
    Http1.Response r = Http1.once(cluster.node(2).port(), "GET", path, HOST);
    assertEquals(200, r.status());
    assertFalse(r.isHit(), "served the purged object as a hit: " + r.cacheStatus());
    assertArrayEquals(body(path), r.body());
    assertEquals(before + 1, origin.count("GET", path), "node 2 asked the origin: " + r.cacheStatus());

    cluster.start(0, UnaryOperator.identity());
    cluster.start(1, UnaryOperator.identity());
    cluster.awaitFormed(0, 1, 2);
  }

  /**
   * Purges race a restart: node 2 stores 40 objects on disk and stops; while it starts again, node 0
   * purges them one at a time every 250 ms, so some purges land before node 2 joined, some while
   * it reads the purge log and some after its traffic port opened. An object whose purge was
   * answered before node 2's start returned is gone there at once (node 2 serves only once it
   * caught up); every later one within a second.
   */
  @Test
  @Order(103)
  void restart_purgesDuringTheRejoin_noneIsLost() throws Exception {
    List<String> paths = new ArrayList<>();
    for (int k = 0; k < 40; k++) {
      paths.add("/big/during-rejoin/" + k);
    }
    for (String p : paths) {
      cacheOnAll(p, 2);
    }
    assertEquals(0, cluster.node(2).stop(), cluster.node(2).logTail());

    CompletableFuture<JarProxy> restart = CompletableFuture.supplyAsync(() -> {
      try {
        return cluster.start(2, UnaryOperator.identity());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    PurgeSequence purges = new PurgeSequence(paths, restart);
    await("node 2 starts while purges go on").atMost(JarCluster.START_TIMEOUT).pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(250))
        .until(purges::nextUnlessDone);
    restart.get();
    purges.rest();
    assertFalse(purges.beforeStart.isEmpty(), "no purge was answered before node 2's start returned");
    String lastBefore = purges.beforeStart.get(purges.beforeStart.size() - 1);
    System.out.printf("purges during the rejoin: %d answered before node 2's start returned; the last: %s%n",
        purges.beforeStart.size(), purges.answers.get(lastBefore));

    for (String p : purges.beforeStart) {
      Http1.Response probe = probe(2, p);
      assertEquals(504, probe.status(), p + " was purged (answer " + purges.answers.get(p) + ") before node 2's"
          + " start returned, yet it has a copy: " + probe.cacheStatus() + "\n" + cluster.node(2).logTail());
    }
    await("every purge reaches node 2").atMost(PURGE_REACH).until(() -> {
      for (String p : paths) {
        if (probe(2, p).status() != 504) {
          return false;
        }
      }
      return true;
    });
    cluster.awaitFormed(0, 1, 2);
  }

  /** Purges paths through node 0, one per call, and notes which were answered before a restart returned. */
  private static final class PurgeSequence {
    final List<String> beforeStart = new ArrayList<>();
    final Map<String, String> answers = new TreeMap<>();
    private final List<String> paths;
    private final CompletableFuture<JarProxy> restart;
    private int sent;

    PurgeSequence(List<String> paths, CompletableFuture<JarProxy> restart) {
      this.paths = paths;
      this.restart = restart;
    }

    /** True once the restart returned; otherwise purges the next path (if any is left) and returns false. */
    boolean nextUnlessDone() throws Exception {
      if (restart.isDone()) {
        return true;
      }
      if (sent < paths.size()) {
        String p = purgeNext();
        if (!restart.isDone()) {
          beforeStart.add(p);
        }
      }
      return false;
    }

    /** Purges every path not purged yet. */
    void rest() throws Exception {
      while (sent < paths.size()) {
        purgeNext();
      }
    }

    private String purgeNext() throws Exception {
      String p = paths.get(sent++);
      Http1.Response r = Http1.once(cluster.node(0).port(), "PURGE", p, HOST);
      assertEquals(200, r.status(), r.text());
      answers.put(p, r.text());
      return p;
    }
  }

  /**
   * Starts node 2 again on its disk folder and ports. Its start returns once its traffic port
   * answers, which the contract allows only after it caught up: the very first request must already
   * find no usable copy of {@code path}; then it rejoins the other two.
   */
  private static void assertRestartDoesNotServe(String path, long originBefore) throws Exception {
    cluster.start(2, UnaryOperator.identity());
    Http1.Response probe = probe(2, path);
    assertEquals(504, probe.status(), "only-if-cached right after the restart must not find a usable copy: "
        + probe.cacheStatus() + "\n" + cluster.node(2).logTail());
    Http1.Response r = Http1.once(cluster.node(2).port(), "GET", path, HOST);
    assertEquals(200, r.status());
    assertFalse(r.isHit(), "served the purged object as a hit after the restart: " + r.cacheStatus());
    assertArrayEquals(body(path), r.body());
    assertEquals(originBefore + 1, origin.count("GET", path), "the restarted node asked the origin: " + r.cacheStatus());
    cluster.awaitFormed(0, 1, 2);

    // back in the fan-out: only node 2 holds the object again (nodes 0 and 1 purged it before)
    Http1.Response after = Http1.once(cluster.node(0).port(), "PURGE", path, HOST);
    assertEquals(200, after.status(), after.text());
    assertPurgeAnswer(new JsonObject(after.text()), Map.of(0, 0, 1, 0, 2, 1));
  }

  // ------------------------------------------------------------------ helpers

  /** GETs {@code path} on each node until it is a hit there (the first is a miss, then it is stored). */
  private static void cacheOnAll(String path, int... nodes) throws Exception {
    for (int i : nodes) {
      Http1.Response first = Http1.once(cluster.node(i).port(), "GET", path, HOST);
      assertEquals(200, first.status(), "node " + i + " " + path);
      assertArrayEquals(body(path), first.body(), "node " + i + " " + path);
      await("node " + i + " stores " + path).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
          .until(() -> Http1.once(cluster.node(i).port(), "GET", path, HOST).isHit());
    }
  }

  /** {@code GET path} with {@code only-if-cached}: 200 while a fresh copy is stored, else 504. */
  private static Http1.Response probe(int node, String path) throws Exception {
    return Http1.once(cluster.node(node).port(), "GET", path, HOST, "Cache-Control", "only-if-cached");
  }

  /**
   * Waits until none of {@code nodes} has a usable copy of any of {@code paths}, within a second of
   * {@code start}; prints how long the answer and the reach took (for the README's figures).
   */
  private static void awaitGone(long start, Duration answered, String what, List<String> paths, int... nodes) {
    Duration left = PURGE_REACH.minus(JarCluster.since(start));
    if (left.isNegative() || left.isZero()) {
      fail("the purge answer alone took " + JarCluster.since(start) + " (target: every node misses within " + PURGE_REACH + ")");
    }
    Map<String, Integer> last = new TreeMap<>();
    try {
      await("purged everywhere").atMost(left).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(20))
          .until(() -> {
            boolean gone = true;
            for (int i : nodes) {
              for (String p : paths) {
                int status = probe(i, p).status();
                last.put("node " + i + " " + p, status);
                gone &= status == 504;
              }
            }
            return gone;
          });
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      fail("not purged everywhere " + PURGE_REACH + " after the purge was sent (only-if-cached statuses: "
          + last + ")", e);
    }
    System.out.printf("%s: answered after %d ms, no node had a copy after %d ms%n", what, answered.toMillis(),
        JarCluster.since(start).toMillis());
  }

  /** The next plain GET on each node is a miss with the right bytes. */
  private static void assertRefetched(String path, int... nodes) throws Exception {
    for (int i : nodes) {
      Http1.Response r = Http1.once(cluster.node(i).port(), "GET", path, HOST);
      assertEquals(200, r.status(), "node " + i + " " + path);
      assertFalse(r.isHit(), "node " + i + " " + path + ": " + r.cacheStatus());
      assertArrayEquals(body(path), r.body(), "node " + i + " " + path);
    }
  }

  /**
   * The clustered purge answer: {@code nodes} has exactly the expected nodes with the expected
   * counts, {@code purged} is their sum and {@code missing} is empty.
   */
  private static void assertPurgeAnswer(JsonObject answer, Map<Integer, Integer> expected) throws Exception {
    JsonObject nodes = answer.getJsonObject("nodes");
    assertNotNull(nodes, "no \"nodes\" in " + answer.encode());
    Map<String, Integer> want = new TreeMap<>();
    int sum = 0;
    for (Map.Entry<Integer, Integer> e : expected.entrySet()) {
      want.put(cluster.id(e.getKey()), e.getValue());
      sum += e.getValue();
    }
    Map<String, Integer> got = new TreeMap<>();
    for (String id : nodes.fieldNames()) {
      got.put(id, nodes.getInteger(id));
    }
    assertEquals(want, got, answer.encode());
    assertEquals(sum, answer.getInteger("purged"), answer.encode());
    assertEquals(new JsonArray(), answer.getJsonArray("missing"), answer.encode());
  }



}
