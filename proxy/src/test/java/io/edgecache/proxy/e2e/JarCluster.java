package io.edgecache.proxy.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * N shaded-jar nodes (separate JVMs) that form one edgecache cluster on loopback: each node gets
 * four free 127.0.0.1 ports picked once (traffic, admin, Hazelcast member endpoint, clustered event
 * bus), kept for its lifetime so a restart comes back on the same addresses, and every node's config
 * names all nodes' member endpoints as the static seed list and shares one token. Nothing is
 * contacted but 127.0.0.1.
 *
 * <p>Nodes are started one after another ({@link #startAll}): a node that starts while another is
 * still forming its cluster could end up in a cluster of its own (Hazelcast merges such clusters
 * only minutes later). A node's start returns once its traffic port answers, which the contract
 * says happens only after it joined and caught up with the purge log.
 *
 * <p>{@link #close} kills every JVM ever started here (restarted generations included).
 */
final class JarCluster implements AutoCloseable {
  static final String HOST = "edge.test";
  static final String NAME = "edge-it";
  static final String TOKEN = "it-cluster-token-0123456789abcdef";
  /** Joins can take a few seconds on a loaded machine; the first node also waits for absent seeds. */
  static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  /** How long a cluster may take to show a member that started (or to drop one that stopped). */
  static final Duration JOIN_TIMEOUT = Duration.ofSeconds(20);

  /**
   * Hazelcast's Java 17 module flags (it warns without them), a small heap and C1 only: on a
   * shared 2-core machine C2 compiling in three JVMs at once would starve the event loops.
   */
  private static final List<String> JVM_OPTIONS = List.of("-Xmx384m", "-XX:TieredStopAtLevel=1",
      "--add-modules", "java.se", "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
      "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens", "java.base/java.nio=ALL-UNNAMED",
      "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens", "java.management/sun.management=ALL-UNNAMED",
      "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED");

  /** A node's fixed loopback ports. */
  record Ports(int listen, int admin, int bind, int eventBus) {
    String bindAddress() {
      return "127.0.0.1:" + bind;
    }

    String advertiseUrl() {
      return "http://127.0.0.1:" + listen;
    }
  }

  private final Path dir;
  private final String originUrl;
  private final String mode;
  private final UnaryOperator<JsonObject> common;
  private final List<Ports> ports;
  private final JarProxy[] nodes;
  private final int[] generation;
  private final List<JarProxy> started = new ArrayList<>();

  /**
   * {@code size} nodes (indices 0 to size - 1) in {@code mode} ("replicated" or "sharded") in front
   * of {@code originUrl}, logs and configs in {@code dir}; {@code common} may change every node's
   * config (for example cluster timeouts).
   */
  JarCluster(Path dir, String originUrl, int size, String mode, UnaryOperator<JsonObject> common) throws IOException {
    this.dir = dir;
    this.originUrl = originUrl;
    this.mode = mode;
    this.common = common;
    this.ports = freePorts(size);
    this.nodes = new JarProxy[size];
    this.generation = new int[size];
  }

  /** Free ports for {@code size} nodes, all held open until every one is picked so none repeats. */
  private static List<Ports> freePorts(int size) throws IOException {
    List<ServerSocket> held = new ArrayList<>();
    try {
      List<Ports> result = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        result.add(new Ports(free(held), free(held), free(held), free(held)));
      }
      return result;
    } finally {
      for (ServerSocket s : held) {
        s.close();
      }
    }
  }

  /**
   * A free port below the kernel's ephemeral range. A node keeps its ports across restarts, and a
   * port from that range (what binding port 0 gives) can meanwhile become the local port of some
   * outgoing connection, the other members' included: the restarted node then failed with
   * "Address already in use".
   */
  private static int free(List<ServerSocket> held) throws IOException {
    int below = ephemeralStart();
    java.util.Random random = new java.util.Random();
    for (int attempt = 0; attempt < 200; attempt++) {
      int port = 20_000 + random.nextInt(Math.max(1, below - 20_000));
      try {
        ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"));
        held.add(s);
        return s.getLocalPort();
      } catch (java.net.BindException taken) {
        // try another
      }
    }
    throw new IOException("no free port between 20000 and " + below);
  }

  /** The first port of the kernel's ephemeral range (Linux), 32768 when it cannot be read. */
  private static int ephemeralStart() {
    try {
      String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
      int start = Integer.parseInt(range.split("\\s+")[0]);
      return start > 21_000 ? start : 32_768;
    } catch (IOException | RuntimeException e) {
      return 32_768;
    }
  }

  int size() {
    return nodes.length;
  }

  Ports ports(int i) {
    return ports.get(i);
  }

  /** The running instance of node {@code i} (its latest start). */
  JarProxy node(int i) {
    return nodes[i];
  }

  /** Every node's member endpoint: the static seed list of each config. */
  private JsonArray members() {
    JsonArray a = new JsonArray();
    ports.forEach(p -> a.add(p.bindAddress()));
    return a;
  }

  /** The config node {@code i} starts with (before {@code common} and any per-start change). */
  JsonObject baseConfig(int i) {
    Ports p = ports.get(i);
    return new JsonObject()
        .put("listen", new JsonObject().put("host", "127.0.0.1").put("port", p.listen()).put("eventLoops", 2))
        .put("admin", new JsonObject().put("host", "127.0.0.1").put("port", p.admin()))
        .put("origins", new JsonArray().add(new JsonObject().put("name", "origin").put("url", originUrl)
            .put("hosts", new JsonArray().add(HOST))))
        .put("memory", new JsonObject().put("maxBytes", "16MiB").put("maxObjectBytes", "1MiB")
            .put("fillBufferBytes", "16MiB"))
        .put("accessLog", new JsonObject().put("enabled", false))
        .put("shutdown", new JsonObject().put("drainTimeout", "2s"))
        .put("cluster", new JsonObject()
            .put("enabled", true)
            .put("name", NAME)
            .put("bind", p.bindAddress())
            .put("members", members())
            .put("mode", mode)
            .put("advertiseUrl", p.advertiseUrl())
            .put("token", TOKEN)
            .put("eventBusPort", p.eventBus()));
  }

  /** Starts every node not running yet, one after another. */
  JarCluster startAll() throws IOException {
    for (int i = 0; i < nodes.length; i++) {
      if (nodes[i] == null || !nodes[i].isAlive()) {
        start(i, UnaryOperator.identity());
      }
    }
    return this;
  }

  /**
   * Starts node {@code i} on its ports with its config changed by {@code change} (after
   * {@code common}); a node started before gets a new log file name ({@code n1}, {@code n1-2}, …)
   * and keeps everything else, its disk folder included.
   */
  JarProxy start(int i, UnaryOperator<JsonObject> change) throws IOException {
    return start(i, change, List.of());
  }

  /** {@link #start(int, UnaryOperator)} with more JVM options (system properties, for example). */
  JarProxy start(int i, UnaryOperator<JsonObject> change, List<String> jvmOptions) throws IOException {
    return start(i, change, jvmOptions, java.util.Map.of());
  }

  /** {@link #start(int, UnaryOperator, List)} with these environment variables added to the node's. */
  JarProxy start(int i, UnaryOperator<JsonObject> change, List<String> jvmOptions, java.util.Map<String, String> env)
      throws IOException {
    int g = ++generation[i];
    String name = "n" + i + (g == 1 ? "" : "-" + g);
    JsonObject config = change.apply(common.apply(baseConfig(i)));
    List<String> options = new ArrayList<>(JVM_OPTIONS);
    options.addAll(jvmOptions);
    JarProxy p = JarProxy.start(dir, name, config, options, START_TIMEOUT, env);
    started.add(p);
    nodes[i] = p;
    return p;
  }

  /** Admin {@code GET /cluster} of node {@code i}, checked for a 200. */
  JsonObject cluster(int i) throws IOException, InterruptedException {
    HttpResponse<String> r = nodes[i].admin("GET", "/cluster", null);
    assertEquals(200, r.statusCode(), nodes[i].name() + " GET /cluster: " + r.body());
    return new JsonObject(r.body());
  }

  /** The {@code members} array of node {@code i}'s {@code GET /cluster} as objects. */
  List<JsonObject> members(int i) throws IOException, InterruptedException {
    JsonArray a = cluster(i).getJsonArray("members");
    List<JsonObject> list = new ArrayList<>();
    for (int k = 0; k < a.size(); k++) {
      list.add(a.getJsonObject(k));
    }
    return list;
  }

  /** Node {@code i}'s own id ({@code self} of its {@code GET /cluster}). */
  String id(int i) throws IOException, InterruptedException {
    return cluster(i).getString("self");
  }

  /** The member ids node {@code i} lists, sorted. */
  Set<String> memberIds(int i) throws IOException, InterruptedException {
    return members(i).stream().map(m -> m.getString("id")).collect(Collectors.toCollection(TreeSet::new));
  }

  /** The ids of {@code indices} (their own {@code self}), sorted. */
  Set<String> ids(int... indices) throws IOException, InterruptedException {
    Set<String> s = new TreeSet<>();
    for (int i : indices) {
      s.add(id(i));
    }
    return s;
  }

  /**
   * Waits until each of {@code indices} lists exactly the members {@code indices} (by their own
   * ids), all trusted: one cluster formed and every view agrees.
   */
  void awaitFormed(int... indices) {
    await("nodes " + java.util.Arrays.toString(indices) + " see one cluster of " + indices.length)
        .atMost(JOIN_TIMEOUT).pollInterval(Duration.ofMillis(200))
        .ignoreExceptions()
        .untilAsserted(() -> {
          Set<String> expected = ids(indices);
          assertEquals(indices.length, expected.size(), "distinct self ids: " + expected);
          for (int i : indices) {
            List<JsonObject> members = members(i);
            assertEquals(expected, memberIds(i), nodes[i].name() + " members: " + members);
            assertTrue(members.stream().allMatch(m -> Boolean.TRUE.equals(m.getBoolean("trusted"))),
                nodes[i].name() + " members all trusted: " + members);
          }
        });
  }

  /**
   * The sum of the Prometheus samples of {@code name} on node {@code i} whose labels contain
   * {@code labelPart} (for example {@code outcome="ok"}; empty for any).
   */
  double metric(int i, String name, String labelPart) throws IOException, InterruptedException {
    String text = nodes[i].admin("GET", "/metrics", null).body();
    double sum = 0;
    for (String line : text.lines().toList()) {
      int space = line.lastIndexOf(' ');
      if (space < 0 || line.startsWith("#")) {
        continue;
      }
      String series = line.substring(0, space);
      String metric = series.contains("{") ? series.substring(0, series.indexOf('{')) : series;
      if (metric.equals(name) && series.contains(labelPart)) {
        sum += Double.parseDouble(line.substring(space + 1));
      }
    }
    return sum;
  }

  /** One socket of a process, from {@code /proc/<pid>/net/<table>}. */
  record Socket(String table, InetSocketAddress local, InetSocketAddress remote, boolean listening) {}

  /**
   * Every TCP and UDP socket {@code p} holds, read from Linux's {@code /proc/<pid>/net/tcp{,6}} and
   * {@code udp{,6}} and matched to the process by the sockets' inodes in {@code /proc/<pid>/fd}.
   */
  static List<Socket> sockets(JarProxy p) throws IOException {
    Path proc = Path.of("/proc", Long.toString(p.pid()));
    Set<String> inodes = new TreeSet<>();
    try (var fds = Files.list(proc.resolve("fd"))) {
      for (Path fd : fds.toList()) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[")) {
            inodes.add(target.substring("socket:[".length(), target.length() - 1));
          }
        } catch (IOException gone) {
          // the descriptor closed while listing
        }
      }
    }
    List<Socket> sockets = new ArrayList<>();
    for (String table : List.of("tcp", "tcp6", "udp", "udp6")) {
      Path f = proc.resolve("net").resolve(table);
      if (!Files.isReadable(f)) {
        continue;
      }
      for (String line : Files.readAllLines(f).stream().skip(1).toList()) {
        String[] cols = line.trim().split("\\s+");
        // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
        if (cols.length > 9 && inodes.contains(cols[9])) {
          sockets.add(new Socket(table, decode(cols[1]), decode(cols[2]),
              table.startsWith("tcp") && cols[3].equals("0A")));
        }
      }
    }
    return sockets;
  }

  /** The local addresses of every TCP socket {@code p} listens on (see {@link #sockets}). */
  static List<InetSocketAddress> listeningAddresses(JarProxy p) throws IOException {
    return sockets(p).stream().filter(Socket::listening).map(Socket::local).toList();
  }

  /** {@code 0100007F:1F90} (IPv4) or 32 hex digits and a port (IPv6): 32-bit words in host (little-endian) order. */
  private static InetSocketAddress decode(String hexAddress) throws IOException {
    String[] parts = hexAddress.split(":");
    String hex = parts[0];
    byte[] bytes = new byte[hex.length() / 2];
    for (int word = 0; word < bytes.length / 4; word++) {
      for (int b = 0; b < 4; b++) {
        int at = word * 8 + (3 - b) * 2;
        bytes[word * 4 + b] = (byte) Integer.parseInt(hex.substring(at, at + 2), 16);
      }
    }
    return new InetSocketAddress(InetAddress.getByAddress(bytes), Integer.parseInt(parts[1], 16));
  }

  /** The time since {@code startNanos} (a {@link System#nanoTime} reading). */
  static Duration since(long startNanos) {
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }

  /** The lines of {@code text} that contain {@code part}, for assertion messages. */
  static String grep(String text, String part) {
    StringBuilder b = new StringBuilder();
    text.lines().filter(l -> l.contains(part)).forEach(l -> b.append(l).append('\n'));
    return b.toString();
  }

  /** The field names of {@code o}, sorted (null when {@code o} is). */
  static Set<String> keys(JsonObject o) {
    return o == null ? null : new TreeSet<>(o.fieldNames());
  }

  /** Kills every JVM started here, first to last. */
  @Override
  public void close() throws Exception {
    JarProxy.closeAll(started.toArray(new AutoCloseable[0]));
  }
}
