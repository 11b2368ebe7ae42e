package io.edgecache.proxy.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.ringbuffer.ReadResultSet;
import com.hazelcast.ringbuffer.Ringbuffer;
import com.hazelcast.ringbuffer.StaleSequenceException;
import io.edgecache.proxy.purge.PurgeService;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's reader of the cluster's replicated purge log (a Hazelcast {@link Ringbuffer}): it
 * applies, in order, every purge it has not seen, for as long as the node runs, and records how far
 * it got ({@link PurgeLogPosition}) so that a restart replays only what it missed.
 *
 * <h2>Catching up</h2>
 * {@link #open} completes once the log is applied up to its tail as it was at start: from the saved
 * position when that can be trusted, else from the tail after a soft purge of everything this node
 * holds (no saved position, a log started again while every member was down, a log that no longer
 * reaches back that far). The caller binds the traffic port only then.
 *
 * <h2>After a merge</h2>
 * {@link #reattachAtTail} stops the reader under way (its epoch ends) and reads on from the tail of
 * the log the merged cluster has, which may be another one; the caller soft-purges first.
 *
 * <h2>Threads</h2>
 * Blocking Hazelcast calls run in {@code executeBlocking}; the log's asynchronous reads complete on
 * Hazelcast's threads. The log, its generation and the epoch are volatile and swapped whole.
 */
final class PurgeLogReader {
  private static final Logger log = LoggerFactory.getLogger("edgecache.cluster");

  private final Vertx vertx;
  private final HazelcastInstance hz;
  private final PurgeService purges;
  /** Where the position survives a restart; null without a disk tier. */
  private final PurgeLogPosition position;
  private final Supplier<Boolean> holdsStoredObjects;
  /** Applies one signed purge envelope from the log (the node skips one it applied already). */
  private final Function<String, CompletionStage<Integer>> apply;
  /** Bumped to stop a reader (after a merge, one reader starts again at the tail). */
  private volatile int epoch;
  private volatile boolean closed;
  private volatile Ringbuffer<String> purgeLog;
  private volatile String generation;

  PurgeLogReader(Vertx vertx, HazelcastInstance hz, PurgeService purges, PurgeLogPosition position,
      Supplier<Boolean> holdsStoredObjects, Function<String, CompletionStage<Integer>> apply) {
    this.vertx = vertx;
    this.hz = hz;
    this.purges = purges;
    this.position = position;
    this.holdsStoredObjects = holdsStoredObjects;
    this.apply = apply;
  }

  /** Attaches to the log and catches up with it (see the class comment); then reads on. */
  Future<Void> open() {
    return vertx.executeBlocking(this::attach).compose(this::catchUp);
  }

  /** After a merge: reads on from the tail of the log the cluster has now, under its generation. */
  Future<Void> reattachAtTail() {
    int mine = ++epoch;
    return vertx.executeBlocking(this::attach).map(ht -> {
      savePosition(ht[1]);
      read(ht[1] + 1, ht[1], Promise.promise(), mine);
      return null;
    });
  }

  /** The log to append purges to, or null before {@link #open} attached to it. */
  Ringbuffer<String> log() {
    return purgeLog;
  }

  /** Stops reading. */
  void close() {
    closed = true;
  }

  /** Takes the cluster's log and its generation (blocking); its head and tail sequences. */
  private long[] attach() {
    purgeLog = hz.getRingbuffer(HazelcastSetup.LOG);
    IMap<String, String> meta = hz.getMap(HazelcastSetup.META);
    String fresh = UUID.randomUUID().toString();
    String existing = meta.putIfAbsent("generation", fresh);
    generation = existing != null ? existing : fresh;
    return headAndTail();
  }

  private long[] headAndTail() {
    return new long[] {purgeLog.headSequence(), purgeLog.tailSequence()};
  }

  /** Where to start reading the purge log, after the soft purge when the saved position cannot be trusted. */
  private Future<Void> catchUp(long[] headTail) {
    long head = headTail[0];
    long tail = headTail[1];
    PurgeLogPosition.Saved saved = position == null ? null : position.read();
    long start;
    String why = null;
    if (saved == null) {
      why = "no record of which purges it has seen";
    } else if (!saved.generation().equals(generation)) {
      why = "the purge log was started again (every member was down at once)";
    } else if (saved.seq() + 1 < head) {
      why = "the purge log no longer reaches back to where it left (" + (head - saved.seq() - 1) + " purges lost)";
    } else if (saved.seq() > tail) {
      why = "the purge log is behind what it saw";
    }
    Future<Void> before = Future.succeededFuture();
    if (why != null) {
      start = tail + 1;
      if (holdsStoredObjects.get()) {
        log.warn("cluster: this node cannot prove it saw every purge ({}): marking everything it stored stale,"
            + " so each object is revalidated before reuse", why);
        before = Future.fromCompletionStage(purges.applyFromPeer(
            PurgeService.Spec.softAll(), "self (rejoin)"))
            .mapEmpty();
      }
    } else {
      start = saved.seq() + 1;
      if (start <= tail) {
        log.info("cluster: replaying {} purge(s) made while this node was away", tail - start + 1);
      }
    }
    return before.compose(v -> {
      savePosition(start - 1); // from here on this node has seen every purge (the loop below records more)
      Promise<Void> caughtUp = Promise.promise();
      read(start, tail, caughtUp, epoch);
      return caughtUp.future();
    });
  }

  /**
   * Reads the log from {@code seq} on, applying what this node has not seen, for as long as the
   * node runs; {@code caughtUp} completes once everything up to {@code until} is applied.
   */
  private void read(long seq, long until, Promise<Void> caughtUp, int readerEpoch) {
    if (seq > until) {
      caughtUp.tryComplete();
    }
    if (closed || readerEpoch != epoch) {
      caughtUp.tryComplete();
      return;
    }
    purgeLog.readManyAsync(seq, 1, 100, null).whenComplete((batch, err) -> {
      if (closed || readerEpoch != epoch) {
        caughtUp.tryComplete();
        return;
      }
      if (err != null) {
        Throwable cause = err.getCause() != null ? err.getCause() : err;
        if (cause instanceof StaleSequenceException) {
          log.warn("cluster: fell more than {} purges behind the purge log: marking everything stored stale",
              HazelcastSetup.LOG_CAPACITY);
          purges.applyFromPeer(PurgeService.Spec.softAll(),
              "self (behind the purge log)");
          vertx.executeBlocking(() -> purgeLog.headSequence()).onComplete(ar ->
              read(ar.succeeded() ? ar.result() : seq, until, caughtUp, readerEpoch));
          return;
        }
        log.debug("cluster: reading the purge log failed ({}); retrying", cause.toString());
        // a log that was started again or merged may no longer reach this sequence: then start at its tail
        vertx.executeBlocking(this::headAndTail).onComplete(ar -> {
          if (ar.succeeded() && (seq > ar.result()[1] + 1 || seq < ar.result()[0])) {
            log.warn("cluster: the purge log no longer matches what this node read: marking everything stored stale");
            purges.applyFromPeer(PurgeService.Spec.softAll(),
                "self (purge log replaced)");
            read(ar.result()[1] + 1, until, caughtUp, readerEpoch);
          } else {
            vertx.setTimer(1000, id -> read(seq, until, caughtUp, readerEpoch));
          }
        });
        return;
      }
      applyBatch(batch, 0, CompletableFuture.completedFuture(null)).whenComplete((v, e) -> {
        long next = batch.getNextSequenceToReadFrom();
        if (closed || readerEpoch != epoch) {
          // a merge replaced the log while this batch was applied: its sequence numbers belong to
          // the old log, and saving one under the new log's generation could skip purges on restart
          caughtUp.tryComplete();
          return;
        }
        savePosition(next - 1);
        if (next > until) {
          caughtUp.tryComplete();
        }
        read(next, until, caughtUp, readerEpoch);
      });
    });
  }

  private CompletionStage<Void> applyBatch(ReadResultSet<String> batch, int i, CompletionStage<Void> before) {
    if (i >= batch.size()) {
      return before;
    }
    String envelope = batch.get(i);
    return applyBatch(batch, i + 1, before.thenCompose(v -> apply.apply(envelope).thenApply(n -> null)));
  }

  /** Records that every purge up to {@code seq} is applied (off the event loop). */
  private void savePosition(long seq) {
    if (position != null && generation != null) {
      position.save(vertx, generation, seq);
    }
  }
}
