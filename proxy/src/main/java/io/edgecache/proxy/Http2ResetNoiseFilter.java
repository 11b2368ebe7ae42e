package io.edgecache.proxy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Marker;

/**
 * Keeps one known Vert.x 5.0 defect from flooding the log: when Netty fails to write an HTTP/2
 * RST_STREAM because the TLS connection is already closing, Vert.x's
 * {@code Http2ConnectionBase.onConnectionError} dereferences a null stream and Netty logs the
 * {@code NullPointerException} with its stack trace as a WARN of
 * {@code io.netty.util.concurrent.DefaultPromise}. A client sending malformed HTTP/2 requests
 * (for example a Host field that differs from {@code :authority}, which RFC 9113 8.3.1 makes
 * malformed) caused about 250 such warnings a second on the HTTPS listener. The requests are
 * refused either way; only the noise is dropped.
 *
 * <p>Exactly that event (or, once HotSpot throws it without a stack trace, an NPE without one from
 * a listener of Netty's {@code Http2ConnectionHandler}) passes once (so the defect stays visible) and is then denied; every other
 * event is left to the configuration. Installed by {@code logback.xml}; thread-safe.
 */
public final class Http2ResetNoiseFilter extends TurboFilter {
  private final AtomicLong seen = new AtomicLong();

  @Override
  public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (t == null || level != Level.WARN || !(t instanceof NullPointerException)
        || !"io.netty.util.concurrent.DefaultPromise".equals(logger.getName())) {
      return FilterReply.NEUTRAL;
    }
    StackTraceElement[] st = t.getStackTrace();
    boolean ours = st.length > 0 ? st[0].getClassName().equals("io.vertx.core.http.impl.Http2ConnectionBase")
        && st[0].getMethodName().equals("onConnectionError")
        // once the JIT has compiled the throwing code, HotSpot throws a preallocated NPE without
        // a stack trace (OmitStackTraceInFastThrow): then the listener Netty names must be HTTP/2's
        : format != null && format.contains("io.netty.handler.codec.http2.Http2ConnectionHandler");
    if (!ours) {
      return FilterReply.NEUTRAL;
    }
    return seen.getAndIncrement() == 0 ? FilterReply.NEUTRAL : FilterReply.DENY;
  }

  /** How many such events were seen (the first was logged). */
  public long seen() {
    return seen.get();
  }
}
