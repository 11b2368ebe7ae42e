package io.edgecache.proxy.purge;

import io.edgecache.proxy.cache.HttpCache;
import io.edgecache.proxy.metrics.ProxyMetrics;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one implementation of a purge, behind both {@code PURGE /path} on the traffic port and
 * {@code POST /purge} on the admin port: it runs the purge against the cache, writes one line to
 * the {@code edgecache.purge} logger, counts the {@code edgecache.purges} metric and builds the
 * JSON answer ({@code {"purged": N}}, or {@code {"error": "..."}}).
 *
 * <p>A purge removes entries, or with {@code soft} marks them stale so they are revalidated before
 * reuse (RFC 9111 4.4 "invalidate").
 *
 * <p>In a cluster a {@link Fanout} applies every purge on the other members too and the answer
 * reports each member's count and those that did not acknowledge in time
 * ({@code {"purged": N, "nodes": {...}, "missing": [...]}}); purges that arrive from a member are
 * applied here only ({@link #applyFromPeer}).
 *
 * <p>Thread-safe and stateless apart from the metrics. {@link #run} never completes exceptionally:
 * a failed purge becomes a 500 answer. Its stage completes on whichever thread the cache completes
 * on; callers hop back to their own context before writing.
 */
public final class PurgeService {
  private static final Logger log = LoggerFactory.getLogger("edgecache.purge");

  /** The purge operations of the cache, narrowed so that the service can be tested without one. */
  public interface Target {
    CompletionStage<Integer> url(String key, boolean soft);

    CompletionStage<Integer> prefix(String keyPrefix, boolean soft);

    CompletionStage<Integer> tag(String tag, boolean soft);

    CompletionStage<Integer> all(boolean soft);

    /** The purge operations of {@code cache}. */
    static Target of(HttpCache cache) {
      return new Target() {
        @Override
        public CompletionStage<Integer> url(String key, boolean soft) {
          return cache.purgeUrl(key, soft);
        }

        @Override
        public CompletionStage<Integer> prefix(String keyPrefix, boolean soft) {
          return cache.purgePrefix(keyPrefix, soft);
        }

        @Override
        public CompletionStage<Integer> tag(String tag, boolean soft) {
          return cache.purgeTag(tag, soft);
        }

        @Override
        public CompletionStage<Integer> all(boolean soft) {
          return cache.purgeAll(soft);
        }
      };
    }
  }

  /**
   * What to purge. Keys come from {@code CacheKey}; {@code viaMethod} marks a {@code PURGE} on the
   * traffic port (one URL), which logs its target.
   */
  public record Spec(List<String> urlKeys, List<String> prefixKeys, List<String> tags, boolean all, boolean soft,
      boolean viaMethod) {
    public Spec {
      urlKeys = List.copyOf(urlKeys);
      prefixKeys = List.copyOf(prefixKeys);
      tags = List.copyOf(tags);
    }

    /** Everything stored marked stale (revalidated before reuse): what a node does when it cannot prove it saw every purge. */
    public static Spec softAll() {
      return new Spec(List.of(), List.of(), List.of(), true, true, false);
    }

    /** {@code PURGE /path}: every stored variant of one URL. */
    public static Spec url(String key, boolean soft) {
      return new Spec(List.of(key), List.of(), List.of(), false, soft, true);
    }

    /** The spec as JSON, for other members. */
    public JsonObject toJson() {
      return new JsonObject().put("urls", new JsonArray(urlKeys)).put("prefixes", new JsonArray(prefixKeys))
          .put("tags", new JsonArray(tags)).put("all", all).put("soft", soft).put("method", viaMethod);
    }

    /** The spec {@link #toJson} wrote; IllegalArgumentException when it is not one. */
    public static Spec fromJson(JsonObject o) {
      try {
        return new Spec(strings(o.getJsonArray("urls")), strings(o.getJsonArray("prefixes")),
            strings(o.getJsonArray("tags")), o.getBoolean("all", false), o.getBoolean("soft", false),
            o.getBoolean("method", false));
      } catch (ClassCastException | NullPointerException e) {
        throw new IllegalArgumentException("not a purge spec: " + e.getMessage());
      }
    }

    private static List<String> strings(JsonArray a) {
      List<String> out = new ArrayList<>();
      for (int i = 0; i < a.size(); i++) {
        out.add(a.getString(i));
      }
      return out;
    }

    /** The metric label: all, tag, prefix or url. */
    public String kind() {
      return all ? "all" : !tags.isEmpty() ? "tag" : !prefixKeys.isEmpty() ? "prefix" : "url";
    }

    /** How the log line names the purge. */
    String describe() {
      if (all) {
        return "kind=all";
      }
      if (viaMethod) {
        return "kind=url target=" + urlKeys.get(0);
      }
      return "kind=api urls=" + urlKeys.size() + " prefixes=" + prefixKeys + " tags=" + tags;
    }
  }

  /**
   * The answer to send: {@code status}, a JSON {@code body}, and whether to challenge for a
   * bearer token ({@code WWW-Authenticate}, on 401).
   */
  public record Answer(int status, String body, boolean challenge) {
    /** The {@code WWW-Authenticate} value sent with a 401. */
    public static final String CHALLENGE = "Bearer realm=\"edgecache purge\"";

    /** The purge could not run. */
    public static final Answer FAILED = new Answer(500, "{\"error\": \"purge failed\"}", false);
  }

  /** Applies a purge on the other members of a cluster. */
  public interface Fanout {
    /** This member's id, as the answer names it. */
    String self();

    /** Sends {@code spec} to every other live member; completes (never exceptionally) with their answers. */
    CompletionStage<Acks> publish(Spec spec);
  }

  /** What the other members answered: their counts by id, and those that did not answer in time. */
  public record Acks(Map<String, Integer> nodes, List<String> missing) {}

  /**
   * The last purge this node sent to the other members: when it was answered, what it was, the
   * count each member (this one included) purged, and the members that did not answer in time.
   */
  public record LastFanout(java.time.Instant at, String purge, boolean soft, Map<String, Integer> nodes,
      List<String> missing) {}

  private final Target cache;
  private final ProxyMetrics metrics;
  private final java.time.Clock clock;
  private volatile Fanout fanout;
  private volatile LastFanout lastFanout;

  public PurgeService(Target cache, ProxyMetrics metrics) {
    this(cache, metrics, java.time.Clock.systemUTC());
  }

  /** {@code clock} stamps {@link #lastFanout()}. */
  public PurgeService(Target cache, ProxyMetrics metrics, java.time.Clock clock) {
    this.cache = cache;
    this.metrics = metrics;
    this.clock = clock;
  }

  /** The last purge fanned out to the cluster, or null when there was none (or no cluster). */
  public LastFanout lastFanout() {
    return lastFanout;
  }

  /** From now on every purge run here is also applied on the other members through {@code f}. */
  public void fanOut(Fanout f) {
    this.fanout = f;
  }

  /**
   * Runs {@code spec} (on every member, in a cluster); the answer says how many stored responses
   * were purged.
   *
   * @param who the client address, for the log
   */
  public CompletionStage<Answer> run(Spec spec, String who) {
    Fanout f = fanout;
    CompletionStage<Acks> others = f == null ? null : f.publish(spec);
    CompletionStage<Integer> local = purgeHere(spec, "by=" + who);
    if (others == null) {
      return local.thenApply(n -> n == null ? Answer.FAILED : new Answer(200, "{\"purged\": " + n + "}", false));
    }
    return local.thenCombine(others, (here, acks) -> {
      if (here == null) {
        return Answer.FAILED;
      }
      JsonObject nodes = new JsonObject().put(f.self(), here);
      Map<String, Integer> counts = new java.util.LinkedHashMap<>();
      counts.put(f.self(), here);
      int total = here;
      for (Map.Entry<String, Integer> e : acks.nodes().entrySet()) {
        nodes.put(e.getKey(), e.getValue());
        counts.put(e.getKey(), e.getValue());
        total += e.getValue();
      }
      lastFanout = new LastFanout(clock.instant(), spec.describe(), spec.soft(), java.util.Collections.unmodifiableMap(counts),
          List.copyOf(acks.missing()));
      if (!acks.missing().isEmpty()) {
        log.warn("purge {}: no acknowledgement from {}", spec.describe(), acks.missing());
      }
      return new Answer(200, new JsonObject().put("purged", total).put("nodes", nodes)
          .put("missing", new JsonArray(acks.missing())).encode(), false);
    });
  }

  /** A purge another member ran: applied here only; completes with the count, or -1 when it failed. */
  public CompletionStage<Integer> applyFromPeer(Spec spec, String from) {
    return purgeHere(spec, "from member " + from).thenApply(n -> n == null ? -1 : n);
  }

  /**
   * Runs {@code spec} on this node's cache, logs one line ({@code by} says who asked) and counts
   * it; completes with the count, or null when it failed.
   */
  private CompletionStage<Integer> purgeHere(Spec spec, String by) {
    CompletionStage<Integer> purged;
    try {
      purged = purge(spec);
    } catch (RuntimeException e) {
      purged = CompletableFuture.failedFuture(e);
    }
    return purged.handle((n, err) -> {
      if (err != null) {
        log.warn("purge failed: {} {}: {}", spec.describe(), by, err.toString());
        return null;
      }
      log.info("purge {} soft={} purged={} {}", spec.describe(), spec.soft(), n, by);
      metrics.purge(spec.kind(), spec.soft(), n);
      return n;
    });
  }

  /**
   * {@code PURGE /path} on the traffic port: checks the client against {@code purge.allow} and
   * {@code purge.token}, then purges every variant of {@code key} (soft with
   * {@code Edgecache-Soft-Purge: 1} or {@code true}).
   */
  public CompletionStage<Answer> purgeMethod(PurgeAuthorizer authorizer, String key, String who,
      String authorization, String softPurgeHeader) {
    PurgeAuthorizer.Verdict verdict = authorizer.check(who, authorization);
    if (verdict != PurgeAuthorizer.Verdict.ALLOWED) {
      boolean unauthorized = verdict == PurgeAuthorizer.Verdict.UNAUTHORIZED;
      int status = unauthorized ? 401 : 403;
      log.warn("purge refused: {} {} from {} ({})", status, key, who,
          unauthorized ? "missing or wrong token" : "address not in purge.allow");
      return CompletableFuture.completedFuture(
          new Answer(status, "{\"error\": \"" + (unauthorized ? "unauthorized" : "forbidden") + "\"}", unauthorized));
    }
    return run(Spec.url(key, isSoft(softPurgeHeader)), who);
  }

  /** {@code Edgecache-Soft-Purge: 1} or {@code true} asks for a soft purge. */
  static boolean isSoft(String header) {
    return header != null && (header.trim().equals("1") || header.trim().equalsIgnoreCase("true"));
  }

  private CompletionStage<Integer> purge(Spec spec) {
    if (spec.all()) {
      return cache.all(spec.soft());
    }
    List<CompletionStage<Integer>> parts = new ArrayList<>();
    for (String u : spec.urlKeys()) {
      parts.add(cache.url(u, spec.soft()));
    }
    for (String p : spec.prefixKeys()) {
      parts.add(cache.prefix(p, spec.soft()));
    }
    for (String t : spec.tags()) {
      parts.add(cache.tag(t, spec.soft()));
    }
    CompletionStage<Integer> sum = CompletableFuture.completedFuture(0);
    for (CompletionStage<Integer> p : parts) {
      sum = sum.thenCombine(p, Integer::sum);
    }
    return sum;
  }
}
