package io.edgecache.proxy.cluster;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One request to one member over the event bus, answered or failed by a deadline.
 *
 * <p>"No handler" is asked again after a short pause until the deadline: a member that just
 * joined or merged back registers its address under its new member id, and that registration
 * reaches the other members through Hazelcast a moment after the member itself is listed. Any
 * other failure (no answer in time, a failure on the member) is final.
 */
final class MemberRequest {
  /** The pause before asking again after "no handler". */
  static final long NO_HANDLER_PAUSE_MS = 50;

  private MemberRequest() {
  }

  /**
   * Sends {@code body} to {@code address}; the future fails with a {@link ReplyException} once
   * {@code deadlineNanos} ({@link System#nanoTime()}) passes without an answer, or at once when
   * {@code stopped} says so.
   */
  static Future<Message<String>> send(Vertx vertx, String address, String body, long deadlineNanos,
      BooleanSupplier stopped) {
    Promise<Message<String>> reply = Promise.promise();
    attempt(vertx, address, body, deadlineNanos, stopped, reply);
    return reply.future();
  }

  private static void attempt(Vertx vertx, String address, String body, long deadlineNanos, BooleanSupplier stopped,
      Promise<Message<String>> reply) {
    long leftMs = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
    if (leftMs <= 0) {
      reply.fail(new ReplyException(ReplyFailure.TIMEOUT, "no answer from " + address + " by the deadline"));
      return;
    }
    vertx.eventBus().<String>request(address, body, new DeliveryOptions().setSendTimeout(leftMs))
        .onSuccess(reply::complete)
        .onFailure(err -> {
          long leftAfterPauseMs = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime()) - NO_HANDLER_PAUSE_MS;
          if (stopped.getAsBoolean() || !(err instanceof ReplyException re)
              || re.failureType() != ReplyFailure.NO_HANDLERS || leftAfterPauseMs < NO_HANDLER_PAUSE_MS) {
            reply.fail(err); // not worth another attempt that could only end in a timeout
          } else {
            vertx.setTimer(NO_HANDLER_PAUSE_MS, id -> attempt(vertx, address, body, deadlineNanos, stopped, reply));
          }
        });
  }
}
