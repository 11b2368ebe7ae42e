package io.edgecache.storage;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.iq80.leveldb.DBException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One body written to the disk tier as it arrives, so that a body of any size up to
 * {@code maxObjectBytes} is stored without being held in memory whole.
 *
 * <h2>How it works</h2>
 * The producer (an origin response being received) {@linkplain #write appends} bytes; they are cut
 * into chunk records of {@code chunkBytes} as they fill, and each full chunk is handed to the
 * store's disk workers, which write them in order under the generation this write took when it was
 * opened, exactly as {@link DiskStore#put} writes the chunks of a whole body. Nothing refers to
 * these chunks until {@link #commit}: it hands over the last (short) chunk, then writes the
 * metadata record, the commit point, in one batch with the deletion of the chunks of the entry it
 * replaces. So the entry becomes visible only once every chunk is written and its length is what
 * was promised; a write that is {@linkplain #abort abandoned} or fails deletes the chunks it wrote,
 * and one cut short by a crash leaves only chunks that no metadata record refers to, which the next
 * start-up sweeps ({@link DiskRecovery}). A removal recorded after the write was opened that selects
 * its key or tags wins, as over any queued write ({@link RemovalLog}): the write stops and deletes
 * its chunks.
 *
 * <h2>Backpressure</h2>
 * At most {@link #windowChunks()} chunks wait for a worker; beyond that {@link #write} answers
 * {@code false}: the producer should pause its source and resume when {@link #whenRoom} runs. The
 * bytes of a write are always taken, so a source that delivers a little more after being paused
 * loses nothing. The window is reserved out of the store's queued-write budget
 * ({@link DiskStore#MAX_QUEUED_WRITE_BYTES}) when the write is opened, so the heap that streaming
 * writes hold together stays within that bound; a write that finds no room is refused at open.
 *
 * <h2>Reading while it is written</h2>
 * Chunks already written can be read back ({@link #readChunk}, checked against the CRC32C taken
 * when they were cut) while later ones are still arriving, so that other readers of the same object
 * can follow the write from the disk instead of from memory; {@link #whenChunk} tells them when the
 * next chunk is ready or the write ended. Once the write failed its chunks are deleted: a read then
 * fails with {@link EntryGoneException}, never with wrong bytes.
 *
 * <h2>Threads</h2>
 * One producer at a time calls {@link #write}, {@link #commit} and {@link #abort} (the same thread,
 * or with a happens-before between calls); every other method may be called from any thread. The
 * disk work runs on the store's worker threads; {@link #whenRoom} and {@link #whenChunk} callbacks
 * and the returned stages complete there, or on the caller's thread when already due.
 */
public final class DiskWriter {
  private static final Logger LOG = LoggerFactory.getLogger(DiskStore.class);

  /** Where the write is. */
  public enum State {
    /** Bytes are being written; nothing is visible under the key yet. */
    WRITING,
    /** The metadata record is written: the entry is visible (until replaced, purged or evicted). */
    COMMITTED,
    /** Abandoned, refused or failed: not visible, and the chunks written are deleted. */
    FAILED
  }

  private final DiskWrites writes;
  private final String key;
  private final byte[] meta;
  private final Set<String> tags;
  private final long expectedLength;
  private final long maxLength;
  private final long generation;
  private final long ticket;
  private final int chunkBytes;
  private final int windowChunks;
  private final long reservedBytes;
  private final CompletableFuture<Boolean> done = new CompletableFuture<>();

  // Producer side: only the producer touches these.
  private byte[] filling;
  private int fillAt;

  // Shared with the workers and readers: guarded by this.
  private long length;
  private final ArrayDeque<byte[]> queue = new ArrayDeque<>();
  /**
   * Full-size chunk records LevelDB is done with (a batch copies what it is given), for the
   * producer to fill again rather than allocate one per chunk: a 1 GiB fill would otherwise make
   * 2,048 arrays of 512 KiB of garbage, each one humongous in G1's 1 MiB regions. At most
   * {@link #windowChunks} are kept, dropped when the write is over.
   */
  private final ArrayDeque<byte[]> spare = new ArrayDeque<>();
  private int[] crcs = new int[16];
  /** Chunks cut so far (written or queued). */
  private int cut;
  /** Chunks written to LevelDB so far (0..cut). */
  private int written;
  /** Total length once the producer committed; -1 before. */
  private long finalLength = -1;
  private boolean draining;
  private boolean finishing;
  private boolean abandoning;
  /** The body is complete but must not be stored: its chunks are written for its readers, then deleted. */
  private boolean unstored;
  private State state = State.WRITING;
  private Runnable roomWaiter;
  private final List<Runnable> chunkWaiters = new ArrayList<>();

  DiskWriter(DiskWrites writes, String key, byte[] meta, Set<String> tags, long expectedLength, long maxLength,
      long generation, long ticket, int chunkBytes, int windowChunks, long reservedBytes) {
    this.writes = writes;
    this.key = key;
    this.meta = meta;
    this.tags = Set.copyOf(tags);
    this.expectedLength = expectedLength;
    this.maxLength = maxLength;
    this.generation = generation;
    this.ticket = ticket;
    this.chunkBytes = chunkBytes;
    this.windowChunks = windowChunks;
    this.reservedBytes = reservedBytes;
  }

  /** The key the entry will be stored under. */
  public String key() {
    return key;
  }

  /** Payload bytes of every chunk but the last. */
  public int chunkBytes() {
    return chunkBytes;
  }

  /** Chunks that may wait for a worker before {@link #write} asks the producer to pause. */
  public int windowChunks() {
    return windowChunks;
  }

  /** The length announced at open (a Content-Length), or -1 when the body is delimited otherwise. */
  public long expectedLength() {
    return expectedLength;
  }

  // ---------------------------------------------------------------- producer

  /**
   * Appends the remaining bytes of {@code bytes} (its position moves to its limit). Returns whether
   * there is room for more: {@code false} asks the producer to pause until {@link #whenRoom} runs.
   * After a failure the bytes are dropped and the answer is {@code true}: check {@link #state()}.
   * A body that grows past its announced length or {@code maxObjectBytes} fails the write.
   */
  public boolean write(ByteBuffer bytes) {
    int n = bytes.remaining();
    synchronized (this) {
      if (state != State.WRITING || finishing) {
        bytes.position(bytes.limit());
        return true;
      }
      if (length + n > maxLength || expectedLength >= 0 && length + n > expectedLength) {
        bytes.position(bytes.limit());
        failLater(length + n > maxLength ? "longer than maxObjectBytes" : "longer than announced");
        writes.rejectedStream();
        return true;
      }
      length += n;
    }
    while (bytes.hasRemaining()) {
      if (filling == null) {
        filling = emptyRecord();
        fillAt = DiskFormat.CHUNK_HEADER;
      }
      int take = Math.min(bytes.remaining(), filling.length - fillAt);
      bytes.get(filling, fillAt, take);
      fillAt += take;
      if (fillAt == filling.length) {
        handOver(filling);
        filling = null;
      }
    }
    synchronized (this) {
      return state != State.WRITING || cut - written < windowChunks;
    }
  }

  /** A full-size chunk record to fill: one LevelDB has written, else a new one. */
  private byte[] emptyRecord() {
    synchronized (this) {
      byte[] r = spare.pollFirst();
      if (r != null) {
        return r;
      }
    }
    return new byte[DiskFormat.CHUNK_HEADER + chunkBytes];
  }

  /** {@link #write} of {@code length} bytes of {@code bytes} from {@code offset}. */
  public boolean write(byte[] bytes, int offset, int length) {
    return write(ByteBuffer.wrap(bytes, offset, length));
  }

  /**
   * Runs {@code r} once (on a worker thread, or now on the caller's) when the chunks waiting for a
   * worker fell to half the window, or the write is over. Replaces an earlier waiter not yet run.
   */
  public void whenRoom(Runnable r) {
    synchronized (this) {
      if (state == State.WRITING && cut - written >= windowChunks / 2 + 1 && !abandoning) {
        roomWaiter = r;
        return;
      }
    }
    r.run();
  }

  /**
   * The body is complete: writes what is left, then the metadata record, unless the body is not
   * the announced length, a removal since the write was opened selects it, or writing failed.
   * Completes with whether the entry was committed (on a worker thread); when it was not, the
   * chunks are deleted. Idempotent with {@link #abort}: the first of the two decides.
   */
  public CompletionStage<Boolean> commit() {
    boolean start = false;
    synchronized (this) {
      if (state == State.WRITING && !finishing && !abandoning) {
        if (expectedLength >= 0 && length != expectedLength) {
          failLater("shorter than announced (" + length + " of " + expectedLength + " bytes)");
        } else {
          finishing = true;
          finalLength = length;
          start = true;
        }
      }
    }
    if (start) {
      if (filling != null) {
        handOver(Arrays.copyOf(filling, fillAt));
        filling = null;
      } else {
        kick();
      }
    }
    return done;
  }

  /**
   * The body is complete but must not be stored (a purge since the fill began). Clients following
   * the write that hold its chunks ({@link #holdChunks}) get the rest of it: the chunks still
   * queued are written, then every chunk is deleted once the last of them let go; without such
   * clients this is {@link #abort}. Completes with false, as a refused commit does.
   */
  public CompletionStage<Boolean> finishUnstored() {
    if (!writes.streamHeld(this)) {
      abort();
      return done;
    }
    synchronized (this) {
      unstored = true;
    }
    return commit();
  }

  /** Abandons the write: nothing becomes visible and the chunks written are deleted. Idempotent. */
  public void abort() {
    filling = null;
    failLater("abandoned");
  }

  /** Completes with whether the entry was committed, when the write is over. */
  public CompletionStage<Boolean> done() {
    return done;
  }

  // ---------------------------------------------------------------- readers

  /** Where the write is now. */
  public synchronized State state() {
    return state;
  }

  /**
   * Whether the write has failed or is certain to: once a write was refused (longer than announced
   * or than {@code maxObjectBytes}, the store closed, a disk error) the worker deletes its chunks
   * and the state becomes {@link State#FAILED}, but the producer may ask before that happens.
   */
  public synchronized boolean failing() {
    return state == State.FAILED || abandoning;
  }

  /**
   * Chunks written so far ({@link #readChunk}); all of them once committed. A failed write keeps
   * its count: a reader holding its chunks ({@link #holdChunks}) may still read them.
   */
  public synchronized int writtenChunks() {
    return written;
  }

  /** The body's length once the producer committed it (even before the disk did), else -1. */
  public synchronized long finalLength() {
    return finalLength;
  }

  /** How many chunks the body has once its length is final, else -1. */
  public synchronized int chunkCount() {
    return finalLength < 0 ? -1 : DiskFormat.chunkCount(finalLength, chunkBytes);
  }

  /**
   * Runs {@code r} once chunk {@code index} is written, or the write failed or was committed (then
   * on the caller's thread at once if that is already so; else on a worker thread).
   */
  public void whenChunk(int index, Runnable r) {
    synchronized (this) {
      if (state == State.WRITING && index >= written) {
        chunkWaiters.add(r);
        return;
      }
    }
    r.run();
  }

  /**
   * The payload of written chunk {@code index}, checked against its CRC32C, in a buffer the caller
   * owns and must release (direct, for a socket write without a copy: over LevelDB's memory or in
   * the chunk pool, see {@link DiskBody#readChunks}; a release after the caller's stage was
   * abandoned is the caller's too). Fails with {@link EntryGoneException} when the chunk is gone:
   * the write failed or its committed entry was replaced, purged or evicted since, and no
   * {@linkplain #holdChunks hold} kept its chunks (a write a purge dropped at its commit is whole,
   * and its held chunks are read as they were written); with {@link IllegalStateException} for a
   * chunk not written (yet). Completes on a worker thread.
   */
  public CompletionStage<ByteBuf> readChunk(int index) {
    int crc;
    int chunkLength;
    synchronized (this) {
      if (index < 0 || index >= written) {
        return CompletableFuture.failedFuture(
            new IllegalStateException("chunk " + index + " is not written yet (written: " + written + ")"));
      }
      crc = crcs[index];
      chunkLength = (int) Math.min(chunkBytes, length - (long) index * chunkBytes);
    }
    return writes.readStreamChunk(this, index, crc, chunkLength);
  }

  /**
   * Whether a purge selected this write's key since it began: it will not be
   * committed, and no new reader should follow it (a request after the purge fetches again).
   */
  public boolean removedSinceItBegan() {
    return writes.removedSince(this);
  }

  /**
   * Keeps this write's chunks readable for a reader following it until the pin is released: once
   * committed, the entry may be evicted (even at once, by the admission policy), replaced or
   * purged, and its chunks then stay until the last holder lets go ({@link ReadPins}); so do the
   * chunks of a write that fails, as far as it got. Release it once.
   */
  public Store.Pin holdChunks() {
    return writes.holdStream(generation);
  }

  // ---------------------------------------------------------------- internals

  long generation() {
    return generation;
  }

  long ticket() {
    return ticket;
  }

  Set<String> tags() {
    return tags;
  }

  long reservedBytes() {
    return reservedBytes;
  }

  /** Seals a chunk record (version, CRC) and queues it for the workers. */
  private void handOver(byte[] record) {
    int payload = record.length - DiskFormat.CHUNK_HEADER;
    int crc = DiskFormat.crc(record, DiskFormat.CHUNK_HEADER, payload);
    record[0] = DiskFormat.CHUNK_VERSION;
    ByteBuffer.wrap(record, 1, 4).putInt(crc);
    synchronized (this) {
      if (state != State.WRITING || abandoning) {
        return;
      }
      if (cut == crcs.length) {
        crcs = Arrays.copyOf(crcs, crcs.length * 2);
      }
      crcs[cut++] = crc;
      queue.addLast(record);
    }
    kick();
  }

  private void failLater(String why) {
    synchronized (this) {
      if (state != State.WRITING || abandoning) {
        return;
      }
      abandoning = true;
      queue.clear();
      LOG.debug("disk tier: streaming write of {} stopped: {}", key, why);
    }
    kick();
    wakeProducer();
  }

  /** Starts the worker task unless one is running; it drains the queue, then finishes. */
  private void kick() {
    synchronized (this) {
      if (draining || state != State.WRITING) {
        return;
      }
      draining = true;
    }
    writes.submitStreamWork(this::drain).whenComplete((v, t) -> {
      if (t != null) {
        // the store is closed: nothing more can be written or deleted; the sweep removes the chunks
        ended(State.FAILED);
      }
    });
  }

  /** The worker task: writes queued chunks in batches, then commits or cleans up. */
  private Void drain() {
    while (true) {
      List<byte[]> batch = new ArrayList<>();
      int first;
      boolean finish;
      synchronized (this) {
        if (abandoning) {
          break;
        }
        first = written;
        int bytes = 0;
        while (!queue.isEmpty() && (batch.isEmpty() || bytes < DiskWrites.CHUNK_BATCH_BYTES)) {
          byte[] r = queue.pollFirst();
          bytes += r.length;
          batch.add(r);
        }
        // finishing is set before the producer hands over the last, partial chunk (commit() computes
        // its CRC outside the lock): commit only once every chunk of the final length was queued,
        // else an entry could become visible without its last chunk
        finish = batch.isEmpty() && finishing && cut >= DiskFormat.chunkCount(finalLength, chunkBytes);
        if (batch.isEmpty() && !finish) {
          draining = false; // handOver's kick starts the worker again
          return null;
        }
      }
      if (finish && unstored) {
        synchronized (this) {
          abandoning = true; // every chunk is written: its readers have all of it
        }
        writes.droppedStream();
        break;
      }
      if (finish) {
        boolean committed;
        int count = DiskFormat.chunkCount(finalLength, chunkBytes);
        try {
          committed = writes.commitStream(this, meta, finalLength, Arrays.copyOf(crcs, count));
        } catch (DBException e) {
          writes.streamWriteFailed(e);
          committed = false;
        }
        if (committed) {
          ended(State.COMMITTED);
          return null;
        }
        synchronized (this) {
          abandoning = true;
        }
        break;
      }
      try {
        // a purge since the write began: it can no longer be committed. Stop writing, unless
        // clients that coalesced on the fill before the purge follow it: they get the whole body
        // from the chunks they hold, and the commit is dropped at the end.
        if (writes.removedSince(this) && !writes.streamHeld(this)) {
          synchronized (this) {
            abandoning = true;
          }
          writes.droppedStream();
          break;
        }
        writes.writeStreamChunks(generation, first, batch);
      } catch (DBException e) {
        writes.streamWriteFailed(e);
        synchronized (this) {
          abandoning = true;
        }
        break;
      }
      Runnable room = null;
      List<Runnable> ready;
      synchronized (this) {
        written += batch.size();
        for (byte[] r : batch) {
          if (r.length == DiskFormat.CHUNK_HEADER + chunkBytes && spare.size() < windowChunks) {
            spare.addLast(r); // the batch copied it: the producer may overwrite it now
          }
        }
        if (roomWaiter != null && cut - written <= windowChunks / 2) {
          room = roomWaiter;
          roomWaiter = null;
        }
        ready = List.copyOf(chunkWaiters);
        chunkWaiters.clear();
      }
      if (room != null) {
        room.run();
      }
      ready.forEach(Runnable::run);
    }
    // abandoned, refused or failed: delete what was written, then tell everyone
    int toDelete;
    synchronized (this) {
      toDelete = Math.max(written, cut);
    }
    writes.deleteStreamChunks(generation, toDelete);
    ended(State.FAILED);
    return null;
  }

  /** The write is over: releases its reservation and ticket, wakes everyone waiting. */
  private void ended(State outcome) {
    Runnable room;
    List<Runnable> ready;
    synchronized (this) {
      if (state != State.WRITING) {
        return;
      }
      state = outcome;
      draining = false;
      queue.clear();
      spare.clear();
      room = roomWaiter;
      roomWaiter = null;
      ready = List.copyOf(chunkWaiters);
      chunkWaiters.clear();
    }
    writes.streamEnded(this);
    if (room != null) {
      room.run();
    }
    ready.forEach(Runnable::run);
    done.complete(outcome == State.COMMITTED);
  }

  private void wakeProducer() {
    Runnable room;
    synchronized (this) {
      room = roomWaiter;
      roomWaiter = null;
    }
    if (room != null) {
      room.run();
    }
  }
}
