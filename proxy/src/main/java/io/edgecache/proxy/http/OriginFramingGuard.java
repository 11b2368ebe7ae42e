package io.edgecache.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.VertxConnection;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Queue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a pooled origin connection safe to reuse: a broken response does not poison the next
 * request on it, and it is not handed out when the origin may be closing it.
 *
 * <p>With pipelining off, nothing legitimate can follow a complete response before the next
 * request is sent. An origin that sends more body bytes than its Content-Length announced leaves
 * those bytes in the decoder; left there, they would be read as the start of the <em>next</em>
 * response and fail an innocent request (which a retry would then send twice). At the end of each
 * response this guard looks at what the decoder still holds; if anything, it drops it, marks the
 * response {@code Connection: close} before Vert.x sees its end, and closes the connection. The
 * mark matters: Vert.x hands a connection whose response ended to a request already waiting for
 * one at once, before a later close; with the mark it evicts the connection first, and the waiting
 * request gets another. Uses Netty's decoder buffer through reflection; if that is not possible
 * the guard is simply not installed.
 *
 * <h2>Interim responses</h2>
 * A 1xx response (RFC 9110 15.2) is followed by more responses to the same request, so the bytes
 * the decoder holds when a 1xx ends are the final response, not garbage. {@code 100 Continue} and
 * {@code 103 Early Hints} go on to Vert.x, which hands them to the request's {@code continueHandler}
 * and {@code earlyHintsHandler}; every other 1xx ({@code 102 Processing}, unknown codes) is
 * dropped here, since Vert.x would take it for the final response. {@code 101} is not interim.
 * Netty's client codec pairs every response, 1xx included, with the method of a request it sent;
 * after a 1xx its queue is empty and the final response to a HEAD would be read as if it had a
 * body, so the guard puts the request's method back for the final response.
 *
 * <h2>Keep-Alive timeout</h2>
 * An origin that says how long it keeps an idle connection ({@code Keep-Alive: timeout=5}, as
 * Node.js and Apache httpd send) closes it at that moment by its own clock, which started when it
 * sent the response's last byte; Vert.x reuses the connection until the same number of seconds
 * after it <em>read</em> that byte. A request sent in between (a burst after a pause of exactly
 * that length) meets a closing connection and fails, and a request with a body or a method that is
 * not idempotent cannot be sent again. Vert.x 5.0.7 widens the gap: it drops an expired idle
 * connection only when its pool cleaner runs, not when it hands the connection out (the origin
 * client runs the cleaner every 250 ms, {@code ProxyVerticle.originClient}). So the guard shortens
 * the value Vert.x reads by a second ({@link #reuseSeconds}) and never lets it exceed
 * {@code upstream.idleTimeout}; the field never reaches a client (hop-by-hop). A
 * {@code timeout=1} is left as it is: a margin would leave nothing.
 */
final class OriginFramingGuard extends ChannelDuplexHandler {
  private static final Logger log = LoggerFactory.getLogger(OriginFramingGuard.class);
  private static final Method INTERNAL_BUFFER = method(ByteToMessageDecoder.class, "internalBuffer");
  private static final Method INBOUND_HANDLER = method(io.netty.channel.CombinedChannelDuplexHandler.class, "inboundHandler");
  private static final Field METHOD_QUEUE = field(HttpClientCodec.class, "queue");

  private final ByteToMessageDecoder decoder;
  private final HttpClientCodec codec;
  /** {@code upstream.idleTimeout} in whole seconds, at least 1. */
  private final int maxIdleSeconds;
  /** The method of the request in flight (pipelining is off: at most one). */
  private HttpMethod method;
  /** The response being decoded is a 1xx whose end is not the end of the exchange. */
  private boolean interim;
  /** The response being decoded is a 1xx that Vert.x must not see. */
  private boolean dropping;
  /** The head of the final response being decoded (Vert.x reads its fields again at the end). */
  private HttpResponse head;

  private OriginFramingGuard(ByteToMessageDecoder decoder, HttpClientCodec codec, int maxIdleSeconds) {
    this.decoder = decoder;
    this.codec = codec;
    this.maxIdleSeconds = maxIdleSeconds;
  }

  /**
   * Puts the guard on an HTTP/1 origin connection.
   *
   * @param maxIdleSeconds {@code upstream.idleTimeout}, in whole seconds (at least 1)
   */
  static void install(HttpConnection conn, int maxIdleSeconds) {
    if (INTERNAL_BUFFER == null || INBOUND_HANDLER == null || !(conn instanceof VertxConnection vc)) {
      return;
    }
    try {
      ChannelPipeline p = vc.channelHandlerContext().pipeline();
      HttpClientCodec codec = p.get(HttpClientCodec.class);
      if (codec != null && INBOUND_HANDLER.invoke(codec) instanceof ByteToMessageDecoder d) {
        p.addAfter(p.context(codec).name(), "edgecache-framing-guard", new OriginFramingGuard(d, codec,
            Math.max(1, maxIdleSeconds)));
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.debug("origin framing guard not installed: {}", e.toString());
    }
  }

  /**
   * How long Vert.x may keep reusing a connection whose origin sent {@code keepAlive} (the value
   * of its Keep-Alive field): a second less than the origin's {@code timeout}, at most
   * {@code maxIdleSeconds}; -1 when the field has no usable timeout (the value is then left alone).
   * Vert.x 5.0.7 does not read the digit 9 in this value ({@code HttpUtils.parseKeepAliveHeaderTimeout}
   * accepts {@code '0' <= ch < '9'} and ignores the whole value otherwise), so the result has none.
   */
  static int reuseSeconds(String keepAlive, int maxIdleSeconds) {
    int at = indexOfTimeout(keepAlive);
    if (at < 0) {
      return -1;
    }
    long n = 0;
    int i = at;
    while (i < keepAlive.length() && keepAlive.charAt(i) >= '0' && keepAlive.charAt(i) <= '9' && n < Integer.MAX_VALUE) {
      n = n * 10 + keepAlive.charAt(i++) - '0';
    }
    if (i == at || n <= 1) {
      return -1;
    }
    int s = (int) Math.min(n - 1, maxIdleSeconds);
    while (s > 1 && String.valueOf(s).indexOf('9') >= 0) {
      s--;
    }
    return s;
  }

  /** Where the digits of a {@code timeout=} parameter start, or -1. */
  private static int indexOfTimeout(String v) {
    int from = 0;
    while (from < v.length()) {
      int comma = v.indexOf(',', from);
      int end = comma < 0 ? v.length() : comma;
      int start = from;
      while (start < end && (v.charAt(start) == ' ' || v.charAt(start) == '\t')) {
        start++;
      }
      if (v.regionMatches(true, start, "timeout=", 0, 8)) {
        return start + 8;
      }
      from = end + 1;
    }
    return -1;
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    if (msg instanceof HttpRequest r) {
      method = r.method();
    }
    ctx.write(msg, promise);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof HttpResponse r) {
      int code = r.status().code();
      interim = code >= 100 && code < 200 && code != 101;
      dropping = interim && code != 100 && code != 103;
      if (interim) {
        requeueMethod();
      } else {
        head = r;
        shortenKeepAlive(r);
      }
    }
    if (interim && msg instanceof LastHttpContent) {
      boolean drop = dropping;
      interim = false;
      dropping = false;
      if (drop) {
        ReferenceCountUtil.release(msg);
      } else {
        ctx.fireChannelRead(msg);
      }
      return;
    }
    if (dropping) {
      ReferenceCountUtil.release(msg);
      return;
    }
    int leftover = 0;
    if (msg instanceof LastHttpContent) {
      ByteBuf held = (ByteBuf) INTERNAL_BUFFER.invoke(decoder);
      if (held != null && held.isReadable()) {
        leftover = held.readableBytes();
        held.skipBytes(leftover);
        if (head != null) {
          head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE); // evicted, not handed on
        }
      }
      head = null;
    }
    ctx.fireChannelRead(msg);
    if (leftover > 0) {
      log.debug("origin {} sent {} bytes beyond its response; closing the connection", ctx.channel().remoteAddress(), leftover);
      ctx.channel().close();
    }
  }

  private void shortenKeepAlive(HttpResponse r) {
    String keepAlive = r.headers().get(HttpHeaderNames.KEEP_ALIVE);
    if (keepAlive != null) {
      int s = reuseSeconds(keepAlive, maxIdleSeconds);
      if (s > 0) {
        r.headers().set(HttpHeaderNames.KEEP_ALIVE, "timeout=" + s);
      }
    }
  }

  @SuppressWarnings("unchecked")
  private void requeueMethod() {
    if (METHOD_QUEUE == null || method == null) {
      return;
    }
    try {
      Queue<HttpMethod> q = (Queue<HttpMethod>) METHOD_QUEUE.get(codec);
      if (q.isEmpty()) {
        q.offer(method);
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.debug("cannot restore the request method after a 1xx: {}", e.toString());
    }
  }

  private static Field field(Class<?> type, String name) {
    try {
      Field f = type.getDeclaredField(name);
      f.setAccessible(true);
      return f;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  private static Method method(Class<?> type, String name) {
    try {
      Method m = type.getDeclaredMethod(name);
      m.setAccessible(true);
      return m;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }
}
