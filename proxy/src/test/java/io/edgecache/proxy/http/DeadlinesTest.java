package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DeadlinesTest {
  private Vertx vertx;
  private Context loop;
  private final List<String> ran = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    loop = vertx.getOrCreateContext();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  /** Runs {@code body} on the event loop with its deadlines and waits for it. */
  private void onLoop(Consumer<Deadlines> body) throws Exception {
    CompletableFuture<Void> done = new CompletableFuture<>();
    loop.runOnContext(v -> {
      try {
        body.accept(Deadlines.of(Vertx.currentContext()));
        done.complete(null);
      } catch (Throwable t) {
        done.completeExceptionally(t);
      }
    });
    done.get(5, TimeUnit.SECONDS);
  }

  @Test
  void of_sameLoop_isOneInstance_whateverContextOfItAsks() throws Exception {
    CompletableFuture<Boolean> same = new CompletableFuture<>();
    loop.runOnContext(v -> {
      Context duplicate = ((io.vertx.core.internal.ContextInternal) loop).duplicate();
      same.complete(Deadlines.of(loop) == Deadlines.of(duplicate));
    });
    assertTrue(same.get(5, TimeUnit.SECONDS));
  }

  @Test
  void after_notCalledOff_runsOnceTheDelayPassed_onTheContextThatSetIt() throws Exception {
    CompletableFuture<Context> ranOn = new CompletableFuture<>();
    long[] setAt = new long[1];
    long[] firedAt = new long[1];
    onLoop(d -> {
      setAt[0] = System.nanoTime();
      d.after(50, () -> {
        firedAt[0] = System.nanoTime();
        ranOn.complete(Vertx.currentContext());
      });
    });
    assertSame(loop, ranOn.get(5, TimeUnit.SECONDS));
    assertTrue(TimeUnit.NANOSECONDS.toMillis(firedAt[0] - setAt[0]) >= 50, "ran before its delay");
  }

  @Test
  void cancel_theEarliest_othersOfTheSameLengthStillRun_inOrder() throws Exception {
    CountDownLatch two = new CountDownLatch(2);
    Deadlines.Deadline[] first = new Deadlines.Deadline[1];
    onLoop(d -> {
      first[0] = d.after(80, () -> ran.add("first"));
      d.after(80, () -> {
        ran.add("second");
        two.countDown();
      });
      d.after(80, () -> {
        ran.add("third");
        two.countDown();
      });
      first[0].cancel();
      first[0].cancel(); // twice: nothing more
    });
    assertTrue(two.await(5, TimeUnit.SECONDS));
    assertEquals(List.of("second", "third"), ran);
  }

  @Test
  void cancel_aLaterOne_theEarlierStillRuns_theLaterNever() throws Exception {
    CountDownLatch later = new CountDownLatch(1);
    onLoop(d -> {
      d.after(30, () -> ran.add("kept"));
      d.after(30, () -> ran.add("called off")).cancel();
      d.after(200, later::countDown); // a different length, after both
    });
    assertTrue(later.await(5, TimeUnit.SECONDS));
    assertEquals(List.of("kept"), ran);
  }

  @Test
  void deadlinesSetOverTime_eachRunsAfterItsOwnDelay() throws Exception {
    CountDownLatch all = new CountDownLatch(5);
    List<Long> lateness = new CopyOnWriteArrayList<>();
    for (int i = 0; i < 5; i++) {
      onLoop(d -> {
        long due = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(40);
        d.after(40, () -> {
          lateness.add(System.nanoTime() - due);
          all.countDown();
        });
      });
      CountDownLatch gap = new CountDownLatch(1);
      vertx.setTimer(15, id -> gap.countDown());
      assertTrue(gap.await(5, TimeUnit.SECONDS));
    }
    assertTrue(all.await(5, TimeUnit.SECONDS));
    assertTrue(lateness.stream().allMatch(l -> l >= 0), "a deadline ran early: " + lateness);
  }

  @Test
  void manyDistinctLengths_pastTheListsKept_stillRunAndCancel() throws Exception {
    int n = Deadlines.MAX_LINES + 8;
    CountDownLatch all = new CountDownLatch(n);
    onLoop(d -> {
      for (int i = 0; i < n; i++) {
        int id = i;
        d.after(10 + i, () -> {
          ran.add("r" + id);
          all.countDown();
        });
      }
      d.after(5 + n + 1, () -> ran.add("called off, past the lists")).cancel();
      d.after(12, () -> ran.add("called off, in a list")).cancel();
    });
    assertTrue(all.await(5, TimeUnit.SECONDS));
    CountDownLatch after = new CountDownLatch(1);
    onLoop(d -> d.after(60, after::countDown));
    assertTrue(after.await(5, TimeUnit.SECONDS));
    assertEquals(n, ran.size(), ran.toString());
  }

  @Test
  void cancel_fromAnotherThread_whileTheLoopAddsToTheSameList_losesNoDeadline() throws Exception {
    // two other threads call off every other deadline while the loop goes on adding to the same
    // list: were the list changed off its loop, links would be lost and deadlines with them (a
    // race: without the hand-off to the loop this failed in 4 of 11 runs)
    int pairs = 100_000;
    BlockingQueue<Deadlines.Deadline> toCancel = new LinkedBlockingQueue<>();
    AtomicInteger kept = new AtomicInteger();
    AtomicInteger calledOffRan = new AtomicInteger();
    for (int chunk = 0; chunk < pairs / 100; chunk++) {
      loop.runOnContext(v -> {
        Deadlines d = Deadlines.of(Vertx.currentContext());
        for (int i = 0; i < 100; i++) {
          toCancel.add(d.after(50, calledOffRan::incrementAndGet));
          d.after(50, kept::incrementAndGet);
        }
      });
    }
    ExecutorService cancellers = Executors.newFixedThreadPool(2);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        done.add(cancellers.submit(() -> {
          for (int i = 0; i < pairs / 2; i++) {
            Deadlines.Deadline victim = toCancel.poll(5, TimeUnit.SECONDS);
            assertNotNull(victim);
            victim.cancel();
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get(30, TimeUnit.SECONDS);
      }
    } finally {
      cancellers.shutdownNow();
    }
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (kept.get() < pairs && System.nanoTime() < until) {
      Thread.sleep(10);
    }
    assertEquals(pairs, kept.get());
    assertEquals(0, calledOffRan.get());
  }

  @Test
  void after_offTheLoopThread_isAPlainTimer_thatRunsAndCancels() throws Exception {
    Deadlines d = Deadlines.of(loop);
    CountDownLatch fired = new CountDownLatch(1);
    d.after(20, () -> ran.add("called off")).cancel();
    d.after(40, fired::countDown);
    assertTrue(fired.await(5, TimeUnit.SECONDS));
    assertEquals(List.of(), ran);
  }
}
