package io.edgecache.proxy.http;

import io.vertx.core.Context;
import io.vertx.core.Vertx;

/**
 * Brings a completion back to an exchange's event loop. Cache and disk futures complete on
 * storage worker threads; everything that touches a request or response must run on the
 * connection's context.
 */
final class OnContext {
  private OnContext() {}

  /** Runs {@code r} now when already on {@code context}, else schedules it there. */
  static void run(Context context, Runnable r) {
    if (Vertx.currentContext() == context) {
      r.run();
    } else {
      context.runOnContext(v -> r.run());
    }
  }
}
