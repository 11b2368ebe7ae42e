package io.edgecache.proxy.http;

import io.edgecache.storage.ChunkBuffers;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.impl.VertxConnection;

/**
 * How much of a body may wait in a client connection's write queue, by how much direct memory is
 * in use.
 *
 * <p>What a connection has queued is direct memory: the transport copies a heap buffer (a memory
 * or disk body) into a direct one as it is written, and an origin's buffers are direct already.
 * A reader that stops holds up to its write queue plus one write. With room to spare that is
 * {@link ProxyVerticle#CLIENT_WRITE_QUEUE_BYTES} plus a {@link StoredDelivery#MEMORY_SLICE_BYTES}
 * slice, which is what makes large hits fast; but a few hundred stalled readers would then take
 * all of {@code -XX:MaxDirectMemorySize}, and every other connection's writes would fail (or, in
 * the JDK's own accounting, wait in {@code System.gc()} on the event loop). So once more than half
 * of it is in use, a large body starts with a queue of {@link #TIGHT_BYTES} and is written in
 * slices of that size: a stalled reader then holds about twice that, and the rest of the memory
 * stays for the others. Whether memory is tight is decided per body, when its delivery starts.
 */
final class ClientQueue {
  /** The write queue and the slice size of a body delivered while direct memory is tight. */
  static final int TIGHT_BYTES = 32 * 1024;

  private ClientQueue() {}

  /** Direct memory in use ({@link ChunkBuffers#directMemoryUsed}). */
  static long directBytesUsed() {
    return ChunkBuffers.directMemoryUsed();
  }

  /** Whether more than half of the direct memory bound is in use. */
  static boolean tight() {
    return ChunkBuffers.directMemoryTight();
  }

  /**
   * Sizes {@code req}'s write queue for a body of {@code bodyBytes}: {@link #TIGHT_BYTES} while
   * direct memory is tight, else {@link ProxyVerticle#CLIENT_WRITE_QUEUE_BYTES}. Returns whether it
   * was tight (a body is then written in slices of {@link #TIGHT_BYTES}). Small bodies, and HTTP/2
   * (whose streams are flow-controlled by the peer's window), are left as they are.
   */
  static boolean sizeQueue(HttpServerRequest req, long bodyBytes) {
    if (bodyBytes <= TIGHT_BYTES || req.version() == HttpVersion.HTTP_2) {
      return false;
    }
    boolean tight = tight();
    if (req.connection() instanceof VertxConnection vc) {
      vc.doSetWriteQueueMaxSize(tight ? TIGHT_BYTES : ProxyVerticle.CLIENT_WRITE_QUEUE_BYTES);
    }
    return tight;
  }
}
