package io.edgecache.proxy.http;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per request on the {@code edgecache.access} logger (stdout, asynchronous, see
 * logback.xml). {@code combined}: the Apache/nginx combined format followed by
 * {@code cache="<Cache-Status>" origin_ms=N total_ms=N}; {@code json}: one JSON object per line.
 */
final class AccessLog {
  private static final Logger LOG = LoggerFactory.getLogger("edgecache.access");
  private static final DateTimeFormatter CLF =
      DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.US).withZone(ZoneOffset.UTC);

  private AccessLog() {}

  static void write(String format, HttpServerRequest req, int status, long bytes, String cacheStatus,
      long originNanos, long totalNanos) {
    if (!LOG.isInfoEnabled()) {
      return;
    }
    String remote = req.remoteAddress() == null ? "-" : req.remoteAddress().hostAddress();
    String version = switch (req.version()) {
      case HTTP_1_0 -> "HTTP/1.0";
      case HTTP_2 -> "HTTP/2.0";
      default -> "HTTP/1.1";
    };
    double originMs = originNanos < 0 ? -1 : originNanos / 1e6;
    double totalMs = totalNanos / 1e6;
    if (format.equals("json")) {
      JsonObject o = new JsonObject()
          .put("time", ZonedDateTime.now(ZoneOffset.UTC).toString())
          .put("remote", remote).put("method", req.method().name()).put("uri", req.uri())
          .put("host", req.getHeader("Host")).put("protocol", version).put("status", status).put("bytes", bytes)
          .put("referer", req.getHeader("Referer")).put("userAgent", req.getHeader("User-Agent"))
          .put("cacheStatus", cacheStatus).put("originMs", originMs < 0 ? null : round(originMs)).put("totalMs", round(totalMs));
      LOG.info(o.encode());
      return;
    }
    StringBuilder sb = new StringBuilder(200);
    sb.append(remote).append(" - - [").append(CLF.format(java.time.Instant.now())).append("] \"")
        .append(req.method().name()).append(' ').append(req.uri()).append(' ').append(version).append("\" ")
        .append(status).append(' ').append(bytes).append(" \"").append(quote(req.getHeader("Referer")))
        .append("\" \"").append(quote(req.getHeader("User-Agent"))).append("\" cache=\"")
        .append(quote(cacheStatus)).append("\" origin_ms=").append(originMs < 0 ? "-" : String.format(Locale.ROOT, "%.1f", originMs))
        .append(" total_ms=").append(String.format(Locale.ROOT, "%.1f", totalMs));
    LOG.info(sb.toString());
  }

  private static double round(double ms) {
    return Math.round(ms * 10) / 10.0;
  }

  private static String quote(String s) {
    return s == null ? "-" : s.replace("\\", "\\\\").replace("\"", "\\\"");
  }
}
