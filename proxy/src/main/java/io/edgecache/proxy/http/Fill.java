package io.edgecache.proxy.http;

import io.edgecache.proxy.policy.ResponseView;
import io.edgecache.storage.DiskWriter;
import io.edgecache.storage.Store;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;

/**
 * One origin fetch that several clients share (request coalescing).
 *
 * <p>The leader publishes the response head, body buffers and the end; every subscriber receives
 * all of it in order, on its own context, as it streams (a late subscriber first gets a replay of
 * what arrived so far). While the body is retained (it stays under the cache's object limit) new
 * subscribers may join; once it is not, only those already attached continue. If the response
 * turns out not to be storable the fill is abandoned before any body byte and the subscribers go
 * to the origin themselves. Subscribers are fed without backpressure, which is bounded by the
 * object limit for every body a new subscriber can join.
 *
 * <p>A body too large for the memory tier is written to the disk tier as it arrives
 * ({@link #tail}). From then on subscribers are not fed from memory: each is handed the disk write
 * ({@link Subscriber#onTail}) and follows it from the disk at its own client's pace, as Varnish
 * streams one object to every waiting client; new subscribers may join until the write is
 * committed, and the heap holds one chunk per subscriber, whatever the body's size.
 *
 * <p>Thread-safe: the leader and subscribers run on different event loops; all state is guarded by
 * this object's monitor, and deliveries hop to each subscriber's context in order.
 */
final class Fill {
  /** What a subscriber is told; each method runs on the subscriber's context. */
  interface Subscriber {
    Context context();

    void onHead(Head head);

    void onData(Buffer data);

    /**
     * The rest of the body is to be read from {@code writer}, the disk write of this fill, from
     * where this subscriber's data stopped; no more {@link #onData}, {@link #onEnd} or
     * {@link #onAbort} follow. {@code hold} keeps the write's chunks for this subscriber (taken
     * when it was handed the write, so an eviction at the commit cannot come first): it must be
     * released once, when the body was sent or the client left.
     */
    void onTail(DiskWriter writer, Store.Pin hold);

    void onEnd();

    /**
     * The fill stopped. {@code failure} is null when the response is simply not shareable (go to
     * the origin yourself), else the origin failure to answer with. {@code headSent} says
     * whether {@link #onHead} was already delivered.
     */
    void onAbort(OriginErrors.Failure failure, boolean headSent);
  }

  /** The response head as the leader received it. */
  record Head(ResponseView view, String statusMessage, long contentLength, String secondaryKey) {}

  private enum State { WAITING, STREAMING, DONE, ABORTED }

  final String key;
  private final List<Buffer> retained = new ArrayList<>();
  private final List<Subscriber> subscribers = new ArrayList<>();
  private State state = State.WAITING;
  private boolean retaining = true;
  private Head head;
  /** Told when a subscriber joins ({@link #whenJoined}), or null. */
  private Runnable joined;
  /** The disk write subscribers follow, once the body goes to disk. */
  private DiskWriter tail;
  /** A subscriber was handed the disk write ({@link #tail}): it reads that, not this fill's buffers. */
  private boolean followed;

  Fill(String key) {
    this.key = key;
  }

  /** Attaches a subscriber; false when it is too late to share this fill. */
  synchronized boolean subscribe(Subscriber s) {
    if (state == State.ABORTED || state == State.DONE || !retaining && tail == null) {
      return false;
    }
    boolean attached = tail != null ? handTail(s) : feed(s);
    if (attached && joined != null) {
      joined.run();
    }
    return attached;
  }

  /** Sends {@code s} to the disk write; false when its chunks are gone or no longer this URL's. */
  private boolean handTail(Subscriber s) {
    if (tail.state() == DiskWriter.State.FAILED || tail.removedSinceItBegan()) {
      return false; // its chunks are gone, or a purge since it began: fetch alone
    }
    Head h = head;
    DiskWriter w = tail;
    Store.Pin hold = w.holdChunks();
    if (hold == Store.Pin.NONE) {
      return false; // committed and already dropped from the disk tier: fetch alone
    }
    followed = true;
    s.context().runOnContext(v -> {
      s.onHead(h);
      s.onTail(w, hold);
    });
    return true;
  }

  /** Feeds {@code s} this fill's buffers: those retained so far, then each as it arrives. */
  private boolean feed(Subscriber s) {
    subscribers.add(s);
    if (head != null) {
      Head h = head;
      List<Buffer> replay = List.copyOf(retained);
      s.context().runOnContext(v -> {
        s.onHead(h);
        for (Buffer b : replay) {
          s.onData(b);
        }
      });
    }
    return true;
  }

  /**
   * Runs {@code r} (under this monitor: it must only hand work to another context) each time a
   * subscriber joins, whether it is fed the retained body or follows the disk write: the leader
   * stops pacing the origin to its own client once others wait on the body ({@link CacheTee}).
   */
  synchronized void whenJoined(Runnable r) {
    joined = r;
  }

  synchronized int subscribers() {
    return subscribers.size();
  }

  /** Whether a subscriber was handed the disk write (it may have finished or left since). */
  synchronized boolean followed() {
    return followed;
  }

  synchronized void head(Head h) {
    head = h;
    state = State.STREAMING;
    for (Subscriber s : subscribers) {
      s.context().runOnContext(v -> s.onHead(h));
    }
  }

  /**
   * The body is being written to disk by {@code writer}: subscribers follow it there from now on,
   * and so do those that join later. Call after {@link #head}.
   */
  synchronized void tail(DiskWriter writer) {
    tail = writer;
    retaining = false;
    retained.clear();
    followed |= !subscribers.isEmpty();
    for (Subscriber s : subscribers) {
      Store.Pin hold = writer.holdChunks(); // not committed yet: never refused
      s.context().runOnContext(v -> s.onTail(writer, hold));
    }
    subscribers.clear();
  }

  synchronized void data(Buffer b) {
    if (tail != null) {
      return;
    }
    if (retaining) {
      retained.add(b);
    }
    for (Subscriber s : subscribers) {
      s.context().runOnContext(v -> s.onData(b));
    }
  }

  /** The body grew past what may be retained (or its disk write failed): no one else may join. */
  synchronized void stopRetaining() {
    retaining = false;
    tail = null;
    retained.clear();
  }

  synchronized void end() {
    state = State.DONE;
    for (Subscriber s : subscribers) {
      s.context().runOnContext(v -> s.onEnd());
    }
    subscribers.clear();
    retained.clear();
  }

  synchronized void abort(OriginErrors.Failure failure) {
    if (state == State.DONE || state == State.ABORTED) {
      return;
    }
    boolean headSent = head != null;
    state = State.ABORTED;
    for (Subscriber s : subscribers) {
      s.context().runOnContext(v -> s.onAbort(failure, headSent));
    }
    subscribers.clear();
    retained.clear();
  }
}
