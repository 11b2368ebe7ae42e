package io.edgecache.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ReadBatchTest {
  private final DiskWorkers workers = new DiskWorkers("test", 2, 8);
  /** The flushes the batch asked to run at the end of the turn, in order. */
  private final List<Runnable> endOfTurn = new ArrayList<>();

  @AfterEach
  void tearDown() {
    ReadBatch.uninstallOnThisThread();
    workers.shutdownNow();
  }

  @Test
  void withoutABatchOnThisThread_aReadIsHandedOffAtOnce() throws Exception {
    assertEquals("read", ReadBatch.submit(workers, () -> "read").get(5, TimeUnit.SECONDS));
  }

  @Test
  void readsStartedInOneTurn_waitForItsEnd_thenCompleteTogetherPerWorker() throws Exception {
    ReadBatch.installOnThisThread(endOfTurn::add);
    boolean[] ran = new boolean[6];
    List<CompletableFuture<Integer>> reads = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      int n = i;
      reads.add(ReadBatch.submit(workers, () -> {
        ran[n] = true;
        return n;
      }));
    }
    // reads 0, 2 and 4 go to one worker together: when 0 completes, 4 has been read already
    CompletableFuture<Boolean> fourReadWhenZeroCompleted = reads.get(0).thenApply(v -> ran[4]);

    assertEquals(1, endOfTurn.size(), "one flush per turn, however many reads");
    workers.awaitIdle(); // a read handed off already would run now
    assertFalse(ran[0] || ran[1] || ran[5], "a read ran before the turn ended");
    assertFalse(reads.get(0).isDone());

    endOfTurn.remove(0).run();
    for (int i = 0; i < 6; i++) {
      assertEquals(i, reads.get(i).get(5, TimeUnit.SECONDS));
    }
    assertTrue(fourReadWhenZeroCompleted.get(5, TimeUnit.SECONDS));
  }

  @Test
  void theNextTurn_startsANewBatch() throws Exception {
    ReadBatch.installOnThisThread(endOfTurn::add);
    CompletableFuture<String> first = ReadBatch.submit(workers, () -> "first");
    endOfTurn.remove(0).run();
    CompletableFuture<String> second = ReadBatch.submit(workers, () -> "second");

    assertEquals(1, endOfTurn.size());
    assertEquals("first", first.get(5, TimeUnit.SECONDS));
    endOfTurn.remove(0).run();
    assertEquals("second", second.get(5, TimeUnit.SECONDS));
  }

  @Test
  void aFailingRead_failsAlone() throws Exception {
    ReadBatch.installOnThisThread(endOfTurn::add);
    CompletableFuture<String> bad = ReadBatch.submit(workers, () -> {
      throw new StoreException("chunk unreadable");
    });
    CompletableFuture<String> good = ReadBatch.submit(workers, () -> "good");
    CompletableFuture<String> alsoGood = ReadBatch.submit(workers, () -> "also good");
    endOfTurn.remove(0).run();

    ExecutionException e = assertThrows(ExecutionException.class, () -> bad.get(5, TimeUnit.SECONDS));
    assertInstanceOf(StoreException.class, e.getCause());
    assertEquals("good", good.get(5, TimeUnit.SECONDS));
    assertEquals("also good", alsoGood.get(5, TimeUnit.SECONDS));
  }

  @Test
  void aLoopThatRefusesTheFlush_getsItsReadsHandedOffAtOnce() throws Exception {
    ReadBatch.installOnThisThread(flush -> {
      throw new java.util.concurrent.RejectedExecutionException("event executor terminated");
    });

    assertEquals("first", ReadBatch.submit(workers, () -> "first").get(5, TimeUnit.SECONDS));
    assertEquals("second", ReadBatch.submit(workers, () -> "second").get(5, TimeUnit.SECONDS));
  }

  @Test
  void readsFlushedAfterTheStoreClosed_failAsClosed() {
    ReadBatch.installOnThisThread(endOfTurn::add);
    CompletableFuture<String> read = ReadBatch.submit(workers, () -> "late");
    workers.shutdownNow();
    endOfTurn.remove(0).run();

    ExecutionException e = assertThrows(ExecutionException.class, () -> read.get(5, TimeUnit.SECONDS));
    assertInstanceOf(StoreException.class, e.getCause());
    assertTrue(e.getCause().getMessage().contains("closed"), e.getCause().getMessage());
  }
}
