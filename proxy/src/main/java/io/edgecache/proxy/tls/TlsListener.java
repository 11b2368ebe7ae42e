package io.edgecache.proxy.tls;

import io.edgecache.proxy.config.ConfigException;
import io.edgecache.proxy.config.ProxyConfig;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.ServerSSLOptions;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * How the HTTPS listener's server options differ from the plain one's: TLS with the configured
 * protocol versions ({@code listen.tls.protocols}, TLS 1.2 and 1.3 by default; nothing older can
 * be configured) and {@link TlsCiphers#defaults()}; ALPN offering {@code h2} then
 * {@code http/1.1} ({@code http/1.1} only with {@code listen.tls.http2: false}); and the HTTP/2
 * settings announced to every client: at most {@code listen.tls.maxConcurrentStreams} open
 * streams per connection, and a header list of at most {@code limits.maxHeaderBytes} (HTTP/2
 * counts 32 bytes more per field than the HTTP/1 header section it bounds there). TLS itself is BoringSSL through netty-tcnative where its native library
 * loads (linux-x86_64; {@code listen.tls.engine} {@code "auto"} or {@code "openssl"}), else the
 * JDK's ({@code "jdk"}, or {@code "auto"} elsewhere): on a 100 KiB hit over TLS 1.3 OpenSSL
 * served about a third more requests per second with a far lower p99 ({@code loadtests/tls-hit.sh}).
 *
 * <p>Pure functions over option objects; thread-safe.
 */
public final class TlsListener {
  private TlsListener() {}

  /**
   * Turns {@code so} (the plain listener's options) into the HTTPS listener's, serving
   * {@code material}; {@code maxHeaderBytes} is {@code limits.maxHeaderBytes}.
   */
  public static HttpServerOptions apply(HttpServerOptions so, ProxyConfig.Tls tls, TlsMaterial material,
      int maxHeaderBytes) {
    so.setSsl(true)
        .setUseAlpn(true)
        .setAlpnVersions(tls.http2() ? List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1) : List.of(HttpVersion.HTTP_1_1))
        .setInitialSettings(new Http2Settings().setMaxConcurrentStreams(tls.maxConcurrentStreams())
            .setMaxHeaderListSize(maxHeaderBytes))
        .setKeyCertOptions(material.keyCertOptions())
        .setEnabledSecureTransportProtocols(new LinkedHashSet<>(tls.protocols()));
    if (openSsl(tls)) {
      so.setSslEngineOptions(new OpenSSLEngineOptions());
    }
    for (String suite : TlsCiphers.defaults()) {
      so.addEnabledCipherSuite(suite);
    }
    return so;
  }

  /**
   * Refuses an engine this process cannot run: {@code "openssl"} where netty-tcnative's native
   * library does not load (another platform, a missing libc feature).
   *
   * @throws ConfigException one line naming {@code listen.tls.engine}
   */
  public static void checkEngine(ProxyConfig.Tls tls, String source) {
    if (tls.engine() == ProxyConfig.Tls.Engine.OPENSSL && !OpenSSLEngineOptions.isAvailable()) {
      Throwable why = io.netty.handler.ssl.OpenSsl.unavailabilityCause();
      throw new ConfigException(source + ": listen.tls.engine: \"openssl\" is not available here ("
          + (why == null ? "no native library" : why.getMessage()) + "); use \"jdk\"");
    }
  }

  /** Whether {@code tls} is served by OpenSSL (else by the JDK). */
  public static boolean openSsl(ProxyConfig.Tls tls) {
    return switch (tls.engine()) {
      case OPENSSL -> true;
      case JDK -> false;
      case AUTO -> OpenSSLEngineOptions.isAvailable();
    };
  }

  /** The TLS options of a listener made by {@link #apply}, serving {@code next} instead (for a reload). */
  public static ServerSSLOptions withMaterial(HttpServerOptions so, TlsMaterial next) {
    return so.getSslOptions().copy().setKeyCertOptions(next.keyCertOptions());
  }
}
