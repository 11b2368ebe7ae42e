package io.edgecache.proxy.http;

import io.edgecache.storage.ChunkRun;
import io.edgecache.storage.DiskBody;
import io.netty.buffer.ByteBuf;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.internal.buffer.BufferInternal;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes bytes {@code first..last} of a disk body to a client whose response head is already
 * written: runs of chunks read on disk workers, each chunk written as it is. A chunk is read by
 * one copy out of LevelDB into a direct buffer ({@link io.edgecache.storage.ChunkBuffers}), which
 * the socket takes without another copy; when direct memory is tight it is read into the heap and
 * the transport copies it as it does any heap buffer.
 *
 * <h2>How</h2>
 * A run is up to {@link #RUN_BYTES} of consecutive chunks read in one disk task, so a body costs
 * one hand-off to a worker and back per run rather than per chunk. A chunk is written only while
 * the client's write queue has room; when it fills, writing resumes on drain. When the last chunk
 * of a run is handed to the transport and the queue still has room, the next run is read at once
 * (read-ahead: the disk read overlaps the socket draining that chunk); otherwise it is read when
 * the queue drains.
 *
 * <h2>Bounds and ownership</h2>
 * The next run is asked for only once every chunk of the current one is with the transport, so
 * a stream holds at most one run: the rest of the current one, or the next one. The connection's
 * queue comes on top, and is given more only below its high-water mark: at most about one chunk.
 * A client that stops reading therefore holds at most {@link #RUN_BYTES} plus a chunk, however
 * long it stalls, and usually much less: it is read ahead of only while it keeps up. Each chunk is
 * released when the transport has written it or failed to; chunks not yet written are released
 * when the client leaves ({@link #abandon}, also called by {@link StoredDelivery#release}), and a
 * run that arrives after that is released as it arrives.
 *
 * <h2>Failures</h2>
 * A chunk that cannot be served (damaged: the store removed the entry; unreadable) ends the
 * stream after the intact chunks before it were written: the connection is reset, so the client
 * sees a truncated transfer, never wrong bytes. An entry evicted, replaced or purged meanwhile is
 * still sent whole: the delivery holds its chunks ({@link DiskBody#hold}) and {@code done}
 * releases them when the stream is over.
 *
 * <h2>Threads</h2>
 * Created and called on the exchange's event loop; disk reads complete on storage threads and hop
 * back to it. Not thread-safe otherwise.
 */
final class DiskStream {
  private static final Logger log = LoggerFactory.getLogger(DiskStream.class);
  /** Chunk bytes read per disk task (at least one chunk). */
  static final int RUN_BYTES = 512 * 1024;

  private final HttpServerResponse resp;
  private final Context context;
  private final BooleanSupplier clientGone;
  private final String key;
  private final DiskBody body;
  private final long first;
  private final long last;
  private final int lastIndex;

  /** The run being written, until its last chunk is handed to the transport; then null. */
  private ChunkRun current;
  /** Index of the next chunk to write. */
  private int nextToWrite;
  /** The next run, once it arrived; or why it could not be read. */
  private ChunkRun ahead;
  private Throwable aheadFailure;
  /** A read of the next run is under way. */
  private boolean reading;
  /** Everything held was written: writing resumes when the read under way completes. */
  private boolean waitingForDisk;
  /** The client left or the stream failed: nothing more is written, and what arrives is released. */
  private boolean abandoned;
  /** Runs once when the stream is over: the hold on the body's chunks is let go. */
  private final Runnable done;

  DiskStream(HttpServerResponse resp, Context context, BooleanSupplier clientGone, String key, DiskBody body,
      long first, long last, Runnable done) {
    this.done = done;
    this.resp = resp;
    this.context = context;
    this.clientGone = clientGone;
    this.key = key;
    this.body = body;
    this.first = first;
    this.last = last;
    this.lastIndex = (int) (last / body.chunkBytes());
  }

  /** The chunks of a run starting at {@code index}, at most {@link #RUN_BYTES} and none past {@code last}. */
  static int runLength(DiskBody body, int index, long last) {
    int perRun = Math.max(1, RUN_BYTES / body.chunkBytes());
    return (int) Math.min(perRun, last / body.chunkBytes() - index + 1);
  }

  /** Starts writing with {@code firstRun}, which holds the chunk of byte {@code first}. */
  void start(ChunkRun firstRun) {
    current = firstRun;
    nextToWrite = firstRun.first();
    pump();
  }

  /** Writes held chunks while the client's queue has room; ends, waits for drain, or waits for the disk. */
  private void pump() {
    while (!abandoned) {
      if (clientGone.getAsBoolean()) {
        abandon();
        return;
      }
      if (current == null) {
        if (ahead == null) {
          if (aheadFailure != null) {
            fail(aheadFailure);
          } else {
            waitingForDisk = true;
            readNext(); // unless it was read ahead already and is still on its way
          }
          return;
        }
        current = ahead;
        ahead = null;
      }
      int index = nextToWrite++;
      ByteBuf payload = current.take(index);
      long chunkStart = (long) index * body.chunkBytes();
      int from = (int) Math.max(0, first - chunkStart);
      int to = (int) Math.min(payload.readableBytes(), last - chunkStart + 1);
      // the transport writes the payload as it is (a direct one without a copy) and never
      // releases it (Vert.x hands it over unreleasable): it is released once written or failed
      Buffer slice = BufferInternal.buffer(payload.slice(payload.readerIndex() + from, to - from));
      if (index == lastIndex) {
        resp.end(slice).onComplete(ar -> payload.release());
        abandon(); // holds nothing more: the last run ends with this chunk
        return;
      }
      resp.write(slice).onComplete(ar -> payload.release());
      boolean full = resp.writeQueueFull();
      if (nextToWrite == current.next()) {
        // every chunk of this run is with the transport: let go of it
        ChunkRun written = current;
        current = null;
        if (written.stoppedBy() != null) {
          failOnceWritten(written.stoppedBy());
          return;
        }
        if (!full) {
          readNext(); // read ahead while the socket drains what it was given
        }
      }
      if (full) {
        Drains.once(resp, this::pump);
        return;
      }
    }
  }

  /**
   * Stops for good and frees what is held: the chunks not yet written and a run read ahead, now or
   * when it arrives. Called when the client left (also by {@link StoredDelivery#release}) or the
   * stream ends; calling it again does nothing.
   */
  void abandon() {
    if (!abandoned) {
      done.run(); // every chunk still needed is in memory now, or never will be
    }
    abandoned = true;
    ChunkRun.releaseQuietly(current);
    ChunkRun.releaseQuietly(ahead);
    current = null;
    ahead = null;
  }

  /** Asks for the run after the one last written, unless it is already asked for. */
  private void readNext() {
    if (reading || ahead != null || aheadFailure != null) {
      return;
    }
    reading = true;
    body.readChunks(nextToWrite, runLength(body, nextToWrite, last))
        .whenComplete((run, err) -> OnContext.run(context, () -> arrived(run, err)));
  }

  private void arrived(ChunkRun run, Throwable err) {
    reading = false;
    if (abandoned) {
      ChunkRun.releaseQuietly(run);
      return;
    }
    ahead = run;
    aheadFailure = err;
    if (waitingForDisk) {
      waitingForDisk = false;
      pump();
    }
  }

  /** Fails once what was written reached the socket, so the client gets every intact byte before the damage. */
  private void failOnceWritten(Throwable err) {
    if (resp.writeQueueFull()) {
      Drains.once(resp, () -> fail(err));
    } else {
      fail(err);
    }
  }

  private void fail(Throwable err) {
    abandon();
    log.warn("disk body of {} failed mid-stream ({}); resetting the client connection", key,
        StoredDelivery.rootCause(err));
    if (!clientGone.getAsBoolean()) {
      resp.reset();
    }
  }
}
