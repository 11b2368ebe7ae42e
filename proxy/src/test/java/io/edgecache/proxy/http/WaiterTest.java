package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.edgecache.proxy.policy.Headers;
import io.edgecache.proxy.policy.ResponseView;
import io.edgecache.proxy.policy.Vary;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class WaiterTest {
  /** Records what the waiter asked its exchange to do. */
  private static final class FakeOwner implements Waiter.Owner, Waiter.Client {
    final List<String> calls = new ArrayList<>();
    final Headers requestHeaders;
    boolean gone;

    FakeOwner(Headers requestHeaders) {
      this.requestHeaders = requestHeaders;
    }

    @Override
    public boolean clientGone() {
      return gone;
    }

    @Override
    public void refetch(CacheStatus.Fwd fwd) {
      calls.add("refetch " + fwd.token());
    }

    @Override
    public void failed(OriginErrors.Failure failure, CacheStatus.Fwd fwd) {
      calls.add("failed " + failure.detail() + " " + fwd.token());
    }

    @Override
    public void collapsedHead(Fill.Head head, CacheStatus.Fwd fwd) {
      calls.add("head " + head.view().status() + " " + fwd.token());
    }

    @Override
    public void whenClientLeft(Runnable r) {
      calls.add("whenClientLeft");
    }

    @Override
    public void data(Buffer data) {
      calls.add("data " + data.length());
    }

    @Override
    public void data(Buffer data, Runnable written) {
      data(data);
      written.run();
    }

    @Override
    public void end() {
      calls.add("end");
    }

    @Override
    public void reset() {
      calls.add("reset");
    }

    @Override
    public boolean writeQueueFull() {
      return false;
    }

    @Override
    public void drainHandler(Runnable r) {
      r.run();
    }
  }

  private static Fill.Head head(String secondaryKey, String... nameValues) {
    return new Fill.Head(new ResponseView(200, Headers.of(nameValues), 0, 0), "OK", 3, secondaryKey);
  }

  @Test
  void onHead_sameVariant_relaysHeadDataAndEnd() {
    FakeOwner owner = new FakeOwner(Headers.of());
    Waiter w = new Waiter(owner, owner, null, owner.requestHeaders, CacheStatus.Fwd.URI_MISS);
    w.onHead(head(""));
    w.onData(Buffer.buffer("abc"));
    w.onEnd();
    assertEquals(List.of("head 200 uri-miss", "data 3", "end"), owner.calls);
  }

  @Test
  void onHead_otherVariant_detachesAsVaryMissAndIgnoresTheRest() {
    FakeOwner owner = new FakeOwner(Headers.of("Accept-Language", "de"));
    Waiter w = new Waiter(owner, owner, null, owner.requestHeaders, CacheStatus.Fwd.URI_MISS);
    String english = Vary.secondaryKey(List.of("accept-language"), Headers.of("Accept-Language", "en"));
    w.onHead(head(english, "Vary", "Accept-Language"));
    w.onData(Buffer.buffer("abc"));
    w.onEnd();
    w.onAbort(OriginErrors.Failure.ERROR, true);
    assertEquals(List.of("refetch vary-miss"), owner.calls);
  }

  @Test
  void onHead_matchingVariant_relays() {
    Headers german = Headers.of("Accept-Language", "de");
    FakeOwner owner = new FakeOwner(german);
    Waiter w = new Waiter(owner, owner, null, owner.requestHeaders, CacheStatus.Fwd.VARY_MISS);
    w.onHead(head(Vary.secondaryKey(List.of("accept-language"), german), "Vary", "Accept-Language"));
    assertEquals(List.of("head 200 vary-miss"), owner.calls);
  }

  @Test
  void onAbort_beforeHeadWithoutFailure_refetchesWithItsOwnReason() {
    FakeOwner owner = new FakeOwner(Headers.of());
    new Waiter(owner, owner, null, owner.requestHeaders, CacheStatus.Fwd.URI_MISS).onAbort(null, false);
    assertEquals(List.of("refetch uri-miss"), owner.calls);
  }

  @Test
  void onAbort_beforeHeadWithFailure_answersWithTheFailure() {
    FakeOwner owner = new FakeOwner(Headers.of());
    new Waiter(owner, owner, null, owner.requestHeaders, CacheStatus.Fwd.URI_MISS).onAbort(OriginErrors.Failure.TIMEOUT, false);
    assertEquals(List.of("failed origin-timeout uri-miss"), owner.calls);
  }

  @Test
  void onAbort_afterHead_resetsTheClient() {
    FakeOwner owner = new FakeOwner(Headers.of());
    Waiter w = new Waiter(owner, owner, null, owner.requestHeaders, CacheStatus.Fwd.URI_MISS);
    w.onHead(head(""));
    w.onAbort(OriginErrors.Failure.ERROR, true);
    assertEquals(List.of("head 200 uri-miss", "reset"), owner.calls);
  }

  @Test
  void onData_clientGone_writesNothing() {
    FakeOwner owner = new FakeOwner(Headers.of());
    Waiter w = new Waiter(owner, owner, null, owner.requestHeaders, CacheStatus.Fwd.URI_MISS);
    owner.gone = true;
    w.onHead(head(""));
    w.onData(Buffer.buffer("abc"));
    w.onEnd();
    w.onAbort(OriginErrors.Failure.ERROR, true);
    assertEquals(List.of(), owner.calls);
  }
}
