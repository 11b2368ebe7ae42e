package io.edgecache.proxy.http;

import io.netty.channel.ConnectTimeoutException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.util.concurrent.TimeoutException;

/**
 * The one place where an origin failure becomes a status: a timeout (connecting or waiting for
 * the response) is 504 Gateway Timeout, no server of the origin's pool up is 503 Service
 * Unavailable, anything else (refused, reset, DNS, protocol) is 502.
 */
final class OriginErrors {
  private OriginErrors() {}

  /** What went wrong with the origin: the status to answer, the Cache-Status detail, the metric label. */
  enum Failure {
    /** Connect or response timeout. */
    TIMEOUT(504, "origin-timeout", "timeout"),
    /** Connection refused. */
    UNREACHABLE(502, "origin-unreachable", "connect"),
    /** The origin's name did not resolve. */
    DNS(502, "origin-dns", "dns"),
    /** Reset, closed early, or a protocol error (may be a stale pooled connection). */
    ERROR(502, "origin-error", "reset"),
    /** Every server of the origin's pool is down (health checks) or ejected: nothing was dialled. */
    NO_SERVER(503, "no-healthy-server", "no-server"),
    /**
     * The client left before the response head (an upload broken off, a stream reset): the origin
     * request was abandoned. Nobody is answered, and it is neither an origin error nor the server's
     * failure.
     */
    CLIENT_GONE(400, "client-gone", "client-gone");

    private final int status;
    private final String detail;
    private final String metricLabel;

    Failure(int status, String detail, String metricLabel) {
      this.status = status;
      this.detail = detail;
      this.metricLabel = metricLabel;
    }

    int status() {
      return status;
    }

    /** The Cache-Status {@code detail} text. */
    String detail() {
      return detail;
    }

    /** The metric label: timeout, connect, dns, reset or no-server. */
    String metricLabel() {
      return metricLabel;
    }

    /** The text of a response made here for this failure. */
    String message() {
      return status == 504 ? "origin timed out" : status == 503 ? "no origin server is up" : "origin unreachable";
    }
  }

  static Failure classify(Throwable t) {
    Throwable c = t;
    while (c != null) {
      if (c instanceof TimeoutException || c instanceof ConnectTimeoutException
          || c.getClass().getSimpleName().contains("Timeout")) {
        return Failure.TIMEOUT;
      }
      if (c instanceof ConnectException) {
        return Failure.UNREACHABLE;
      }
      if (c instanceof UnknownHostException) {
        return Failure.DNS;
      }
      c = c.getCause();
    }
    return Failure.ERROR;
  }
}
