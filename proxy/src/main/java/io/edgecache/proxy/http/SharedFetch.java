package io.edgecache.proxy.http;

import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.ResponseView;
import io.edgecache.proxy.policy.Vary;
import io.edgecache.storage.DiskWriter;
import io.vertx.core.buffer.Buffer;
import java.util.List;

/**
 * The leader's side of a coalesced fetch: publishes the origin's response to the {@link Fill}
 * that concurrent requests for the same URL subscribed to, and unregisters it from the
 * {@link Coalescer} exactly once, however the fetch ends (stored, abandoned, failed).
 *
 * <p>Not thread-safe: used on the leader's event loop ({@link Fill} itself is thread-safe).
 */
final class SharedFetch {
  private final Coalescer coalescer;
  private final Fill fill;
  private boolean registered = true;
  private boolean over;

  SharedFetch(Coalescer coalescer, Fill fill) {
    this.coalescer = coalescer;
    this.fill = fill;
  }

  /**
   * Publishes the response head. Subscribers compare {@code request}'s variant (its Vary fields)
   * with their own before they take the response.
   */
  void head(ResponseView view, String statusMessage, long contentLength, Headers request) {
    List<String> names = Vary.names(view.headers(), request);
    fill.head(new Fill.Head(view, statusMessage, contentLength, names.isEmpty() ? "" : Vary.secondaryKey(names, request)));
  }

  /** The body goes to disk through {@code writer}: subscribers follow it there (see {@link Fill#tail}). */
  void tail(DiskWriter writer) {
    if (!over) {
      fill.tail(writer);
    }
  }

  void data(Buffer b) {
    if (!over) {
      fill.data(b);
    }
  }

  /** Runs {@code r} when a subscriber joins; {@code r} must only hand work to the leader's context. */
  void whenJoined(Runnable r) {
    fill.whenJoined(r);
  }

  /** Whether a request coalesced on this fetch follows its disk write ({@link Fill#followed}). */
  boolean followed() {
    return !over && fill.followed();
  }

  /** Subscribers still attached. */
  int subscribers() {
    return over ? 0 : fill.subscribers();
  }

  /**
   * The body will not be stored (too large, budget spent): subscribers already attached still
   * get every byte, nobody new may join, and the URL is remembered as uncacheable for a while.
   */
  void stopSharing() {
    fill.stopRetaining();
    unregister();
    coalescer.markUncacheable(fill.key);
  }

  /** The response is complete: subscribers end too. */
  void end() {
    if (over) {
      return;
    }
    over = true;
    unregister();
    fill.end();
  }

  /**
   * Stops leading. {@code failure} null sends the subscribers to the origin on their own, else
   * they answer with it; {@code uncacheable} remembers the URL as not worth coalescing.
   */
  void abort(OriginErrors.Failure failure, boolean uncacheable) {
    if (over) {
      return;
    }
    over = true;
    unregister();
    if (uncacheable) {
      coalescer.markUncacheable(fill.key);
    }
    fill.abort(failure);
  }

  private void unregister() {
    if (registered) {
      registered = false;
      coalescer.done(fill);
    }
  }
}
