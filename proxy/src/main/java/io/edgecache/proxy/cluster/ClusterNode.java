package io.edgecache.proxy.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.ringbuffer.OverflowPolicy;
import com.hazelcast.ringbuffer.Ringbuffer;
import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.http.Peers;
import io.edgecache.proxy.metrics.ProxyMetrics;
import io.edgecache.proxy.purge.PurgeService;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.net.URI;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's part in a cluster: membership and trust, purge fan-out with acknowledgements, the
 * replicated purge log that makes a rejoin safe, and the hash ring of sharded mode.
 *
 * <h2>What comes from the engine</h2>
 * Hazelcast (through Vert.x's cluster manager) gives membership, failure detection and a
 * {@link Ringbuffer} replicated to two backups; the Vert.x clustered event bus carries purges to
 * each member and their acknowledgements back. Nothing is multicast and nothing but the configured
 * members (or the Kubernetes DNS name) is contacted.
 *
 * <h2>Trust</h2>
 * Open-source Hazelcast cannot authenticate members, so each member publishes a proof (an HMAC of
 * its URL, start time and a nonce under {@code cluster.token}) as member attributes, and every
 * purge travels signed the same way. A member whose proof fails is left out of the hash ring and
 * its purges are ignored; one log line says so.
 *
 * <h2>Purges</h2>
 * {@link #publish} appends the signed purge to the log, sends it to every trusted member and waits
 * (at most {@code cluster.purgeTimeout}) for their counts. Every member also reads the log in
 * order ({@link PurgeLogReader}) and applies any purge it has not seen (one it missed while a message was lost, for
 * example), and records how far it has read in {@code <disk.path>/cluster-purge-position}. A node
 * that starts again replays the log from there before it serves; when the log no longer reaches
 * back that far, or belongs to another generation of the cluster (every member was down at once),
 * it soft-purges everything it holds, so nothing it stored is reused without revalidation.
 *
 * <h2>Threads</h2>
 * Hazelcast calls its listeners on its own threads; the view of members is an immutable list
 * swapped atomically. Blocking Hazelcast calls run in {@code executeBlocking}.
 */
public final class ClusterNode implements PurgeService.Fanout, Peers, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger("edgecache.cluster");
  private static final int RECENT_IDS = 4096;

  /** A member as this node sees it. */
  public record MemberView(String id, String url, Instant since, boolean trusted) {}

  private final Vertx vertx;
  private final HazelcastInstance hz;
  private final ProxyConfig.Cluster config;
  private final Signer signer;
  private volatile String self;
  private io.vertx.core.eventbus.MessageConsumer<String> consumer;
  private final PurgeService purges;
  private final PurgeLogReader reader;
  private final Set<String> warnedUntrusted = Collections.synchronizedSet(new HashSet<>());
  /** Purges applied lately, by id, with their counts: each arrives twice (message and log), is applied once. */
  private final Map<String, CompletionStage<Integer>> recent = Collections.synchronizedMap(
      new LinkedHashMap<>(256, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, CompletionStage<Integer>> eldest) {
      return size() > RECENT_IDS;
    }
  });
  private final Counter peerOk;
  private final Counter peerFallback;
  private final Counter receivedApplied;
  private final Counter receivedRejected;
  private final Timer fanoutTimer;
  private volatile List<MemberView> members = List.of();
  /**
   * Members that left (crashed, partitioned or stopped) in the last {@value #DEPARTED_MS} ms and have
   * not come back, by URL: a purge answer names them as missing (they replay the log on return).
   */
  private final Map<String, Departed> departed = new java.util.concurrent.ConcurrentHashMap<>();
  private static final long DEPARTED_MS = 10 * 60_000;

  private record Departed(String id, long atMs) {}

  /**
   * Purges this node published that some member did not acknowledge (the last {@value #UNACKED_KEPT}):
   * after a partition heals they are published again, so that a purge made on the side that merges
   * back also reaches the side it merges into (whose log never saw it).
   */
  private final java.util.Deque<PurgeService.Spec> unacked = new java.util.ArrayDeque<>();
  private static final int UNACKED_KEPT = 1000;
  private volatile List<String> ring = List.of();
  private volatile boolean closed;
  private UUID listenerId;

  private ClusterNode(Vertx vertx, HazelcastClusterManager manager, ProxyConfig.Cluster config, PurgeService purges,
      Path positionFile, Supplier<Boolean> holdsStoredObjects, ProxyMetrics metrics) {
    this.vertx = vertx;
    this.hz = manager.getHazelcastInstance();
    this.config = config;
    this.signer = new Signer(config.token());
    this.self = hz.getCluster().getLocalMember().getUuid().toString();
    this.purges = purges;
    this.reader = new PurgeLogReader(vertx, hz, purges, positionFile == null ? null : new PurgeLogPosition(positionFile),
        holdsStoredObjects, envelope -> apply(envelope, true));
    var registry = metrics.registry();
    Gauge.builder("edgecache.cluster.members", () -> members.size())
        .description("Members of the cluster this node sees, itself included").register(registry);
    peerOk = Counter.builder("edgecache.peer.fills").description("Fills asked of the member that owns the key")
        .tag("outcome", "ok").register(registry);
    peerFallback = Counter.builder("edgecache.peer.fills").description("Fills asked of the member that owns the key")
        .tag("outcome", "fallback").register(registry);
    receivedApplied = Counter.builder("edgecache.cluster.purges.received")
        .description("Purges received from other members").tag("result", "applied").register(registry);
    receivedRejected = Counter.builder("edgecache.cluster.purges.received")
        .description("Purges received from other members").tag("result", "rejected").register(registry);
    fanoutTimer = Timer.builder("edgecache.purge.fanout").description("Time until every member acknowledged a purge")
        .register(registry);
  }

  // ---------------------------------------------------------------- start-up

  /**
   * Joins: watches membership, answers purges from members, and catches up with the purge log
   * (replay, or soft purge of everything held) before it completes, so that the caller binds the
   * traffic port only once this node cannot serve what a purge removed.
   *
   * @param positionFile where the position in the purge log survives a restart; null without a disk tier
   * @param holdsStoredObjects whether anything stored may have survived from before this start
   */
  public static Future<ClusterNode> join(Vertx vertx, HazelcastClusterManager manager, ProxyConfig.Cluster config,
      PurgeService purges, Path positionFile, Supplier<Boolean> holdsStoredObjects, ProxyMetrics metrics) {
    ClusterNode node = new ClusterNode(vertx, manager, config, purges, positionFile, holdsStoredObjects, metrics);
    return node.start().map(node);
  }

  private Future<Void> start() {
    listenerId = hz.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent e) {
        refresh();
      }

      @Override
      public void memberRemoved(MembershipEvent e) {
        refresh();
      }
    });
    refresh();
    consumer = vertx.eventBus().<String>consumer(address(self), this::onPurgeMessage);
    hz.getLifecycleService().addLifecycleListener(e -> {
      if (e.getState() == com.hazelcast.core.LifecycleEvent.LifecycleState.MERGED) {
        vertx.runOnContext(v -> onMerged());
      }
    });
    return reader.open().onSuccess(v -> {
      List<MemberView> view = members;
      log.info("cluster: joined \"{}\" as {} ({} mode); {} member(s): {}", config.name(), self,
          config.mode().name().toLowerCase(java.util.Locale.ROOT), view.size(), view.stream().map(m -> m.url()).toList());
      if (view.size() == 1 && config.kubernetesDns() == null && config.members().size() > 1) {
        log.warn("cluster: this node is alone in cluster \"{}\": none of cluster.members {} answered with this"
            + " cluster.name (another name, down, or unreachable); it serves on its own", config.name(), config.members());
      }
    });
  }

  /**
   * Applies a signed purge unless it was seen before; completes with the count, 0 for one already
   * applied, -1 for one that fails its signature.
   */
  private CompletionStage<Integer> apply(String envelope, boolean fromLog) {
    JsonObject body;
    try {
      JsonObject env = new JsonObject(envelope);
      String text = env.getString("b");
      if (!signer.verify(text, env.getString("s"))) {
        receivedRejected.increment();
        log.warn("cluster: ignored a purge that is not signed with this node's cluster.token{}",
            fromLog ? " (from the purge log)" : "");
        return CompletableFuture.completedFuture(-1);
      }
      body = new JsonObject(text);
    } catch (RuntimeException e) {
      receivedRejected.increment();
      log.warn("cluster: ignored a malformed purge message: {}", e.toString());
      return CompletableFuture.completedFuture(-1);
    }
    String id = body.getString("id");
    if (id == null) {
      receivedRejected.increment();
      return CompletableFuture.completedFuture(-1);
    }
    PurgeService.Spec spec;
    try {
      spec = PurgeService.Spec.fromJson(body.getJsonObject("spec"));
    } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
      receivedRejected.increment();
      return CompletableFuture.completedFuture(-1);
    }
    CompletableFuture<Integer> mine = new CompletableFuture<>();
    CompletionStage<Integer> earlier = recent.putIfAbsent(id, mine);
    if (earlier != null) {
      return earlier; // the same purge by the other path: answer with its count
    }
    receivedApplied.increment();
    purges.applyFromPeer(spec, body.getString("from", "?")).whenComplete((n, err) -> {
      if (err != null) {
        mine.completeExceptionally(err);
      } else {
        mine.complete(n);
      }
    });
    return mine;
  }

  private void onPurgeMessage(Message<String> msg) {
    apply(msg.body(), false).whenComplete((n, err) -> msg.reply(
        new JsonObject().put("purged", err != null || n == null ? -1 : Math.max(0, n)).put("ok", err == null && n != null
            && n >= 0).encode()));
  }

  /**
   * This node was cut off (partition, long pause) and has merged back into the cluster: purges
   * made meanwhile may be lost to it, so everything it stored is marked stale, and it reads the
   * purge log again from its tail, under its possibly new member id.
   */
  private void onMerged() {
    if (closed) {
      return;
    }
    String now = hz.getCluster().getLocalMember().getUuid().toString();
    if (!now.equals(self)) {
      consumer.unregister();
      self = now;
      consumer = vertx.eventBus().<String>consumer(address(self), this::onPurgeMessage);
    }
    refresh();
    log.warn("cluster: this node was cut off from the cluster and merged back as {}: marking everything it stored"
        + " stale, so each object is revalidated before reuse", self);
    purges.applyFromPeer(PurgeService.Spec.softAll(),
        "self (merged back)");
    List<PurgeService.Spec> again;
    synchronized (unacked) {
      again = List.copyOf(unacked);
      unacked.clear();
    }
    if (!again.isEmpty()) {
      log.info("cluster: publishing again {} purge(s) that members did not acknowledge while apart", again.size());
    }
    reader.reattachAtTail().onSuccess(v -> {
      for (PurgeService.Spec spec : again) {
        publish(spec);
      }
    }).onFailure(t -> log.warn("cluster: cannot read the purge log after the merge: {}", t.toString()));
  }

  // ---------------------------------------------------------------- fan-out

  @Override
  public String self() {
    return self;
  }

  @Override
  public CompletionStage<PurgeService.Acks> publish(PurgeService.Spec spec) {
    long started = System.nanoTime();
    String id = UUID.randomUUID().toString();
    recent.put(id, CompletableFuture.completedFuture(0)); // applied here by PurgeService itself
    String text = new JsonObject().put("id", id).put("from", self).put("at", System.currentTimeMillis())
        .put("spec", spec.toJson()).encode();
    String envelope = new JsonObject().put("b", text).put("s", signer.sign(text)).encode();
    Ringbuffer<String> logRef = reader.log();
    if (logRef != null) {
      logRef.addAsync(envelope, OverflowPolicy.OVERWRITE).whenComplete((seq, err) -> {
        if (err != null) {
          log.warn("cluster: could not append a purge to the purge log ({}); members that are away may miss it",
              err.toString());
        }
      });
    }
    List<MemberView> targets = members.stream().filter(m -> m.trusted() && !m.id().equals(self)).toList();
    List<Future<Message<String>>> replies = new ArrayList<>();
    long deadline = started + TimeUnit.MILLISECONDS.toNanos(config.purgeTimeoutMs());
    for (MemberView m : targets) {
      replies.add(MemberRequest.send(vertx, address(m.id()), envelope, deadline, () -> closed));
    }
    CompletableFuture<PurgeService.Acks> out = new CompletableFuture<>();
    Future.join(replies).onComplete(ar -> {
      Map<String, Integer> nodes = new LinkedHashMap<>();
      List<String> missing = new ArrayList<>();
      for (int i = 0; i < targets.size(); i++) {
        Future<Message<String>> r = replies.get(i);
        JsonObject reply = r.succeeded() ? new JsonObject(r.result().body()) : null;
        if (reply != null && reply.getBoolean("ok", false)) {
          nodes.put(targets.get(i).id(), reply.getInteger("purged", 0));
        } else {
          missing.add(targets.get(i).id());
          String why = r.failed() ? r.cause().getMessage() : "it could not apply it";
          log.warn("cluster: member {} ({}) did not acknowledge a purge: {}", targets.get(i).id(), targets.get(i).url(),
              why);
        }
      }
      for (Departed d : departed.values()) {
        if (!missing.contains(d.id())) {
          missing.add(d.id()); // left before this purge: it has not applied it yet
        }
      }
      if (!missing.isEmpty()) {
        synchronized (unacked) {
          unacked.addLast(spec);
          if (unacked.size() > UNACKED_KEPT) {
            unacked.removeFirst();
          }
        }
      }
      fanoutTimer.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
      out.complete(new PurgeService.Acks(nodes, missing));
    });
    return out;
  }

  private static String address(String nodeId) {
    return "edgecache.purge." + nodeId;
  }

  // ---------------------------------------------------------------- membership and the ring

  private void refresh() {
    List<MemberView> view = new ArrayList<>();
    List<String> untrustedNow = new ArrayList<>();
    for (Member m : hz.getCluster().getMembers()) {
      String id = m.getUuid().toString();
      String url = m.getAttribute(HazelcastSetup.ATTR_URL);
      String since = m.getAttribute(HazelcastSetup.ATTR_SINCE);
      String nonce = m.getAttribute(HazelcastSetup.ATTR_NONCE);
      boolean trusted = url != null && since != null && nonce != null
          && signer.verify(HazelcastSetup.proofText(config.name(), url, since, nonce), m.getAttribute(HazelcastSetup.ATTR_PROOF));
      Instant at;
      try {
        at = Instant.ofEpochMilli(Long.parseLong(since));
      } catch (RuntimeException e) {
        at = Instant.EPOCH;
      }
      if (!trusted && warnedUntrusted.add(id)) {
        untrustedNow.add(id + " at " + m.getAddress());
      }
      view.add(new MemberView(id, url, at, trusted));
    }
    if (!untrustedNow.isEmpty()) {
      log.warn("cluster: {} cannot prove cluster.token: left out of the hash ring, purges from {} ignored",
          untrustedNow.size() == 1 ? "member " + untrustedNow.get(0) : "members " + untrustedNow,
          untrustedNow.size() == 1 ? "it" : "them");
    }
    view.sort((a, b) -> a.id().compareTo(b.id()));
    long now = System.currentTimeMillis();
    Set<String> present = new HashSet<>();
    for (MemberView m : view) {
      present.add(m.id());
      if (m.url() != null) {
        departed.remove(m.url());
      }
    }
    String ownUrl = hz.getCluster().getLocalMember().getAttribute(HazelcastSetup.ATTR_URL);
    for (MemberView m : members) {
      if (!present.contains(m.id()) && m.url() != null && m.trusted() && !m.url().equals(ownUrl)) {
        departed.put(m.url(), new Departed(m.id(), now));
        log.warn("cluster: member {} ({}) left; purges until it returns are replayed from the purge log when it does",
            m.id(), m.url());
      }
    }
    departed.values().removeIf(d -> now - d.atMs() > DEPARTED_MS);
    members = List.copyOf(view);
    ring = view.stream().filter(MemberView::trusted).map(MemberView::id).toList();
  }

  /** The members as this node sees them, itself included. */
  public List<MemberView> members() {
    return members;
  }

  /** {@code GET /cluster}. */
  public JsonObject describe() {
    JsonArray list = new JsonArray();
    for (MemberView m : members) {
      list.add(new JsonObject().put("id", m.id()).put("url", m.url()).put("since", m.since().toString())
          .put("trusted", m.trusted()));
    }
    return new JsonObject().put("enabled", true).put("name", config.name())
        .put("mode", config.mode().name().toLowerCase(java.util.Locale.ROOT)).put("self", self).put("members", list);
  }

  // ---------------------------------------------------------------- Peers (sharded mode)

  @Override
  public Peer ownerOf(String key) {
    if (config.mode() != ProxyConfig.Cluster.Mode.SHARDED) {
      return null;
    }
    String owner = Rendezvous.owner(key, ring);
    if (owner == null || owner.equals(self)) {
      return null;
    }
    for (MemberView m : members) {
      if (m.id().equals(owner)) {
        URI u = URI.create(m.url());
        return new Peer(owner, u.getHost(), u.getPort());
      }
    }
    return null;
  }

  @Override
  public boolean isPeerFill(String headerValue) {
    return signer.verifyPeerMark(headerValue, System.currentTimeMillis());
  }

  @Override
  public String mark() {
    return signer.peerMark(self, System.currentTimeMillis());
  }

  @Override
  public long timeoutMs() {
    return config.peerTimeoutMs();
  }

  @Override
  public void count(String outcome) {
    (outcome.equals("ok") ? peerOk : peerFallback).increment();
  }

  // ---------------------------------------------------------------- stop

  /** Stops reading the log and watching members (the caller then closes Vert.x, which leaves the cluster). */
  @Override
  public void close() {
    closed = true;
    reader.close();
    if (listenerId != null) {
      try {
        hz.getCluster().removeMembershipListener(listenerId);
      } catch (RuntimeException e) {
        // the instance is already shutting down
      }
    }
  }
}
