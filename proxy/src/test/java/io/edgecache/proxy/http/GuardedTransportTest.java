package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import io.vertx.core.transport.Transport;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Sockets Vert.x makes on its own (the clustered event bus uses the same NetServer and NetClient)
 * get the read guard from the transport, and a read there that finds no memory ends only its
 * connection: the one event loop goes on serving. io_uring only; skipped where it is not usable.
 */
class GuardedTransportTest {
  private Vertx vertx;

  @BeforeEach
  void start() {
    assumeTrue(Transport.IO_URING != null && Transport.IO_URING.available(), "io_uring is not usable here");
    vertx = Vertx.builder().with(new VertxOptions().setEventLoopPoolSize(1))
        .withTransport(GuardedTransport.of(Transport.IO_URING)).build();
  }

  @AfterEach
  void stop() throws Exception {
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void netServerAndNetClient_acceptedAndOpenedSockets_carryTheGuard() throws Exception {
    CompletableFuture<Channel> accepted = new CompletableFuture<>();
    NetServer server = vertx.createNetServer().connectHandler(s -> accepted.complete(channel(s)));
    int port = await(server.listen(0, "127.0.0.1")).actualPort();

    NetSocket opened = await(vertx.createNetClient().connect(port, "127.0.0.1"));

    assertInstanceOf(ReadMemoryGuard.class, accepted.get(10, TimeUnit.SECONDS).config().getRecvByteBufAllocator());
    assertInstanceOf(ReadMemoryGuard.class, channel(opened).config().getRecvByteBufAllocator());
  }

  @Test
  void netServer_aReadThatFindsNoMemory_endsThatConnection_andTheEventLoopServesTheNext() throws Exception {
    AtomicBoolean first = new AtomicBoolean(true);
    NetServer echo = vertx.createNetServer().connectHandler(s -> {
      if (first.getAndSet(false)) {
        channel(s).config().setAllocator(new NoMemory()); // every read of this one finds none
      }
      s.handler(s::write);
    });
    int port = await(echo.listen(0, "127.0.0.1")).actualPort();

    try (Socket starved = connect(port)) {
      starved.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
      assertTrue(closed(starved.getInputStream()), "the starved connection was closed");
    }
    try (Socket next = connect(port)) {
      OutputStream out = next.getOutputStream();
      out.write("again".getBytes(StandardCharsets.US_ASCII));
      assertArrayEquals("again".getBytes(StandardCharsets.US_ASCII), next.getInputStream().readNBytes(5),
          "the same (only) event loop still answers");
    }
  }

  /** Reads to the end: true once the peer closed (end of stream, or reset over unread bytes). */
  private static boolean closed(InputStream in) throws Exception {
    try {
      while (in.read() >= 0) {
        // an echo of a read under way before the allocator was swapped
      }
      return true;
    } catch (SocketException reset) {
      return true;
    }
  }

  private static Socket connect(int port) throws Exception {
    Socket s = new Socket();
    s.setSoTimeout(10_000);
    s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
    return s;
  }

  private static Channel channel(NetSocket s) {
    return ((NetSocketInternal) s).channelHandlerContext().channel();
  }

  private static <T> T await(io.vertx.core.Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** An allocator with no memory left, as when {@code -XX:MaxDirectMemorySize} is used up. */
  private static final class NoMemory extends AbstractByteBufAllocator {
    NoMemory() {
      super(true);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      throw new OutOfMemoryError("Java heap space (test)");
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      throw new OutOfMemoryError("Cannot reserve direct buffer memory (test)");
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }
  }
}
