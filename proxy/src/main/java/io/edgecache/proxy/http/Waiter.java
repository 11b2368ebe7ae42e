package io.edgecache.proxy.http;

import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.Vary;
import io.edgecache.storage.DiskWriter;
import io.edgecache.storage.Store;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import java.util.List;

/**
 * A request that waits on another request's fetch of the same URL (request coalescing) and relays
 * what that fetch receives to its own client.
 *
 * <p>The shared response may turn out to be another variant (its {@code Vary} fields select a
 * different secondary key than this request's): then this request detaches and asks the origin
 * itself ({@code fwd=vary-miss}). A fetch abandoned before its head was published sends it to the
 * origin too; an origin failure is answered as the leader saw it; a failure after the head was
 * relayed can only reset the client connection. A body the fill writes to disk is followed there
 * ({@link DiskTail}).
 *
 * <p>Every method runs on the owner's context ({@link Fill} delivers there).
 */
final class Waiter implements Fill.Subscriber {
  /** The waiting exchange; called on its context. */
  interface Owner {
    boolean clientGone();

    /** Ask the origin alone, with this reason in Cache-Status. */
    void refetch(CacheStatus.Fwd fwd);

    /** The shared fetch failed before any response: answer with the failure. */
    void failed(OriginErrors.Failure failure, CacheStatus.Fwd fwd);

    /** Write the shared response's status and header section to the client. */
    void collapsedHead(Fill.Head head, CacheStatus.Fwd fwd);

    /** Runs {@code r} when the client leaves before its response is done (at once if it has). */
    void whenClientLeft(Runnable r);
  }

  /** Where the shared body goes: the waiting client's response. */
  interface Client {
    void data(Buffer data);

    /** {@link #data}, then runs {@code written} (on the client's context) once the transport wrote or dropped it. */
    void data(Buffer data, Runnable written);

    void end();

    /** The shared fetch broke after the head was written: reset the client connection. */
    void reset();

    /** Whether the client's write queue is full (wait for {@link #drainHandler} before writing more). */
    boolean writeQueueFull();

    /** Runs {@code r} once when the write queue has room again. */
    void drainHandler(Runnable r);
  }

  private final Owner owner;
  private final Client client;
  private final Context context;
  private final Headers requestHeaders;
  private final CacheStatus.Fwd fwd;
  private boolean detached;
  /** Body bytes relayed so far: where a switch to the disk write takes up. */
  private long relayed;

  /**
   * @param context the waiting exchange's context, where every callback runs
   * @param requestHeaders the waiting request's fields, to compare variants
   * @param fwd why the waiting request missed
   */
  Waiter(Owner owner, Client client, Context context, Headers requestHeaders, CacheStatus.Fwd fwd) {
    this.owner = owner;
    this.client = client;
    this.context = context;
    this.requestHeaders = requestHeaders;
    this.fwd = fwd;
  }

  @Override
  public Context context() {
    return context;
  }

  @Override
  public void onHead(Fill.Head head) {
    List<String> names = Vary.names(head.view().headers(), requestHeaders);
    if (!names.isEmpty() && !Vary.secondaryKey(names, requestHeaders).equals(head.secondaryKey())) {
      detached = true; // another variant: ask the origin ourselves
      owner.refetch(CacheStatus.Fwd.VARY_MISS);
      return;
    }
    if (!owner.clientGone()) {
      owner.collapsedHead(head, fwd);
    }
  }

  @Override
  public void onData(Buffer data) {
    relayed += data.length();
    if (!detached && !owner.clientGone()) {
      client.data(data);
    }
  }

  /** The rest of the body is read from the fill's disk write, at this client's pace ({@link DiskTail}). */
  @Override
  public void onTail(DiskWriter writer, Store.Pin hold) {
    if (!detached && !owner.clientGone()) {
      DiskTail.follow(writer, hold, client, context, owner, relayed, Long.MAX_VALUE);
    } else {
      hold.release();
    }
  }

  @Override
  public void onEnd() {
    if (!detached && !owner.clientGone()) {
      client.end();
    }
  }

  @Override
  public void onAbort(OriginErrors.Failure failure, boolean headSent) {
    if (detached) {
      return;
    }
    if (headSent) {
      if (!owner.clientGone()) {
        client.reset();
      }
    } else if (failure == null) {
      owner.refetch(fwd);
    } else {
      owner.failed(failure, fwd);
    }
  }
}
