package io.edgecache.proxy.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
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
    assertEquals(0, wrong.stop(), wrong.logTail());
  }

  /**
   * A rogue Hazelcast member (this test JVM, without any member proof) joins through the seed list
   * and sends purges straight to a good node's event-bus address, signed with a key that is not
   * the token: the good nodes list it untrusted, the object stays cached on them, and they count
   * the rejected purges. As a control, the same message signed with the token is applied (this
   * builds the nodes' message format, so a change of that format shows up here).
   */
  @Test
  @Order(3)
  void eventBus_forgedPurgeFromARogueMember_isIgnored() throws Exception {
    String path = "/forged";
    for (int i = 0; i < 2; i++) {
      assertEquals(200, Http1.once(cluster.node(i).port(), "GET", path, HOST).status());
      assertEquals(200, probe(i, path), "node " + i + " stored " + path);
    }
    double rejectedBefore = cluster.metric(0, "edgecache_cluster_purges_received_total", "result=\"rejected\"");
    HazelcastClusterManager manager = RogueMember.manager(List.of(cluster.ports(0).bindAddress(),
        cluster.ports(1).bindAddress()));
    Vertx rogue = RogueMember.join(manager);
    try {
      String rogueId = manager.getHazelcastInstance().getCluster().getLocalMember().getUuid().toString();
      await("the good nodes list the rogue member untrusted").atMost(JarCluster.JOIN_TIMEOUT).ignoreExceptions()
          .untilAsserted(() -> {
            for (int i = 0; i < 2; i++) {
              Map<String, Boolean> trusted = new TreeMap<>();
              for (JsonObject m : cluster.members(i)) {
                trusted.put(m.getString("id"), m.getBoolean("trusted"));
              }
              assertEquals(Boolean.FALSE, trusted.get(rogueId), "node " + i + ": " + trusted);
            }
          });
      sendPurge(rogue, rogueId, "forged-1", path, "not-the-cluster-token-at-all");
      await("the good nodes keep " + path).during(STAYS_OUT).atMost(STAYS_OUT.plusSeconds(5))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> probe(0, path) == 200 && probe(1, path) == 200);
      assertTrue(cluster.metric(0, "edgecache_cluster_purges_received_total", "result=\"rejected\"") > rejectedBefore,
          "node 0 counts the forged purge as rejected");

      // control: the same message signed with the token is applied, so only the key made the difference
      sendPurge(rogue, rogueId, "signed-1", path, JarCluster.TOKEN);
      await("the signed purge reaches both nodes").atMost(Duration.ofSeconds(1))
          .until(() -> probe(0, path) == 504 && probe(1, path) == 504);
    } finally {
      rogue.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  /**
   * Sends a purge of {@code path} to both good nodes' event-bus addresses as the nodes themselves
   * do (an envelope of the purge text and its HMAC-SHA256, base64url, under {@code key}) and waits
   * for their replies or the send timeout.
   */
  private static void sendPurge(Vertx from, String fromId, String id, String path, String key) throws Exception {
    String text = new JsonObject().put("id", id).put("from", fromId).put("at", System.currentTimeMillis())
        .put("spec", new JsonObject().put("urls", new JsonArray().add("http://" + HOST + path))
            .put("prefixes", new JsonArray()).put("tags", new JsonArray()).put("all", false).put("soft", false)
            .put("method", true))
        .encode();
    javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
    mac.init(new javax.crypto.spec.SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    String signature = java.util.Base64.getUrlEncoder().withoutPadding()
        .encodeToString(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
    String envelope = new JsonObject().put("b", text).put("s", signature).encode();
    for (int i = 0; i < 2; i++) {
      from.eventBus().request("edgecache.purge." + cluster.id(i), envelope, new DeliveryOptions().setSendTimeout(3000))
          .toCompletionStage().toCompletableFuture().handle((reply, err) -> null).get(10, TimeUnit.SECONDS);
    }
  }

  /** A clustered Vert.x in this JVM that joins the nodes' Hazelcast cluster on loopback, with no member proof. */
  private static final class RogueMember {
    private RogueMember() {}

    static Vertx join(HazelcastClusterManager manager) throws Exception {
      VertxOptions options = new VertxOptions().setEventBusOptions(
          new EventBusOptions().setHost("127.0.0.1").setPort(0).setClusterPublicHost("127.0.0.1"));
      return Vertx.builder().with(options).withClusterManager(manager).buildClustered()
          .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    /** A cluster manager with the nodes' cluster name and {@code seeds}, bound to 127.0.0.1 only. */
    static HazelcastClusterManager manager(List<String> seeds) throws Exception {
      Config hc = new Config();
      hc.setClusterName(JarCluster.NAME);
      hc.setProperty("hazelcast.phone.home.enabled", "false");
      hc.setProperty("hazelcast.wait.seconds.before.join", "0");
      hc.setProperty("hazelcast.logging.type", "slf4j");
      hc.setProperty("hazelcast.shutdownhook.enabled", "false");
      hc.setProperty("hazelcast.socket.bind.any", "false");
      hc.setProperty("hazelcast.local.localAddress", "127.0.0.1");
      hc.setProperty("hazelcast.graceful.shutdown.max.wait", "10");
      NetworkConfig net = hc.getNetworkConfig();
      int port;
      try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
        port = s.getLocalPort();
      }
      net.setPort(port).setPortAutoIncrement(false);
      net.setPublicAddress("127.0.0.1:" + port);
      JoinConfig join = net.getJoin();
      join.getMulticastConfig().setEnabled(false);
      join.getAutoDetectionConfig().setEnabled(false);
      join.getTcpIpConfig().setEnabled(true).setMembers(seeds);
      hc.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
          .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
      hc.addMapConfig(new MapConfig("__vertx.haInfo").setBackupCount(1));
      hc.addMapConfig(new MapConfig("__vertx.nodeInfo").setBackupCount(1));
      return new HazelcastClusterManager(hc);
    }
  }

  private static int probe(int node, String path) throws Exception {
    return Http1.once(cluster.node(node).port(), "GET", path, HOST, "Cache-Control", "only-if-cached").status();
  }

  /** How many lines of {@code node}'s log name {@code cluster.token}. */
  private static long tokenLines(JarProxy node) {
    return node.log().lines().filter(l -> l.contains("cluster.token")).count();
  }
}
