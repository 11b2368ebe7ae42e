package io.edgecache.proxy.http;

import io.netty.channel.EventLoop;
import io.vertx.core.Context;
import io.vertx.core.internal.ContextInternal;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The timeouts of one event loop that are nearly always called off: an origin's deadline for its
 * response head and a body's idle deadline, one of each per forwarded request.
 *
 * <p>A Vert.x timer set and cancelled per request cost about 3% of a pass-through request's CPU
 * (its registry of timers and the scheduler's queue, both ways). Here a deadline is a node in a
 * list of deadlines of the same length, so they fall due in the order they were added: adding
 * one links it at the tail, calling it off unlinks it, and each list keeps one Vert.x timer armed
 * for its earliest deadline. When that timer fires it runs what is due and arms itself again for
 * the next one; a deadline called off never leaves a timer behind holding its request.
 *
 * <p>Lengths are few (the configured timeouts); past {@link #MAX_LINES} distinct lengths a
 * deadline is a Vert.x timer of its own. One instance per event-loop context ({@link #of}), used
 * on its thread only; a deadline's action runs on the context that set it.
 */
final class Deadlines {
  /** Distinct deadline lengths kept as lists; beyond them, plain timers. */
  static final int MAX_LINES = 16;
  private static final Object KEY = Deadlines.class;

  private final ContextInternal loop;
  private final Map<Long, Line> lines = new HashMap<>();

  private Deadlines(ContextInternal loop) {
    this.loop = loop;
  }

  /** The deadlines of the event loop {@code context} runs on. */
  static Deadlines of(Context context) {
    ContextInternal base = ((ContextInternal) context).unwrap();
    Object d = base.contextData().get(KEY);
    if (d == null) {
      d = new Deadlines(base);
      base.contextData().put(KEY, d);
    }
    return (Deadlines) d;
  }

  /**
   * Runs {@code action} on the calling context once {@code delayMs} (at least 1) have passed,
   * unless the returned deadline is {@linkplain Deadline#cancel called off} first. Call on this
   * event loop.
   */
  Deadline after(long delayMs, Runnable action) {
    long delay = Math.max(1, delayMs);
    ContextInternal caller = ContextInternal.current();
    ContextInternal on = caller != null ? caller : loop;
    Line line = null;
    if (loop.isEventLoopContext() && loop.nettyEventLoop().inEventLoop()) {
      line = lines.get(delay);
      if (line == null && lines.size() < MAX_LINES) {
        line = new Line(delay);
        lines.put(delay, line);
      }
    }
    if (line == null) {
      Deadline d = new Deadline(on, action, null);
      d.timerId = on.setTimer(delay, id -> d.expire());
      return d;
    }
    Deadline d = new Deadline(on, action, loop.nettyEventLoop());
    line.add(d, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay));
    return d;
  }

  /** One pending timeout. */
  static final class Deadline {
    private final ContextInternal context;
    /** The event loop whose lists hold this deadline; null when it is a Vert.x timer of its own. */
    private final EventLoop home;
    private Runnable action;
    private long dueNanos;
    private Line line;
    private Deadline prev;
    private Deadline next;
    /** When this deadline is a Vert.x timer of its own; -1 otherwise. */
    private long timerId = -1;

    private Deadline(ContextInternal context, Runnable action, EventLoop home) {
      this.context = context;
      this.action = action;
      this.home = home;
    }

    /**
     * Calls the deadline off: its action will not run. Calling it again, or after it ran, does
     * nothing. From another thread than its event loop's, the list is changed on that loop (a
     * Vert.x timer could be cancelled from anywhere; so can this).
     */
    void cancel() {
      if (home != null && !home.inEventLoop()) {
        home.execute(this::cancel);
        return;
      }
      action = null;
      if (line != null) {
        line.remove(this);
      } else if (timerId >= 0) {
        context.owner().cancelTimer(timerId);
        timerId = -1;
      }
    }

    private void expire() {
      Runnable a = action;
      action = null;
      timerId = -1;
      if (a != null) {
        context.emit(null, v -> a.run());
      }
    }
  }

  /** The deadlines of one length, earliest first. */
  private final class Line {
    private final long delayMs;
    private Deadline head;
    private Deadline tail;
    private long timerId = -1;

    Line(long delayMs) {
      this.delayMs = delayMs;
    }

    void add(Deadline d, long dueNanos) {
      d.dueNanos = dueNanos;
      d.line = this;
      d.prev = tail;
      if (tail == null) {
        head = d;
      } else {
        tail.next = d;
      }
      tail = d;
      if (timerId < 0) {
        arm(dueNanos);
      }
    }

    void remove(Deadline d) {
      if (d.prev == null) {
        head = d.next;
      } else {
        d.prev.next = d.next;
      }
      if (d.next == null) {
        tail = d.prev;
      } else {
        d.next.prev = d.prev;
      }
      d.prev = null;
      d.next = null;
      d.line = null;
    }

    /** The timer fires at or after {@code dueNanos}; it finds the list as it is then. */
    private void arm(long dueNanos) {
      long ms = Math.max(1, TimeUnit.NANOSECONDS.toMillis(dueNanos - System.nanoTime() + 999_999));
      timerId = loop.setTimer(ms, id -> fire());
    }

    private void fire() {
      timerId = -1;
      long now = System.nanoTime();
      while (head != null && head.dueNanos - now <= 0) {
        Deadline d = head;
        remove(d);
        d.expire();
      }
      if (head != null && timerId < 0) {
        arm(head.dueNanos);
      }
    }

    @Override
    public String toString() {
      return "deadlines of " + delayMs + " ms";
    }
  }
}
