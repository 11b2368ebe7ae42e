package io.edgecache.proxy.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A purge sent to a member whose address is not registered yet (it just merged back under a new
 * member id) reaches it once the registration arrives, within the deadline.
 */
class MemberRequestTest {
  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static long in(long ms) {
    return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
  }

  private static <T> T result(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static ReplyException failure(Future<?> f) throws Exception {
    try {
      result(f);
    } catch (ExecutionException e) {
      return assertInstanceOf(ReplyException.class, e.getCause());
    }
    throw new AssertionError("expected a failure, got " + f.result());
  }

  @Test
  void addressRegisteredAfterTheFirstAttempt_answersWithinTheDeadline() throws Exception {
    Future<Message<String>> reply = MemberRequest.send(vertx, "member.late", "purge", in(3000), () -> false);
    vertx.setTimer(300, id -> vertx.eventBus().<String>consumer("member.late", m -> m.reply("ok " + m.body())));
    assertEquals("ok purge", result(reply).body());
  }

  @Test
  void addressNeverRegistered_failsAsNoHandlerOnceTheDeadlinePassed() throws Exception {
    long start = System.nanoTime();
    ReplyException e = failure(MemberRequest.send(vertx, "member.gone", "purge", in(400), () -> false));
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertEquals(ReplyFailure.NO_HANDLERS, e.failureType());
    assertTrue(tookMs >= 250, "asked again until the deadline, gave up after " + tookMs + " ms");
  }

  @Test
  void memberThatDoesNotAnswer_timesOutAtTheDeadlineWithoutAskingAgain() throws Exception {
    int[] received = new int[1];
    vertx.eventBus().<String>consumer("member.silent", m -> received[0]++);
    ReplyException e = failure(MemberRequest.send(vertx, "member.silent", "purge", in(300), () -> false));
    assertEquals(ReplyFailure.TIMEOUT, e.failureType());
    assertEquals(1, received[0], "a member that got the purge is not sent it again");
  }

  @Test
  void failureOnTheMember_isFinal() throws Exception {
    int[] received = new int[1];
    vertx.eventBus().<String>consumer("member.failing", m -> {
      received[0]++;
      m.fail(500, "disk gone");
    });
    ReplyException e = failure(MemberRequest.send(vertx, "member.failing", "purge", in(2000), () -> false));
    assertEquals(ReplyFailure.RECIPIENT_FAILURE, e.failureType());
    assertEquals(1, received[0]);
  }

  @Test
  void stoppedNode_doesNotAskAgain() throws Exception {
    long start = System.nanoTime();
    ReplyException e = failure(MemberRequest.send(vertx, "member.gone", "purge", in(3000), () -> true));
    assertEquals(ReplyFailure.NO_HANDLERS, e.failureType());
    assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) < 2000);
  }
}
