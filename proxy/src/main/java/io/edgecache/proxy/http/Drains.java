package io.edgecache.proxy.http;

import io.vertx.core.streams.WriteStream;

/**
 * Drain handlers that run once. Vert.x keeps a stream's drain handler until it is replaced: one
 * left in place after a body's last write runs again at the connection's next drain, after the
 * response has ended, and writes to a finished response ({@code IllegalStateException: Response
 * has already been written}) or reads a chunk nobody needs.
 */
final class Drains {
  private Drains() {}

  /** Runs {@code next} at the next drain of {@code stream}, and only then. */
  static void once(WriteStream<?> stream, Runnable next) {
    stream.drainHandler(v -> {
      stream.drainHandler(null);
      next.run();
    });
  }
}
