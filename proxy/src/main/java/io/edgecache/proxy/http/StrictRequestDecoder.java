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
  /**
   * Set to {@code "505"} or {@code "400"} on a request whose HTTP-version this server does not
   * speak; never forwarded (the request is refused). Without it Vert.x answers such a request
   * with a 501, a server error for the client's mistake.
   */
  static final String BAD_VERSION = "x-edgecache-bad-version";
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

  /**
   * Vert.x knows only the {@code HTTP/1.0} and {@code HTTP/1.1} objects; any other version
   * reaches the request handler as null and is answered 501. Here a higher minor version of
   * HTTP/1 is read as HTTP/1.1 (RFC 9110 2.5: "SHOULD process the message as if it were in the
   * highest minor version within that major version"), and anything else is decoded as HTTP/1.1
   * with a {@link #BAD_VERSION} mark, so the request checks can refuse it.
   */
  @Override
  protected HttpMessage createMessage(String[] initialLine) {
    String version = initialLine[2];
    if (version.equals("HTTP/1.1") || version.equals("HTTP/1.0")) {
      return super.createMessage(initialLine);
    }
    HttpMessage message = super.createMessage(new String[] {initialLine[0], initialLine[1], "HTTP/1.1"});
    int refusal = versionRefusal(version);
    if (refusal != 0) {
      message.headers().set(BAD_VERSION, Integer.toString(refusal));
    }
    return message;
  }

  /**
   * 0 for an HTTP/1.x version (served as HTTP/1.1); 505 for a well-formed version of another
   * major number (RFC 9110 15.6.6); 400 for text that is not {@code HTTP-version} at all
   * ({@code "HTTP" "/" DIGIT "." DIGIT}, case-sensitive, RFC 9112 2.3).
   */
  static int versionRefusal(String v) {
    boolean wellFormed = v.length() == 8 && v.startsWith("HTTP/") && v.charAt(6) == '.'
        && Character.isDigit(v.charAt(5)) && v.charAt(5) < 128 && Character.isDigit(v.charAt(7)) && v.charAt(7) < 128;
    if (!wellFormed) {
      return 400;
    }
    return v.charAt(5) == '1' ? 0 : 505;
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
