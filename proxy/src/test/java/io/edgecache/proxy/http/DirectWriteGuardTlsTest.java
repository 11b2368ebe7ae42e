package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgecache.proxy.tls.TestCerts;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The guard below the TLS handler, with Netty's real TLS handler and a real client engine: when
 * the handler loses bytes for want of memory and then goes on encrypting what is queued (it does
 * so when the failure happened while it was decoding what the client sent), the client gets a
 * prefix of what was written and a closed connection, never the bytes after a hole.
 */
class DirectWriteGuardTlsTest {
  private static final int BODY = 64 * 1024;

  @TempDir
  Path dir;
  /** What the server sent that the client has not decrypted yet. */
  private final ByteBuf wire = UnpooledByteBufAllocator.DEFAULT.heapBuffer();

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = SslProvider.class, names = {"OPENSSL", "JDK"})
  void tlsHandlerThatLosesBytesWhileDecoding_clientGetsAPrefixAndTheConnectionCloses(SslProvider provider)
      throws Exception {
    TestCerts.Pair cert = TestCerts.create(dir, "guard", "edge.test");
    SslContext serverTls = SslContextBuilder.forServer(cert.cert().toFile(), cert.key().toFile())
        .sslProvider(provider).protocols("TLSv1.3").build();
    FailingAllocator memory = new FailingAllocator();
    EmbeddedChannel server = new EmbeddedChannel();
    server.config().setAllocator(memory);
    server.pipeline().addLast(serverTls.newHandler(server.alloc()));
    DirectWriteGuard.installBelowTls(server);
    SSLEngine client = TestCerts.trustAll().createSSLEngine("edge.test", 443);
    client.setUseClientMode(true);
    client.setEnabledProtocols(new String[] {"TLSv1.3"});
    ByteArrayOutputStream received = handshake(client, server);
    long closedBefore = DirectWriteGuard.CLOSED.get();

    byte[] body = new byte[BODY];
    new Random(7).nextBytes(body);
    ByteBuf direct = UnpooledByteBufAllocator.DEFAULT.directBuffer(BODY).writeBytes(body);
    server.write(direct); // queued in the TLS handler, not flushed yet
    memory.failNext = true; // the buffer it encrypts the first 16 KiB into cannot be had (the first that large)
    ByteBuf more = clientRecord(client, "more");
    Throwable passedOn = null;
    try {
      server.writeInbound(more);
      server.runPendingTasks();
      server.checkException();
    } catch (Throwable e) { // the TLS handler's failure, passed on (JUnit would end the run on an OutOfMemoryError)
      passedOn = e;
    }
    assertTrue(passedOn == null || passedOn instanceof OutOfMemoryError || passedOn.getCause() instanceof OutOfMemoryError,
        String.valueOf(passedOn));

    received.write(drain(client, server));
    byte[] got = received.toByteArray();
    assertTrue(memory.failed, "the allocation failed as arranged");
    assertArrayEquals(Arrays.copyOf(body, Math.min(got.length, BODY)), Arrays.copyOf(got, Math.min(got.length, BODY)),
        "a prefix of what was written, no bytes after a hole");
    assertTrue(got.length < BODY, "16 KiB were lost: the rest did not go out (" + got.length + " bytes)");
    assertFalse(server.isOpen(), "the connection closed");
    assertEquals(closedBefore + 1, DirectWriteGuard.CLOSED.get(), "and was counted once");
  }

  @Test
  void allocatorNotesTheFirstFailureOnly() {
    FailingAllocator memory = new FailingAllocator();
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.config().setAllocator(memory);
    NotingAllocator noting = NotingAllocator.of(ch);
    assertEquals(noting, NotingAllocator.of(ch), "one per connection");
    ch.alloc().directBuffer(32 * 1024).release();
    assertEquals(null, noting.failure(), "nothing failed yet");
    OutOfMemoryError first = failedAllocation(ch, memory);
    OutOfMemoryError second = failedAllocation(ch, memory);
    assertTrue(first != second);
    assertEquals(first, noting.failure(), "the first failure is kept");
  }

  private static OutOfMemoryError failedAllocation(EmbeddedChannel ch, FailingAllocator memory) {
    memory.failNext = true;
    try {
      ch.alloc().ioBuffer(32 * 1024).release();
    } catch (OutOfMemoryError e) { // JUnit would end the run on one that escapes
      return e;
    }
    throw new AssertionError("the allocation did not fail");
  }

  /** Runs the handshake; returns the application bytes the client decrypted meanwhile (none are sent). */
  private ByteArrayOutputStream handshake(SSLEngine client, EmbeddedChannel server) throws SSLException {
    client.beginHandshake();
    ByteArrayOutputStream app = new ByteArrayOutputStream();
    for (int flight = 0; flight < 5; flight++) { // TLS 1.3 needs three; once done, a flight sends nothing
      ByteBuffer out = ByteBuffer.allocate(client.getSession().getPacketBufferSize() * 4);
      for (int j = 0; j < 4; j++) {
        runTasks(client);
        client.wrap(ByteBuffer.allocate(0), out);
      }
      out.flip();
      if (out.hasRemaining()) {
        server.writeInbound(UnpooledByteBufAllocator.DEFAULT.buffer().writeBytes(out));
      }
      server.runPendingTasks();
      app.writeBytes(drain(client, server));
    }
    assertEquals(SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING, client.getHandshakeStatus(), "handshake done");
    return app;
  }

  private static void runTasks(SSLEngine engine) {
    Runnable task;
    while ((task = engine.getDelegatedTask()) != null) {
      task.run();
    }
  }

  /** One application-data record from the client. */
  private static ByteBuf clientRecord(SSLEngine client, String text) throws SSLException {
    ByteBuffer out = ByteBuffer.allocate(client.getSession().getPacketBufferSize());
    client.wrap(ByteBuffer.wrap(text.getBytes(java.nio.charset.StandardCharsets.US_ASCII)), out);
    out.flip();
    return UnpooledByteBufAllocator.DEFAULT.buffer().writeBytes(out);
  }

  /**
   * What the server sent so far, decrypted by the client, up to where the client has to answer
   * first; a record it cannot decrypt ends it. What it did not take waits in {@link #wire}.
   */
  private byte[] drain(SSLEngine client, EmbeddedChannel server) throws SSLException {
    for (Object o; (o = server.readOutbound()) != null; ) {
      ByteBuf b = (ByteBuf) o;
      wire.writeBytes(b);
      b.release();
    }
    ByteArrayOutputStream app = new ByteArrayOutputStream();
    ByteBuffer plain = ByteBuffer.allocate(client.getSession().getApplicationBufferSize());
    while (wire.isReadable()) {
      ByteBuffer in = wire.nioBuffer();
      plain.clear();
      SSLEngineResult r = client.unwrap(in, plain);
      wire.skipBytes(r.bytesConsumed());
      runTasks(client);
      plain.flip();
      app.write(plain.array(), 0, plain.limit());
      if (r.getStatus() != SSLEngineResult.Status.OK || r.bytesConsumed() == 0) {
        break;
      }
    }
    return app.toByteArray();
  }

  /**
   * An allocator whose next allocation of 16 KiB or more fails when asked to, as one does when
   * memory is used up.
   */
  private static final class FailingAllocator extends io.netty.buffer.AbstractByteBufAllocator {
    boolean failNext;
    boolean failed;

    FailingAllocator() {
      super(true);
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      failIfAsked(initialCapacity);
      return UnpooledByteBufAllocator.DEFAULT.directBuffer(initialCapacity, maxCapacity);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      failIfAsked(initialCapacity);
      return UnpooledByteBufAllocator.DEFAULT.heapBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }

    private void failIfAsked(int capacity) {
      if (failNext && capacity >= 16 * 1024) {
        failNext = false;
        failed = true;
        throw new OutOfMemoryError("Cannot reserve direct buffer memory (test)");
      }
    }
  }
}
