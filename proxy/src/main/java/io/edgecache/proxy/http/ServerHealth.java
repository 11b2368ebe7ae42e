package io.edgecache.proxy.http;

/**
 * Whether one origin server may be sent requests, from two independent judgements.
 *
 * <h2>Active (health checks)</h2>
 * A server starts up. {@code unhealthy} consecutive failed probes mark it down; {@code healthy}
 * consecutive good ones mark it up again. A probe's result only counts towards the streak it
 * belongs to: one good probe in a run of bad ones starts the failure count again.
 *
 * <h2>Passive (ejection on live traffic)</h2>
 * {@code ejectAfter} consecutive failures of real requests (no response head, or a 5xx) eject the
 * server for {@code ejectFor}. When that time is over the server gets requests again, on
 * probation: its next failure ejects it at once, for twice as long as the last time (at most
 * {@code maxEject}); its next success ends the probation and resets the backoff. Failures that
 * arrive while the server is ejected (requests that began before) change nothing. As nginx does
 * ({@code max_fails}), a pool of one server never ejects it: there is nowhere else to send the
 * request, and ejecting would only stretch a short outage (the caller passes {@code ejectAfter} 0).
 * The pool may also refuse an ejection ({@code mayEject} false: too many of its servers are out
 * already); the failure still counts, and the next one asks again.
 *
 * <p>Time is passed in ({@code nowMs}); nothing here reads a clock or does I/O. Thread-safe:
 * changes are synchronized, and the two fields every pick reads are volatile.
 */
final class ServerHealth {
  /** What {@code GET /origins} and the metrics report. */
  enum State { UP, DOWN, EJECTED }

  private volatile boolean up = true;
  private volatile long ejectedUntilMs;
  private int goodProbes;
  private int badProbes;
  private int consecutiveFailures;
  /** Ejections since the last success: the next one lasts {@code ejectFor << ejections}. */
  private int ejections;

  /** Whether a request may be sent to the server now. */
  boolean available(long nowMs) {
    return up && nowMs >= ejectedUntilMs;
  }

  State state(long nowMs) {
    return !up ? State.DOWN : nowMs < ejectedUntilMs ? State.EJECTED : State.UP;
  }

  /** Whether the health checks hold the server up. */
  boolean up() {
    return up;
  }

  /** When the current (or last) ejection ends; 0 when never ejected. */
  long ejectedUntilMs() {
    return ejectedUntilMs;
  }

  /**
   * One health-check result.
   *
   * @return true when it changed {@link #up()}
   */
  synchronized boolean probed(boolean ok, int healthy, int unhealthy) {
    if (ok) {
      badProbes = 0;
      goodProbes++;
      if (!up && goodProbes >= healthy) {
        up = true;
        return true;
      }
    } else {
      goodProbes = 0;
      badProbes++;
      if (up && badProbes >= unhealthy) {
        up = false;
        return true;
      }
    }
    return false;
  }

  /**
   * A live request failed (no response head, or a 5xx).
   *
   * @param ejectAfter consecutive failures that eject; 0 never ejects
   * @param mayEject whether the pool allows one more of its servers out now
   * @return how long the server is now ejected for, in milliseconds, or 0 when it was not ejected
   */
  synchronized long failed(long nowMs, int ejectAfter, long ejectForMs, long maxEjectMs, boolean mayEject) {
    if (ejectAfter <= 0 || nowMs < ejectedUntilMs) {
      return 0;
    }
    consecutiveFailures++;
    if (ejections == 0 && consecutiveFailures < ejectAfter || !mayEject) {
      return 0;
    }
    long period = Math.min(maxEjectMs, ejectForMs << Math.min(ejections, 20));
    ejections++;
    consecutiveFailures = 0;
    ejectedUntilMs = nowMs + period;
    return period;
  }

  /** A live request got a response head below 500: the failure streak and the backoff start over. */
  synchronized void succeeded() {
    consecutiveFailures = 0;
    ejections = 0;
  }
}
