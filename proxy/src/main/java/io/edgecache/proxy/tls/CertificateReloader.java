package io.edgecache.proxy.tls;

import io.edgecache.proxy.config.ConfigException;
import io.edgecache.proxy.config.ProxyConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the HTTPS listener's certificate current without dropping a connection.
 *
 * <p><b>How.</b> {@link #check} reads both PEM files; when their bytes differ from the pair being
 * served it checks the new pair ({@link TlsMaterial}) and, if it is usable, hands it to every
 * listener instance through Vert.x's {@code HttpServer.updateSSLOptions}: connections already
 * open keep the session they negotiated, new handshakes get the new certificate. A pair that
 * fails a check (a key that does not match, a truncated file, a missing file) is not served: the
 * running pair stays and one WARN line names the key, the file and the problem. The same broken
 * bytes are not logged twice by the watcher, so a file left broken does not flood the log.
 *
 * <p><b>When.</b> On {@code POST /reload} and SIGHUP (through {@code ProxyServer.reload}) and,
 * unless {@code listen.tls.watchInterval} is {@code "0s"}, every interval on a worker thread. A
 * renewal tool that writes the certificate and then the key is seen half-way at worst: the new
 * certificate with the old key fails the match check, the running pair stays, and the next look
 * finds both files new.
 *
 * <p><b>Threads.</b> {@link #check} reads files and waits for the listeners: call it on a worker
 * thread (the admin handler's {@code executeBlocking}, the signal thread, the watcher). It is
 * synchronized, so the watcher and a reload never interleave.
 */
public final class CertificateReloader {
  private static final Logger log = LoggerFactory.getLogger("edgecache");

  /** What a check did. */
  public enum Kind { UNCHANGED, RELOADED, KEPT }

  /** The outcome of one check, as {@code POST /reload} reports it. */
  public record Outcome(Kind kind, String message) {}

  private final ProxyConfig.Tls tls;
  private final String source;
  private final Function<TlsMaterial, Future<?>> serve;
  private volatile TlsMaterial current;
  private byte[] failedCert;
  private byte[] failedKey;
  private String failedMessage;
  private long timerId = -1;
  private Vertx vertx;
  private final java.util.concurrent.atomic.AtomicLong reloaded = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong kept = new java.util.concurrent.atomic.AtomicLong();

  /**
   * @param first the pair the listeners were started with
   * @param serve hands a new pair to every listener instance; its future completes when all have it
   */
  public CertificateReloader(ProxyConfig.Tls tls, String source, TlsMaterial first, Function<TlsMaterial, Future<?>> serve) {
    this.tls = tls;
    this.source = source;
    this.current = first;
    this.serve = serve;
  }

  /** Reloads that served a new pair. */
  public long reloads() {
    return reloaded.get();
  }

  /** Reloads that kept the previous pair because the new files were unusable. */
  public long refusals() {
    return kept.get();
  }

  /** The pair being served. */
  public TlsMaterial current() {
    return current;
  }

  /** Starts looking at the files every {@code listen.tls.watchInterval} (nothing when it is 0). */
  public synchronized void watch(Vertx on) {
    if (tls.watchIntervalMs() <= 0 || timerId >= 0) {
      return;
    }
    vertx = on;
    timerId = on.setPeriodic(tls.watchIntervalMs(), id -> on.executeBlocking(() -> check(false), false));
  }

  /** Stops the watcher. */
  public synchronized void close() {
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
      timerId = -1;
    }
  }

  /**
   * Reads the files and serves them if they changed and are usable. {@code explicit} (a reload
   * someone asked for) logs a refusal even when the same broken files were refused before.
   */
  public synchronized Outcome check(boolean explicit) {
    byte[] cert = null;
    byte[] key = null;
    TlsMaterial next;
    try {
      cert = TlsMaterial.read(source, "certFile", tls.certFile());
      key = TlsMaterial.read(source, "keyFile", tls.keyFile());
      if (current.same(cert, key)) {
        return new Outcome(Kind.UNCHANGED, "certificate unchanged (" + current.describe() + ")");
      }
      if (!explicit && failedMessage != null && Arrays.equals(cert, failedCert) && Arrays.equals(key, failedKey)) {
        return new Outcome(Kind.KEPT, failedMessage);
      }
      next = TlsMaterial.of(cert, key, tls, source);
    } catch (ConfigException e) {
      return refused(cert, key, e.getMessage(), explicit);
    }
    try {
      serve.apply(next).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS); // blocking-ok: worker thread
    } catch (Exception e) {
      Throwable c = e.getCause() != null ? e.getCause() : e;
      return refused(cert, key, "the listener refused the new certificate: " + c, explicit);
    }
    current = next;
    reloaded.incrementAndGet();
    failedCert = null;
    failedKey = null;
    failedMessage = null;
    log.info("TLS certificate reloaded: {}", next.describe());
    return new Outcome(Kind.RELOADED, "certificate reloaded (" + next.describe() + ")");
  }

  private Outcome refused(byte[] cert, byte[] key, String why, boolean explicit) {
    String message = "kept the previous certificate: " + why;
    boolean repeated = message.equals(failedMessage);
    if (!repeated || explicit) {
      kept.incrementAndGet(); // a new refusal (the watcher finding the same broken files again is not one)
    }
    failedCert = cert;
    failedKey = key;
    failedMessage = message;
    if (explicit || !repeated) {
      log.warn("TLS certificate not reloaded, still serving {}: {}", current.describe(), why);
    }
    return new Outcome(Kind.KEPT, message);
  }
}
