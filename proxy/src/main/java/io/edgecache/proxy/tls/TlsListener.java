package io.edgecache.proxy.tls;

import io.edgecache.proxy.config.ProxyConfig;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.ServerSSLOptions;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * How the HTTPS listener's server options differ from the plain one's: TLS with the configured
 * protocol versions ({@code listen.tls.protocols}, TLS 1.2 and 1.3 by default; nothing older can
 * be configured) and {@link TlsCiphers#defaults()}; ALPN offering {@code h2} then
 * {@code http/1.1} ({@code http/1.1} only with {@code listen.tls.http2: false}); and the HTTP/2
 * settings announced to every client: at most {@code listen.tls.maxConcurrentStreams} open
 * streams per connection. The JDK's TLS implementation serves (no native provider).
 *
 * <p>Pure functions over option objects; thread-safe.
 */
public final class TlsListener {
  private TlsListener() {}

  /** Turns {@code so} (the plain listener's options) into the HTTPS listener's, serving {@code material}. */
  public static HttpServerOptions apply(HttpServerOptions so, ProxyConfig.Tls tls, TlsMaterial material) {
    so.setSsl(true)
        .setUseAlpn(true)
        .setAlpnVersions(tls.http2() ? List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1) : List.of(HttpVersion.HTTP_1_1))
        .setInitialSettings(new Http2Settings().setMaxConcurrentStreams(tls.maxConcurrentStreams()))
        .setKeyCertOptions(material.keyCertOptions())
        .setEnabledSecureTransportProtocols(new LinkedHashSet<>(tls.protocols()));
    for (String suite : TlsCiphers.defaults()) {
      so.addEnabledCipherSuite(suite);
    }
    return so;
  }

  /** The TLS options of a listener made by {@link #apply}, serving {@code next} instead (for a reload). */
  public static ServerSSLOptions withMaterial(HttpServerOptions so, TlsMaterial next) {
    return so.getSslOptions().copy().setKeyCertOptions(next.keyCertOptions());
  }
}
