package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class OriginErrorsTest {
  @Test
  void classify_timeout_is504OriginTimeout() {
    OriginErrors.Failure f = OriginErrors.classify(new TimeoutException("slow"));
    assertEquals(OriginErrors.Failure.TIMEOUT, f);
    assertEquals(504, f.status());
    assertEquals("origin-timeout", f.detail());
    assertEquals("timeout", f.metricLabel());
  }

  @Test
  void classify_refusedConnectWrapped_is502OriginUnreachable() {
    OriginErrors.Failure f = OriginErrors.classify(new IOException(new ConnectException("refused")));
    assertEquals(OriginErrors.Failure.UNREACHABLE, f);
    assertEquals(502, f.status());
    assertEquals("origin-unreachable", f.detail());
    assertEquals("connect", f.metricLabel());
  }

  @Test
  void classify_unknownHost_isOriginDns() {
    assertEquals(OriginErrors.Failure.DNS, OriginErrors.classify(new UnknownHostException("nowhere")));
  }

  @Test
  void classify_anythingElse_is502OriginErrorCountedAsReset() {
    OriginErrors.Failure f = OriginErrors.classify(new IOException("connection reset"));
    assertEquals(OriginErrors.Failure.ERROR, f);
    assertEquals(502, f.status());
    assertEquals("origin-error", f.detail());
    assertEquals("reset", f.metricLabel());
  }

  @Test
  void message_timeoutAndOthers_sayWhatHappened() {
    assertEquals("origin timed out", OriginErrors.Failure.TIMEOUT.message());
    assertEquals("origin unreachable", OriginErrors.Failure.ERROR.message());
  }
}
