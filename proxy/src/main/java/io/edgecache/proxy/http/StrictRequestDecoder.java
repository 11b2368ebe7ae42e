package io.edgecache.proxy.http;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpMessage;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import io.vertx.core.net.impl.VertxConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Vert.x's request decoder, except that a request carrying both Transfer-Encoding and
 * Content-Length is marked instead of silently losing its Content-Length.
 *
 * <p>Netty follows RFC 9112 6.3 by dropping Content-Length, which is safe for framing, but the
 * same section says such a message "ought to be handled as an error" and the server MUST close the
 * connection after responding: it is the signature of a request-smuggling attempt. The mark lets
 * the exchange answer 400 and close. This uses Vert.x internals (the pipeline's
 * {@code httpDecoder}); if they change, {@link #install} does nothing and the Netty behaviour
 * (Content-Length dropped, request framed by chunked) remains.
 */
final class StrictRequestDecoder extends VertxHttpRequestDecoder {
  /** Set on a request whose framing was ambiguous; never forwarded (the request is refused). */
  static final String AMBIGUOUS_FRAMING = "x-edgecache-ambiguous-framing";
  private static final Logger log = LoggerFactory.getLogger(StrictRequestDecoder.class);
  private static volatile boolean warned;

  StrictRequestDecoder(HttpServerOptions options) {
    super(options);
  }

  @Override
  protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
    message.headers().set(AMBIGUOUS_FRAMING, "1");
    super.handleTransferEncodingChunkedWithContentLength(message);
  }

  /** Replaces the connection's request decoder, before it has read anything. */
  static void install(HttpConnection conn, HttpServerOptions options) {
    try {
      if (conn instanceof VertxConnection vc) {
        ChannelPipeline p = vc.channelHandlerContext().pipeline();
        if (p.get("httpDecoder") instanceof VertxHttpRequestDecoder) {
          p.replace("httpDecoder", "httpDecoder", new StrictRequestDecoder(options));
          return;
        }
      }
    } catch (RuntimeException e) {
      // fall through to the warning
    }
    if (!warned) {
      warned = true;
      log.warn("cannot install the strict request decoder; ambiguous framing falls back to Netty's handling");
    }
  }

  /** Closes the connection's channel at once (no graceful shutdown), if it can be reached. */
  static void closeNow(HttpConnection conn) {
    if (conn instanceof VertxConnection vc) {
      vc.channelHandlerContext().channel().close();
    } else {
      conn.close();
    }
  }
}
