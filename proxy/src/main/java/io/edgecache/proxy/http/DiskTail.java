package io.edgecache.proxy.http;

import io.edgecache.storage.DiskWriter;
import io.edgecache.storage.Store;
import io.netty.buffer.ByteBuf;
import io.vertx.core.Context;
import io.vertx.core.internal.buffer.BufferInternal;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a coalesced client the body of a fill that is being written to the disk tier, read back
 * chunk by chunk from the disk as the write progresses, from byte {@code from} on (what the client
 * was already sent from memory before the fill went to disk, or before the fill's first client fell
 * behind the origin) up to byte {@code until} (exclusive; a client's Range cut from the body).
 *
 * <p>Why from the disk: a body of a gigabyte cannot be held for every client that joined the fill,
 * and feeding them from the origin's buffers would tie every client to the slowest. Each client
 * here reads at its own pace, one chunk at a time, the next only when its write queue has room, and
 * waits for the writer ({@link DiskWriter#whenChunk}) when it has caught up with the origin. So
 * each client holds at most one chunk, in direct memory (over LevelDB's own, or a pooled copy) that
 * is let go once the socket took it, and a slow client slows down nobody else.
 *
 * <p>Ends the client's response once the body's final length, or {@code until}, was sent. When the write fails (the
 * origin broke off, the disk failed, the body was purged before it was committed) its chunks are
 * deleted and the next read fails: the client's connection is reset, a visible truncation, never a
 * wrong byte (every chunk is checked against the CRC32C taken when it was written).
 *
 * <p>Every method runs on the client's context; disk completions hop back to it.
 */
final class DiskTail {
  private static final Logger log = LoggerFactory.getLogger(DiskTail.class);

  private final DiskWriter writer;
  private final Waiter.Client client;
  private final Context context;
  private final BooleanSupplier clientGone;
  private long position;
  /** Where this client's bytes end (exclusive): {@link Long#MAX_VALUE} for the whole body. */
  private final long until;
  /**
   * The hold on the write's chunks while this client reads them: once committed, the entry may be
   * evicted at once (the admission policy), replaced or purged, and this client still gets it all.
   */
  private Store.Pin hold;

  private DiskTail(DiskWriter writer, Store.Pin hold, Waiter.Client client, Context context, BooleanSupplier clientGone,
      long from, long until) {
    this.writer = writer;
    this.until = until;
    this.hold = hold;
    this.client = client;
    this.context = context;
    this.clientGone = clientGone;
    this.position = from;
  }

  /**
   * Sends {@code client} bytes {@code from} up to {@code until} (exclusive) of the body {@code writer}
   * writes, reading the chunks {@code hold} keeps (released when done, cut off, or when {@code owner}'s
   * client leaves), on {@code context}: for a coalesced request and for the fill's own first client.
   */
  static void follow(DiskWriter writer, Store.Pin hold, Waiter.Client client, Context context, Waiter.Owner owner,
      long from, long until) {
    DiskTail tail = new DiskTail(writer, hold, client, context, owner::clientGone, from, until);
    owner.whenClientLeft(tail::stop);
    tail.start();
  }

  /** Reads the first chunk once the client's write queue has room: what it queued before is sent first. */
  private void start() {
    if (client.writeQueueFull()) {
      client.drainHandler(this::next);
    } else {
      next();
    }
  }

  /** The body was sent, cut off, or the client left: the chunks are let go. Runs once. */
  void stop() {
    Store.Pin h = hold;
    hold = Store.Pin.NONE;
    h.release();
  }

  private void next() {
    if (clientGone.getAsBoolean()) {
      stop();
      return;
    }
    // the state first: the final length is set before the write commits and never changes after
    DiskWriter.State state = writer.state();
    long total = writer.finalLength();
    if (position >= until || total >= 0 && position >= total) {
      stop();
      client.end();
      return;
    }
    int index = (int) (position / writer.chunkBytes());
    if (index >= writer.writtenChunks()) {
      if (state == DiskWriter.State.WRITING) {
        // runs at once if the write ended meanwhile: the next turn then sees the final state
        writer.whenChunk(index, () -> OnContext.run(context, this::next));
      } else {
        log.debug("disk write of {} ended ({}) without chunk {} a coalesced client needs; resetting", writer.key(),
            state, index);
        stop();
        client.reset();
      }
      return;
    }
    writer.readChunk(index).whenComplete((chunk, err) -> OnContext.run(context, () -> arrived(index, chunk, err)));
  }

  private void arrived(int index, ByteBuf chunk, Throwable err) {
    if (clientGone.getAsBoolean()) {
      if (chunk != null) {
        chunk.release();
      }
      stop();
      return;
    }
    if (err != null) {
      stop();
      log.debug("chunk {} of {} unreadable while following its disk write ({}); resetting", index, writer.key(),
          err.toString());
      client.reset();
      return;
    }
    long chunkStart = (long) index * writer.chunkBytes();
    int from = (int) (position - chunkStart);
    int to = (int) Math.min(chunk.readableBytes(), until - chunkStart);
    position += to - from;
    // the transport writes the chunk as it is (a direct one without a copy) and never releases it
    // (Vert.x hands it over unreleasable): it is released once written or failed
    client.data(BufferInternal.buffer(chunk.slice(chunk.readerIndex() + from, to - from)), chunk::release);
    if (client.writeQueueFull()) {
      client.drainHandler(this::next);
    } else {
      next();
    }
  }
}
