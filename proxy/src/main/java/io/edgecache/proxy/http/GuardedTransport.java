package io.edgecache.proxy.http;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.InternetProtocolFamily;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.net.ClientOptionsBase;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.transport.Transport;
import java.util.concurrent.ThreadFactory;

/**
 * A Vert.x transport that puts {@link ReadMemoryGuard} on every socket it makes, before the
 * socket's first read: each connection of a Vert.x instance built on it, whoever opens it. That
 * is the traffic and admin listeners and the origin and health-check clients, and also the
 * connections Vert.x opens for itself, which edgecache never sees: the clustered event bus's
 * links to the other members (purges and their acknowledgements), which share the event loops
 * with the traffic. One read there that found no direct memory would otherwise end its event
 * loop's thread and with it every client connection on that loop.
 *
 * <p>Outgoing sockets get the guard as they are made ({@link #channelFactory}); accepted ones as
 * they are registered with their event loop, ahead of Vert.x's own initializer
 * ({@link #configure(NetServerOptions, boolean, ServerBootstrap)}). Everything else is the
 * wrapped transport's. Only io_uring sockets are changed ({@link ReadMemoryGuard#install}).
 */
public final class GuardedTransport implements Transport {
  private final Transport inner;
  private final Spi spi;

  private GuardedTransport(Transport inner) {
    this.inner = inner;
    this.spi = new Spi(inner.implementation());
  }

  /** {@code t} with the guard on its sockets; {@code null} stays null (a transport not on the class path). */
  public static Transport of(Transport t) {
    return t == null || t instanceof GuardedTransport ? t : new GuardedTransport(t);
  }

  @Override
  public String name() {
    return inner.name();
  }

  @Override
  public boolean available() {
    return inner.available();
  }

  @Override
  public Throwable unavailabilityCause() {
    return inner.unavailabilityCause();
  }

  @Override
  public io.vertx.core.spi.transport.Transport implementation() {
    return spi;
  }

  /** The wrapped implementation; every call but the three that make sockets goes straight through. */
  private static final class Spi implements io.vertx.core.spi.transport.Transport {
    private final io.vertx.core.spi.transport.Transport inner;

    Spi(io.vertx.core.spi.transport.Transport inner) {
      this.inner = inner;
    }

    @Override
    public ChannelFactory<? extends Channel> channelFactory(boolean domainSocket) {
      ChannelFactory<? extends Channel> made = inner.channelFactory(domainSocket);
      return () -> {
        Channel ch = made.newChannel();
        ReadMemoryGuard.install(ch);
        return ch;
      };
    }

    @Override
    public void configure(NetServerOptions options, boolean domainSocket, ServerBootstrap bootstrap) {
      inner.configure(options, domainSocket, bootstrap);
      ChannelHandler vertx = bootstrap.config().childHandler();
      if (vertx != null) {
        bootstrap.childHandler(new Accepted(vertx));
      }
    }

    @Override
    public void configure(ClientOptionsBase options, int connectTimeout, boolean domainSocket, Bootstrap bootstrap) {
      inner.configure(options, connectTimeout, domainSocket, bootstrap);
    }

    @Override
    public void configure(DatagramChannel channel, DatagramSocketOptions options) {
      inner.configure(channel, options);
    }

    @Override
    public boolean supportsDomainSockets() {
      return inner.supportsDomainSockets();
    }

    @Override
    public boolean supportFileRegion() {
      return inner.supportFileRegion();
    }

    @Override
    public boolean isAvailable() {
      return inner.isAvailable();
    }

    @Override
    public Throwable unavailabilityCause() {
      return inner.unavailabilityCause();
    }

    @Override
    public java.net.SocketAddress convert(SocketAddress address) {
      return inner.convert(address);
    }

    @Override
    public SocketAddress convert(java.net.SocketAddress address) {
      return inner.convert(address);
    }

    @Override
    public IoHandlerFactory ioHandlerFactory() {
      return inner.ioHandlerFactory();
    }

    @Override
    public EventLoopGroup eventLoopGroup(int type, int nThreads, ThreadFactory threadFactory, int ioRatio) {
      return inner.eventLoopGroup(type, nThreads, threadFactory, ioRatio);
    }

    @Override
    public DatagramChannel datagramChannel() {
      return inner.datagramChannel();
    }

    @Override
    public DatagramChannel datagramChannel(InternetProtocolFamily family) {
      return inner.datagramChannel(family);
    }

    @Override
    public ChannelFactory<? extends ServerChannel> serverChannelFactory(boolean domainSocket) {
      return inner.serverChannelFactory(domainSocket);
    }
  }

  /**
   * Runs on an accepted socket's event loop when it is registered, before its first read: puts
   * the guard on, then hands the socket to Vert.x's initializer, as it would have had it.
   */
  @ChannelHandler.Sharable
  private static final class Accepted extends ChannelInitializer<Channel> {
    private final ChannelHandler vertx;

    Accepted(ChannelHandler vertx) {
      this.vertx = vertx;
    }

    @Override
    protected void initChannel(Channel ch) {
      ReadMemoryGuard.install(ch);
      ch.pipeline().addLast(vertx);
    }
  }
}
