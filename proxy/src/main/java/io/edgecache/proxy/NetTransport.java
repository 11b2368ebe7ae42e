package io.edgecache.proxy;

import io.edgecache.proxy.config.ConfigException;
import io.edgecache.proxy.config.ProxyConfig;
import io.vertx.core.transport.Transport;

/**
 * The socket layer a {@code listen.transport} setting runs on. {@code auto} takes io_uring where
 * it works here, then epoll, then the JDK's NIO, which is always there; a transport named outright
 * that cannot run here stops start-up with one line naming the key and the reason (a kernel older
 * than 5.14, a seccomp profile refusing {@code io_uring_setup}, as Docker's default does).
 *
 * <p>io_uring queues socket reads and writes to the kernel in batches instead of a readiness
 * wake-up and a syscall per operation: the same requests cost fewer context switches, which is
 * where an unpinned two-core box spends most of a pass-through request.
 */
final class NetTransport {
  private NetTransport() {}

  /** The transport {@code wanted} resolves to on this machine; {@code source} names the config file. */
  static Transport choose(ProxyConfig.Transport wanted, String source) {
    return switch (wanted) {
      case AUTO -> usable(Transport.IO_URING) ? Transport.IO_URING
          : usable(Transport.EPOLL) ? Transport.EPOLL : Transport.NIO;
      case IO_URING -> named(Transport.IO_URING, wanted, source);
      case EPOLL -> named(Transport.EPOLL, wanted, source);
      case NIO -> Transport.NIO;
    };
  }

  /** The config value of a resolved transport ({@code io_uring}, {@code epoll}, {@code nio}). */
  static ProxyConfig.Transport setting(Transport t) {
    return t == Transport.IO_URING ? ProxyConfig.Transport.IO_URING
        : t == Transport.EPOLL ? ProxyConfig.Transport.EPOLL : ProxyConfig.Transport.NIO;
  }

  private static boolean usable(Transport t) {
    return t != null && t.available();
  }

  private static Transport named(Transport t, ProxyConfig.Transport name, String source) {
    if (usable(t)) {
      return t;
    }
    Throwable why = t == null ? null : t.unavailabilityCause();
    while (why != null && why.getCause() != null && why.getCause() != why) {
      why = why.getCause();
    }
    throw new ConfigException(source + ": listen.transport: \"" + name.value() + "\" is not available here ("
        + (why == null ? "its native library is missing" : why.getMessage()) + "); use \"auto\"");
  }
}
