package io.edgecache.proxy.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.config.ConfigLoader;
import io.edgecache.proxy.config.ProxyConfig;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@code conf/cluster/node1.json} .. {@code node3.json}, the three-node example of README's
 * "Running a cluster": each passes the config loader, they differ only in their ports, and
 * together they form one cluster (every node's bind address is in the common member list).
 */
class ClusterExampleConfigsTest {
  private static final Path DIR = Path.of("..", "conf", "cluster");
  private static final List<String> FILES = List.of("node1.json", "node2.json", "node3.json");

  @Test
  void exampleNodes_passTheLoader_andListEachOtherAsMembers() {
    List<ProxyConfig> nodes = loadAll();
    Set<String> binds = new HashSet<>();
    for (ProxyConfig n : nodes) {
      binds.add(n.cluster().bindHost() + ":" + n.cluster().bindPort());
    }

    for (ProxyConfig n : nodes) {
      assertTrue(n.cluster().enabled(), n.source() + ": cluster.enabled");
      assertEquals(binds, Set.copyOf(n.cluster().members()), n.source() + ": cluster.members vs the three bind addresses");
      assertEquals(nodes.get(0).cluster().name(), n.cluster().name(), n.source() + ": cluster.name");
    }
    assertEquals(FILES.size(), binds.size(), "cluster.bind of the example nodes (expected: all different)");
  }

  @Test
  void exampleNodes_useDifferentPorts_onLoopbackOnly() {
    Set<Integer> ports = new HashSet<>();
    int expected = 0;
    for (ProxyConfig n : loadAll()) {
      for (int p : List.of(n.listen().port(), n.admin().port(), n.cluster().bindPort(), n.cluster().eventBusPort())) {
        assertTrue(p > 0, n.source() + ": a port of 0 (expected: fixed ports the README's commands name)");
        ports.add(p);
        expected++;
      }
      assertEquals("127.0.0.1", n.listen().host(), n.source() + ": listen.host");
      assertEquals("127.0.0.1", n.admin().host(), n.source() + ": admin.host");
      assertEquals("127.0.0.1", n.cluster().bindHost(), n.source() + ": cluster.bind host");
    }

    assertEquals(expected, ports.size(), "ports of the example nodes (expected: no two alike)");
  }

  /** The files are the same once the values that must differ (ports and bind) are blanked. */
  @Test
  void exampleNodes_differOnlyInPorts() {
    List<String> shapes = new ArrayList<>();
    for (String f : FILES) {
      JsonObject json = new JsonObject(Manifests.read(DIR.resolve(f)));
      json.getJsonObject("listen").remove("port");
      json.getJsonObject("admin").remove("port");
      json.getJsonObject("cluster").remove("bind");
      json.getJsonObject("cluster").remove("eventBusPort");
      shapes.add(json.encode());
    }

    assertEquals(1, Set.copyOf(shapes).size(), "conf/cluster/*.json beyond listen.port, admin.port, cluster.bind and "
        + "cluster.eventBusPort (expected: identical)");
  }

  /** Each file with its {@code "env:EDGECACHE_CLUSTER_TOKEN"} replaced by a literal (the loader reads this JVM's env). */
  private static List<ProxyConfig> loadAll() {
    List<ProxyConfig> out = new ArrayList<>();
    for (String f : FILES) {
      JsonObject json = new JsonObject(Manifests.read(DIR.resolve(f)));
      assertEquals("env:EDGECACHE_CLUSTER_TOKEN", json.getJsonObject("cluster").getString("token"),
          "conf/cluster/" + f + ": cluster.token (expected: from the environment, as README's commands set it)");
      json.getJsonObject("cluster").put("token", "placeholder-token-for-the-example");
      out.add(ConfigLoader.parse("conf/cluster/" + f, json.encode()));
    }
    return out;
  }
}
