package io.edgecache.proxy.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.RingbufferConfig;
import io.edgecache.proxy.config.ProxyConfig;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.ArrayList;
import java.util.UUID;

/**
 * How a node joins: the Hazelcast configuration built from {@code cluster.*} (one join method,
 * nothing contacted but the configured members or DNS name), the names of the structures the
 * cluster shares, and this node's proof of the token as member attributes. Pure configuration.
 */
public final class HazelcastSetup {
  /** The replicated purge log. */
  static final String LOG = "edgecache.purges";
  /** Cluster-wide facts (the purge log's generation). */
  static final String META = "edgecache.meta";
  static final String ATTR_URL = "edgecache.url";
  static final String ATTR_SINCE = "edgecache.since";
  static final String ATTR_NONCE = "edgecache.nonce";
  static final String ATTR_PROOF = "edgecache.proof";
  static final int LOG_CAPACITY = 10_000;

  private HazelcastSetup() {}

  /**
   * The Hazelcast cluster manager for {@code c}: TCP/IP members or Kubernetes DNS, nothing else
   * (no multicast, no auto-detection, no phone-home), this node's proof as member attributes.
   */
  public static HazelcastClusterManager clusterManager(ProxyConfig.Cluster c, String advertiseUrl) {
    Config hc = new Config();
    hc.setClusterName(c.name());
    hc.setProperty("hazelcast.phone.home.enabled", "false");
    hc.setProperty("hazelcast.wait.seconds.before.join", "0");
    hc.setProperty("hazelcast.logging.type", "slf4j");
    hc.setProperty("hazelcast.shutdownhook.enabled", "false");
    hc.setProperty("hazelcast.graceful.shutdown.max.wait", "10");
    hc.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    hc.setProperty("hazelcast.max.no.heartbeat.seconds", Long.toString(Math.max(2, c.memberTimeoutMs() / 1000)));
    hc.setProperty("hazelcast.socket.bind.any", "false");
    // a side cut off by a partition merges back within seconds, not Hazelcast's default 5 minutes
    hc.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
    hc.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
    hc.setProperty("hazelcast.local.localAddress", c.bindHost());
    NetworkConfig net = hc.getNetworkConfig();
    net.setPort(c.bindPort()).setPortAutoIncrement(false);
    net.setPublicAddress(c.bindHost() + ":" + c.bindPort());
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    if (c.kubernetesDns() != null) {
      join.getKubernetesConfig().setEnabled(true).setProperty("service-dns", c.kubernetesDns())
          .setProperty("service-port", Integer.toString(c.bindPort()));
    } else {
      join.getTcpIpConfig().setEnabled(true).setConnectionTimeoutSeconds(2).setMembers(new ArrayList<>(c.members()));
    }
    // what Vert.x's default-cluster.xml declares
    hc.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
        .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
    hc.addMapConfig(new MapConfig("__vertx.haInfo").setBackupCount(1));
    hc.addMapConfig(new MapConfig("__vertx.nodeInfo").setBackupCount(1));
    hc.addRingBufferConfig(new RingbufferConfig(LOG).setCapacity(LOG_CAPACITY).setBackupCount(2));
    hc.addMapConfig(new MapConfig(META).setBackupCount(2));
    String since = Long.toString(System.currentTimeMillis());
    String nonce = UUID.randomUUID().toString();
    hc.getMemberAttributeConfig().setAttribute(ATTR_URL, advertiseUrl).setAttribute(ATTR_SINCE, since)
        .setAttribute(ATTR_NONCE, nonce)
        .setAttribute(ATTR_PROOF, new Signer(c.token()).sign(proofText(c.name(), advertiseUrl, since, nonce)));
    return new HazelcastClusterManager(hc);
  }

  /** The event bus of a clustered node: on the bind host, at {@code cluster.eventBusPort}. */
  public static void eventBus(EventBusOptions eb, ProxyConfig.Cluster c) {
    eb.setHost(c.bindHost()).setPort(c.eventBusPort()).setClusterPublicHost(c.bindHost());
  }

  static String proofText(String name, String url, String since, String nonce) {
    return "member|" + name + "|" + url + "|" + since + "|" + nonce;
  }

}
