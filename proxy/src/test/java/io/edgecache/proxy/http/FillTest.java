package io.edgecache.proxy.http;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.ResponseView;
import io.edgecache.storage.DiskWriter;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link Fill}: what each subscriber is told, in which order, and on which context. */
class FillTest {
  private static final Fill.Head HEAD = new Fill.Head(
      new ResponseView(200, Headers.of("content-type", "text/plain"), 0, 0), "OK", 6, null);
  private static final OriginErrors.Failure BAD_GATEWAY = OriginErrors.Failure.UNREACHABLE;

  private Vertx vertx;

  @BeforeEach
  void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void closeVertx() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** A fresh event-loop context of its own (one verticle deployment each), like a client connection's. */
  static Context newContext(Vertx vertx) throws Exception {
    Promise<Context> started = Promise.promise();
    vertx.deployVerticle(new VerticleBase() {
      @Override
      public Future<?> start() {
        started.complete(context);
        return Future.succeededFuture();
      }
    }).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    return started.future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Records what it is told, and whether each call ran on its own context. */
  static final class Recorder implements Fill.Subscriber {
    private final Context context;
    private final List<String> events = new ArrayList<>();
    private final List<String> offContext = new ArrayList<>();

    Recorder(Context context) {
      this.context = context;
    }

    @Override
    public Context context() {
      return context;
    }

    @Override
    public void onHead(Fill.Head head) {
      record("head " + head.view().status() + " " + head.statusMessage());
    }

    @Override
    public void onData(Buffer data) {
      record("data " + data);
    }

    @Override
    public void onEnd() {
      record("end");
    }

    @Override
    public void onTail(DiskWriter writer, io.edgecache.storage.Store.Pin hold) {
      record("tail " + writer.key());
    }

    @Override
    public void onAbort(OriginErrors.Failure failure, boolean headSent) {
      record("abort " + (failure == null ? "not-shareable" : failure.status()) + (headSent ? " after head" : " before head"));
    }

    private synchronized void record(String event) {
      if (Vertx.currentContext() != context) {
        offContext.add(event + " on " + Thread.currentThread().getName());
      }
      events.add(event);
    }

    synchronized List<String> events() {
      return List.copyOf(events);
    }

    synchronized List<String> offContext() {
      return List.copyOf(offContext);
    }

    /** Waits until {@code expected} was recorded (and nothing else), then checks every call ran on the context. */
    void awaitExactly(String... expected) {
      await().atMost(Duration.ofSeconds(5)).until(() -> events().size() >= expected.length);
      assertEquals(List.of(expected), events());
      assertEquals(List.of(), offContext());
    }
  }

  @Test
  void publish_twoSubscribersOnTheirOwnContexts_eachGetHeadDataEndInOrderOnItsContext() throws Exception {
    Fill fill = new Fill("k");
    Recorder a = new Recorder(newContext(vertx));
    Recorder b = new Recorder(newContext(vertx));
    assertTrue(fill.subscribe(a));
    assertTrue(fill.subscribe(b));
    assertEquals(2, fill.subscribers());

    fill.head(HEAD);
    for (int i = 0; i < 50; i++) {
      fill.data(Buffer.buffer("b" + i));
    }
    fill.end();

    List<String> expected = new ArrayList<>();
    expected.add("head 200 OK");
    for (int i = 0; i < 50; i++) {
      expected.add("data b" + i);
    }
    expected.add("end");
    a.awaitExactly(expected.toArray(String[]::new));
    b.awaitExactly(expected.toArray(String[]::new));
  }

  @Test
  void publish_fromTheLeadersOwnEventLoop_reachesASubscriberOnAnotherContextInOrder() throws Exception {
    Fill fill = new Fill("k");
    Recorder sub = new Recorder(newContext(vertx));
    Context leader = newContext(vertx);
    assertTrue(fill.subscribe(sub));
    leader.runOnContext(v -> {
      fill.head(HEAD);
      fill.data(Buffer.buffer("one"));
      fill.data(Buffer.buffer("two"));
      fill.end();
    });
    sub.awaitExactly("head 200 OK", "data one", "data two", "end");
  }

  @Test
  void subscribe_afterHeadAndSomeData_replaysThemThenContinues() throws Exception {
    Fill fill = new Fill("k");
    fill.head(HEAD);
    fill.data(Buffer.buffer("one"));
    fill.data(Buffer.buffer("two"));
    Recorder late = new Recorder(newContext(vertx));
    assertTrue(fill.subscribe(late));
    fill.data(Buffer.buffer("three"));
    fill.end();
    late.awaitExactly("head 200 OK", "data one", "data two", "data three", "end");
  }

  @Test
  void subscribe_beforeHead_getsNothingUntilTheHead() throws Exception {
    Fill fill = new Fill("k");
    Recorder early = new Recorder(newContext(vertx));
    assertTrue(fill.subscribe(early));
    // nothing is published, so nothing can arrive: a round trip through its context proves the queue is empty
    early.context().runOnContext(v -> early.record("probe"));
    early.awaitExactly("probe");
  }

  @Test
  void subscribe_afterStopRetaining_isRefused() throws Exception {
    Fill fill = new Fill("k");
    fill.head(HEAD);
    fill.data(Buffer.buffer("one"));
    fill.stopRetaining();
    assertFalse(fill.subscribe(new Recorder(newContext(vertx))));
    assertEquals(0, fill.subscribers());
  }

  @Test
  void stopRetaining_subscribersAlreadyAttached_keepReceivingTheRest() throws Exception {
    Fill fill = new Fill("k");
    Recorder attached = new Recorder(newContext(vertx));
    assertTrue(fill.subscribe(attached));
    fill.head(HEAD);
    fill.data(Buffer.buffer("one"));
    fill.stopRetaining();
    fill.data(Buffer.buffer("two"));
    fill.end();
    attached.awaitExactly("head 200 OK", "data one", "data two", "end");
  }

  @Test
  void subscribe_afterEnd_isRefused() throws Exception {
    Fill fill = new Fill("k");
    fill.head(HEAD);
    fill.end();
    assertFalse(fill.subscribe(new Recorder(newContext(vertx))));
  }

  @Test
  void abort_beforeHeadWithoutFailure_tellsSubscribersToGoToTheOriginThemselves() throws Exception {
    Fill fill = new Fill("k");
    Recorder a = new Recorder(newContext(vertx));
    Recorder b = new Recorder(newContext(vertx));
    fill.subscribe(a);
    fill.subscribe(b);
    fill.abort(null);
    a.awaitExactly("abort not-shareable before head");
    b.awaitExactly("abort not-shareable before head");
    assertEquals(0, fill.subscribers());
  }

  @Test
  void abort_beforeHeadWithFailure_passesTheFailureOn() throws Exception {
    Fill fill = new Fill("k");
    Recorder sub = new Recorder(newContext(vertx));
    fill.subscribe(sub);
    fill.abort(BAD_GATEWAY);
    sub.awaitExactly("abort 502 before head");
  }

  @Test
  void abort_afterHead_saysTheHeadWasSentAfterWhatWasDelivered() throws Exception {
    Fill fill = new Fill("k");
    Recorder sub = new Recorder(newContext(vertx));
    fill.subscribe(sub);
    fill.head(HEAD);
    fill.data(Buffer.buffer("one"));
    fill.abort(BAD_GATEWAY);
    sub.awaitExactly("head 200 OK", "data one", "abort 502 after head");
  }

  @Test
  void subscribe_afterAbort_isRefused() throws Exception {
    Fill fill = new Fill("k");
    fill.abort(null);
    assertFalse(fill.subscribe(new Recorder(newContext(vertx))));
  }

  @Test
  void abort_afterEnd_isIgnored() throws Exception {
    Fill fill = new Fill("k");
    Recorder sub = new Recorder(newContext(vertx));
    fill.subscribe(sub);
    fill.head(HEAD);
    fill.end();
    fill.abort(BAD_GATEWAY);
    fill.abort(null);
    sub.awaitExactly("head 200 OK", "end");
    sub.context().runOnContext(v -> sub.record("probe"));
    sub.awaitExactly("head 200 OK", "end", "probe");
  }
}
