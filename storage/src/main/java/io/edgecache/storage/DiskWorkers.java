package io.edgecache.storage;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * The threads of one disk store: {@code workerThreads} threads named {@code edgecache-disk-N} for
 * reads, writes and removals, and one {@code edgecache-disk-compact} thread for range compactions
 * (which can take seconds and must not hold up reads) and for closing the database.
 *
 * <p>Work is optional or not. Optional work (reads, writes) takes one of {@code slots} bounded slots
 * and is answered with a fallback value when none is free or the pool is shut down: a cache may
 * skip a read or a write. Other work (removals, deletions, chunk reads of an open stream) always
 * queues, so a purge is never dropped, and fails with {@link StoreException} once shut down.
 *
 * <p>Thread-safe. Stages complete on the thread that ran the work, or on the caller's thread when
 * the work was refused.
 */
final class DiskWorkers {
  private final String name;
  private final int threads;
  private final ThreadPoolExecutor workers;
  private final ThreadPoolExecutor compactor;
  private final Semaphore slots;
  private final AtomicLong pending = new AtomicLong();
  private final LongAdder refused = new LongAdder();

  /** {@code name} prefixes the "closed" message, e.g. the store's directory. */
  DiskWorkers(String name, int threads, int slots) {
    this.name = name;
    this.threads = threads;
    this.workers = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
        named("edgecache-disk-", true));
    this.compactor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
        named("edgecache-disk-compact", false));
    this.slots = new Semaphore(slots);
  }

  /** Runs {@code work} on a worker; see the class comment for {@code optional} and {@code fallback}. */
  <T> CompletableFuture<T> submit(boolean optional, Supplier<T> work, T fallback) {
    return submitTo(workers, optional, work, fallback);
  }

  /** Work gathered by a {@link ReadBatch}: never refused before shutdown. */
  static final class Task<T> {
    private final Supplier<T> work;
    private final CompletableFuture<T> result = new CompletableFuture<>();
    private T value;
    private Throwable failure;

    Task(Supplier<T> work) {
      this.work = work;
    }

    CompletableFuture<T> result() {
      return result;
    }

    private void run() {
      try {
        value = work.get();
      } catch (RuntimeException | Error e) {
        failure = e;
      }
    }

    private void complete() {
      if (failure != null) {
        result.completeExceptionally(failure);
      } else {
        result.complete(value);
      }
    }
  }

  /**
   * Runs {@code tasks} on the workers in as few hand-offs as keep them all busy: split into one
   * group per worker (fewer when there are fewer tasks), each group one worker task that runs its
   * tasks in order and then completes them together, so their callers are woken once per group.
   */
  void submitAll(List<Task<?>> tasks) {
    int groups = Math.min(threads, tasks.size());
    for (int g = 0; g < groups; g++) {
      List<Task<?>> group = new ArrayList<>(tasks.size() / groups + 1);
      for (int i = g; i < tasks.size(); i += groups) {
        group.add(tasks.get(i));
      }
      pending.addAndGet(group.size());
      try {
        workers.execute(() -> {
          try {
            group.forEach(Task::run);
            group.forEach(Task::complete);
          } finally {
            pending.addAndGet(-group.size());
          }
        });
      } catch (RejectedExecutionException e) {
        pending.addAndGet(-group.size());
        group.forEach(t -> t.result.completeExceptionally(closed()));
      }
    }
  }

  /** Runs {@code work} on the compaction thread; never refused before shutdown. */
  <T> CompletableFuture<T> compact(Supplier<T> work) {
    return submitTo(compactor, false, work, null);
  }

  /** Optional work refused because every slot was taken. */
  long refused() {
    return refused.sum();
  }

  /** Waits, without a timeout, until no task submitted so far is queued or running. */
  void awaitIdle() {
    while (pending.get() > 0) {
      LockSupport.parkNanos(100_000);
    }
  }

  /** Lets queued work finish, then runs {@code last} on the compaction thread and stops. Blocks. */
  void shutdown(Runnable last) {
    workers.shutdown();
    awaitTermination(workers);
    CompletableFuture<Void> done = CompletableFuture.runAsync(last, compactor);
    compactor.shutdown();
    done.join();
    awaitTermination(compactor);
  }

  /** Stops the threads at once; for a store that never opened. */
  void shutdownNow() {
    workers.shutdownNow();
    compactor.shutdownNow();
  }

  private <T> CompletableFuture<T> submitTo(Executor pool, boolean optional, Supplier<T> work, T fallback) {
    if (optional && !slots.tryAcquire()) {
      refused.increment();
      return CompletableFuture.completedFuture(fallback);
    }
    CompletableFuture<T> result = new CompletableFuture<>();
    pending.incrementAndGet();
    try {
      pool.execute(() -> {
        try {
          result.complete(work.get());
        } catch (RuntimeException | Error e) {
          result.completeExceptionally(e);
        } finally {
          if (optional) {
            slots.release();
          }
          pending.decrementAndGet();
        }
      });
    } catch (RejectedExecutionException e) {
      pending.decrementAndGet();
      if (optional) {
        slots.release();
        result.complete(fallback);
      } else {
        result.completeExceptionally(closed());
      }
    }
    return result;
  }

  private StoreException closed() {
    return new StoreException(name + ": disk store is closed");
  }

  private static void awaitTermination(ExecutorService pool) {
    boolean interrupted = false;
    while (true) {
      try {
        if (pool.awaitTermination(1, TimeUnit.MINUTES)) {
          break;
        }
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private static ThreadFactory named(String prefix, boolean numbered) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, numbered ? prefix + n.incrementAndGet() : prefix);
      t.setDaemon(true);
      return t;
    };
  }
}
