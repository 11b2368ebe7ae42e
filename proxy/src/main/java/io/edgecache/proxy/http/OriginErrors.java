package io.edgecache.proxy.http;

import io.netty.channel.ConnectTimeoutException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.util.concurrent.TimeoutException;

/**
 * The one place where an origin failure becomes a status: a timeout (connecting or waiting for
 * the response) is 504 Gateway Timeout, anything else (refused, reset, DNS, protocol) is 502.
 */
final class OriginErrors {
  private OriginErrors() {}

  record Failure(int status, String detail) {
    /** The metric label: connect, timeout, dns or reset. */
    String kind() {
      return switch (detail) {
        case "origin-timeout" -> "timeout";
        case "origin-unreachable" -> "connect";
        case "origin-dns" -> "dns";
        default -> "reset";
      };
    }
  }

  static Failure classify(Throwable t) {
    Throwable c = t;
    while (c != null) {
      if (c instanceof TimeoutException || c instanceof ConnectTimeoutException
          || c.getClass().getSimpleName().contains("Timeout")) {
        return new Failure(504, "origin-timeout");
      }
      if (c instanceof ConnectException) {
        return new Failure(502, "origin-unreachable");
      }
      if (c instanceof UnknownHostException) {
        return new Failure(502, "origin-dns");
      }
      c = c.getCause();
    }
    return new Failure(502, "origin-error");
  }
}
