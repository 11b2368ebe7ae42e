package io.edgecache.proxy.http;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpClosedException;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * An origin that closes its connection after a response (HTTP/1.0, {@code Connection: close}) may
 * have sent the rest of the body, its end included, while the reader held the response back (or
 * had just resumed it: Vert.x drains its queues on a later turn). Vert.x 5.0.7 then still holds
 * those bytes in its inbound queues, yet fails the response with {@link HttpClosedException}
 * because it has not processed the end.
 *
 * <p>Readers of origin bodies ({@link CacheTee}, {@link BackgroundRefresh}) do not take that
 * failure at its word: they {@link #drain} instead, and the body ends as the rest of it says, with
 * its end handler (complete) or with nothing more within {@link #DRAIN_MS} (cut short: RFC 9112
 * §6.3, a body without a length ends at the close; one that the close cut short of its
 * Content-Length is incomplete, and RFC 9111 §3.3 lets no incomplete response be stored as
 * complete). What drains is already in memory, at most what the connection had received.
 */
final class OriginCloseDrain {
  /**
   * After the close, how long the body may go without a buffer before it is taken as cut short.
   * What is left is delivered by event-loop tasks, so this only has to outlast a busy event loop.
   */
  static final long DRAIN_MS = 250;

  private OriginCloseDrain() {
  }

  /** Whether {@code failure} is the origin's connection closing, which may leave the end queued. */
  static boolean mayHaveQueuedEnd(Throwable failure) {
    return failure instanceof HttpClosedException;
  }

  /**
   * Resumes {@code origin} for good, so that Vert.x's queues run, then calls {@code cut} once no
   * buffer arrived for {@link #DRAIN_MS} ({@code lastReadNanos} is the reader's clock of its last
   * buffer), unless {@code over} says the body already ended or failed. Call on the response's
   * event loop; the reader must not pause the response again.
   */
  static void drain(Vertx vertx, HttpClientResponse origin, LongSupplier lastReadNanos, BooleanSupplier over,
      Runnable cut) {
    origin.resume();
    check(vertx, lastReadNanos, over, cut, DRAIN_MS);
  }

  private static void check(Vertx vertx, LongSupplier lastReadNanos, BooleanSupplier over, Runnable cut, long delayMs) {
    vertx.setTimer(Math.max(1, delayMs), id -> {
      if (over.getAsBoolean()) {
        return;
      }
      long silentMs = (System.nanoTime() - lastReadNanos.getAsLong()) / 1_000_000;
      if (silentMs >= DRAIN_MS) {
        cut.run();
      } else {
        check(vertx, lastReadNanos, over, cut, DRAIN_MS - silentMs);
      }
    });
  }
}
