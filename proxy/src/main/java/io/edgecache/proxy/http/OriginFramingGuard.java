package io.edgecache.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.HttpClientCodec;
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
 * Keeps a broken origin response from poisoning the next request on the same pooled connection.
 *
 * <p>With pipelining off, nothing legitimate can follow a complete response before the next
 * request is sent. An origin that sends more body bytes than its Content-Length announced leaves
 * those bytes in the decoder; left there, they would be read as the start of the <em>next</em>
 * response and fail an innocent request (which a retry would then send twice). At the end of each
 * response this guard looks at what the decoder still holds; if anything, it drops it and closes
 * the connection so the pool never hands it out again. Uses Netty's decoder buffer through
 * reflection; if that is not possible the guard is simply not installed.
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
 */
final class OriginFramingGuard extends ChannelDuplexHandler {
  private static final Logger log = LoggerFactory.getLogger(OriginFramingGuard.class);
  private static final Method INTERNAL_BUFFER = method(ByteToMessageDecoder.class, "internalBuffer");
  private static final Method INBOUND_HANDLER = method(io.netty.channel.CombinedChannelDuplexHandler.class, "inboundHandler");
  private static final Field METHOD_QUEUE = field(HttpClientCodec.class, "queue");

  private final ByteToMessageDecoder decoder;
  private final HttpClientCodec codec;
  /** The method of the request in flight (pipelining is off: at most one). */
  private HttpMethod method;
  /** The response being decoded is a 1xx whose end is not the end of the exchange. */
  private boolean interim;
  /** The response being decoded is a 1xx that Vert.x must not see. */
  private boolean dropping;

  private OriginFramingGuard(ByteToMessageDecoder decoder, HttpClientCodec codec) {
    this.decoder = decoder;
    this.codec = codec;
  }

  static void install(HttpConnection conn) {
    if (INTERNAL_BUFFER == null || INBOUND_HANDLER == null || !(conn instanceof VertxConnection vc)) {
      return;
    }
    try {
      ChannelPipeline p = vc.channelHandlerContext().pipeline();
      HttpClientCodec codec = p.get(HttpClientCodec.class);
      if (codec != null && INBOUND_HANDLER.invoke(codec) instanceof ByteToMessageDecoder d) {
        p.addAfter(p.context(codec).name(), "edgecache-framing-guard", new OriginFramingGuard(d, codec));
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.debug("origin framing guard not installed: {}", e.toString());
    }
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
      }
    }
    ctx.fireChannelRead(msg);
    if (leftover > 0) {
      log.debug("origin {} sent {} bytes beyond its response; closing the connection", ctx.channel().remoteAddress(), leftover);
      ctx.channel().close();
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
