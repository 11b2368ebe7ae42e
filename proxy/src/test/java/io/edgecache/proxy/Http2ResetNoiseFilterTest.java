package io.edgecache.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.spi.FilterReply;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class Http2ResetNoiseFilterTest {
  private static NullPointerException vertxNpe() {
    NullPointerException e = new NullPointerException("Cannot read field \"context\" because \"stream\" is null");
    e.setStackTrace(new StackTraceElement[] {
        new StackTraceElement("io.vertx.core.http.impl.Http2ConnectionBase", "onConnectionError", "Http2ConnectionBase.java", 115),
        new StackTraceElement("io.vertx.core.http.impl.VertxHttp2ConnectionHandler", "onConnectionError", "V.java", 159)});
    return e;
  }

  private static Logger logger(String name) {
    return ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(name);
  }

  @Test
  void decide_theVertxNpe_passesOnceThenIsDenied() {
    Http2ResetNoiseFilter f = new Http2ResetNoiseFilter();
    Logger promise = logger("io.netty.util.concurrent.DefaultPromise");
    assertEquals(FilterReply.NEUTRAL, f.decide(null, promise, Level.WARN, "An exception was thrown", null, vertxNpe()));
    assertEquals(FilterReply.DENY, f.decide(null, promise, Level.WARN, "An exception was thrown", null, vertxNpe()));
    assertEquals(2, f.seen());
  }

  @Test
  void decide_theSameNpeWithoutStackTrace_fromHttp2ConnectionHandler_isDeniedToo() {
    Http2ResetNoiseFilter f = new Http2ResetNoiseFilter();
    Logger promise = logger("io.netty.util.concurrent.DefaultPromise");
    String format = "An exception was thrown by io.netty.handler.codec.http2.Http2ConnectionHandler$4.operationComplete()";
    assertEquals(FilterReply.NEUTRAL, f.decide(null, promise, Level.WARN, format, null, vertxNpe()));
    NullPointerException fast = new NullPointerException();
    fast.setStackTrace(new StackTraceElement[0]);
    assertEquals(FilterReply.DENY, f.decide(null, promise, Level.WARN, format, null, fast));
    assertEquals(FilterReply.NEUTRAL, f.decide(null, promise, Level.WARN, "An exception was thrown by x.Other.operationComplete()",
        null, fast));
  }

  @Test
  void decide_anyOtherEvent_isLeftAlone() {
    Http2ResetNoiseFilter f = new Http2ResetNoiseFilter();
    Logger promise = logger("io.netty.util.concurrent.DefaultPromise");
    NullPointerException elsewhere = new NullPointerException("x");
    for (int i = 0; i < 2; i++) {
      assertEquals(FilterReply.NEUTRAL, f.decide(null, promise, Level.WARN, "m", null, elsewhere));
      assertEquals(FilterReply.NEUTRAL, f.decide(null, promise, Level.WARN, "m", null, new IllegalStateException()));
      assertEquals(FilterReply.NEUTRAL, f.decide(null, logger("edgecache"), Level.WARN, "m", null, vertxNpe()));
      assertEquals(FilterReply.NEUTRAL, f.decide(null, promise, Level.WARN, "m", null, null));
    }
  }
}
