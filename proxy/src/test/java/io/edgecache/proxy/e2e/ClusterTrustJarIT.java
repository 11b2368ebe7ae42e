package io.edgecache.proxy.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nodes that must not be part of the cluster (README, "Running a cluster"), through the jar on
 * loopback: two good nodes (slots 0 and 1) in replicated mode; a node with another
 * {@code cluster.name} (slot 2) forms a cluster of its own; a node with another {@code cluster.token}
 * (slot 3) is listed by the good nodes as untrusted, its purges do not remove anything from them,
 * and both sides log a line naming {@code cluster.token}. Every node has all four member endpoints
 * in its seed list, as a misconfigured replica would. Node 1 reads the shared token from the
 * environment ({@code env:NAME}), the others have it literally.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterTrustJarIT {
  private static final String HOST = JarCluster.HOST;
  /** How long the good nodes must go on not listing (or trusting) a node that should stay out. */
  private static final Duration STAYS_OUT = Duration.ofSeconds(2);

  @TempDir
  static Path dir;
  private static CountingOrigin origin;
  private static JarCluster cluster;

  @BeforeAll
  static void startOriginAndCluster() throws Exception {
    origin = new CountingOrigin(r -> r.response()
        .putHeader("Cache-Control", "public, max-age=3600")
        .end(Buffer.buffer("body of " + r.path())));
    cluster = new JarCluster(dir, origin.url(), 4, "replicated", c -> c);
    cluster.start(0, c -> c);
    // the same token from the environment, as a Kubernetes Secret provides it
    cluster.start(1, c -> c.put("cluster", c.getJsonObject("cluster").put("token", "env:EDGECACHE_CLUSTER_TOKEN")),
        List.of(), Map.of("EDGECACHE_CLUSTER_TOKEN", JarCluster.TOKEN));
    cluster.awaitFormed(0, 1);
  }

  @AfterAll
  static void stopClusterAndOrigin() throws Exception {
    JarProxy.closeAll(cluster, origin);
  }

  @Test
  @Order(1)
  void start_wrongClusterName_formsItsOwnClusterAndTheOthersListTwo() throws Exception {
    JarProxy other = cluster.start(2, c -> c.put("cluster", c.getJsonObject("cluster").put("name", "another-name")));
    try {
      Set<String> good = cluster.ids(0, 1);
      String otherId = cluster.id(2);
      JsonObject view = cluster.cluster(2);
      assertEquals("another-name", view.getString("name"), view.encode());
      assertEquals(Set.of(otherId), cluster.memberIds(2), "the wrong-name node lists only itself: " + view.encode());
      await("the good nodes go on listing two").during(STAYS_OUT).atMost(STAYS_OUT.plusSeconds(5))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> cluster.memberIds(0).equals(good) && cluster.memberIds(1).equals(good)
              && cluster.memberIds(2).equals(Set.of(otherId)));
      assertTrue(other.log().lines().anyMatch(l -> l.contains("cluster.name")),
          "the wrong-name node says in a log line that it is alone (naming cluster.name):\n" + other.logTail());
    } finally {
      assertEquals(0, other.stop(), other.logTail());
    }
  }

  @Test
  @Order(2)
  void start_wrongToken_listedUntrustedItsPurgesIgnoredAndBothSidesLogIt() throws Exception {
    String path = "/kept";
    for (int i = 0; i < 2; i++) {
      Http1.Response first = Http1.once(cluster.node(i).port(), "GET", path, HOST);
      assertEquals(200, first.status());
      int node = i;
      await("node " + i + " stores " + path).atMost(Duration.ofSeconds(10))
          .until(() -> Http1.once(cluster.node(node).port(), "GET", path, HOST).isHit());
    }

    JarProxy wrong = cluster.start(3, c -> c.put("cluster", c.getJsonObject("cluster")
        .put("token", "another-token-that-is-long-enough")));
    String wrongId = cluster.id(3);
    await("the good nodes list the wrong-token node untrusted").atMost(JarCluster.JOIN_TIMEOUT)
        .ignoreExceptions().untilAsserted(() -> {
          for (int i = 0; i < 2; i++) {
            Map<String, Boolean> trusted = new TreeMap<>();
            for (JsonObject m : cluster.members(i)) {
              trusted.put(m.getString("id"), m.getBoolean("trusted"));
            }
            assertEquals(3, trusted.size(), "node " + i + ": " + trusted);
            assertEquals(Boolean.FALSE, trusted.get(wrongId), "node " + i + ": " + trusted);
            assertEquals(2, trusted.values().stream().filter(Boolean.TRUE::equals).count(), "node " + i + ": " + trusted);
          }
        });

    Http1.Response purge = Http1.once(wrong.port(), "PURGE", path, HOST);
    String told = "the wrong-token node answered its PURGE " + purge.status() + " " + purge.text();
    await("the good nodes keep " + path).during(STAYS_OUT).atMost(STAYS_OUT.plusSeconds(5))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> probe(0, path) == 200 && probe(1, path) == 200);
    assertEquals(2, origin.count("GET", path), "one fetch per good node, none after the ignored purge; " + told);
    await("the good nodes count the purge they rejected").atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      for (int i = 0; i < 2; i++) {
        assertTrue(cluster.metric(i, "edgecache_cluster_purges_received_total", "result=\"rejected\"") >= 1,
            "node " + i + " edgecache_cluster_purges_received_total{result=\"rejected\"}; " + told);
      }
    });

    await("both sides log cluster.token").atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      assertTrue(tokenLines(wrong) >= 1, "the wrong-token node logs a line naming cluster.token:\n" + wrong.logTail());
      for (int i = 0; i < 2; i++) {
        assertTrue(tokenLines(cluster.node(i)) >= 1,
            "node " + i + " logs a line naming cluster.token:\n" + cluster.node(i).logTail());
      }
    });
    System.out.printf("lines naming cluster.token: wrong-token node %d, node 0 %d, node 1 %d%n", tokenLines(wrong),
        tokenLines(cluster.node(0)), tokenLines(cluster.node(1)));
  }

  private static int probe(int node, String path) throws Exception {
    return Http1.once(cluster.node(node).port(), "GET", path, HOST, "Cache-Control", "only-if-cached").status();
  }

  /** How many lines of {@code node}'s log name {@code cluster.token}. */
  private static long tokenLines(JarProxy node) {
    return node.log().lines().filter(l -> l.contains("cluster.token")).count();
  }
}
