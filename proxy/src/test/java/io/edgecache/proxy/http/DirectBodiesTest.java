package io.edgecache.proxy.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DirectBodiesTest {
  private static byte[] body(int size, int seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static byte[] bytesOf(ByteBuf b) {
    byte[] out = new byte[b.readableBytes()];
    b.getBytes(b.readerIndex(), out);
    return out;
  }

  @Test
  void shortBody_isWrittenFromTheHeap() {
    assertNull(DirectBodies.acquire(new byte[DirectBodies.MIN_BYTES - 1]));
  }

  @Test
  void largeBody_oneSharedCopyWithTheBodysBytes_referencesCountedPerDelivery() {
    byte[] b = body(300_000, 1);
    DirectBodies.Copy first = DirectBodies.acquire(b);
    DirectBodies.Copy second = DirectBodies.acquire(b);
    assertNotNull(first);
    assertSame(first, second, "one copy per stored body, shared by its readers");
    assertArrayEquals(Arrays.copyOfRange(b, 1000, 201_000), bytesOf(first.slice(1000, 200_000)));
    byte[] equal = b.clone();
    DirectBodies.Copy other = DirectBodies.acquire(equal);
    assertNotNull(other);
    assertFalse(other == first, "another body, an equal one too, has a copy of its own");

    first.release();
    second.release();
    other.release();
    assertEquals(1, first.references(), "every delivery let go: the table's alone");
    assertEquals(1, other.references());
    DirectBodies.forget(b);
    assertTrue(first.freed(), "evicted with no reader: freed at once");
    assertFalse(other.freed());
    DirectBodies.forget(equal);
    assertTrue(other.freed());
  }

  @Test
  void evictedWhileBeingWritten_staysValidUntilTheLastReleaseThenIsFreed() {
    byte[] b = body(200_000, 2);
    DirectBodies.Copy c = DirectBodies.acquire(b);
    assertNotNull(c);
    c.retain(); // a write in flight
    DirectBodies.forget(b); // evicted: the table lets go of its reference
    assertArrayEquals(Arrays.copyOf(b, 1000), bytesOf(c.slice(0, 1000)), "still the body's bytes");
    c.release(); // the delivery's
    assertFalse(c.freed(), "the write still refers to it");
    c.release(); // the write completed
    assertTrue(c.freed(), "freed at the last release");
    assertFalse(c.tryRetain(), "a freed copy cannot be taken again");
    assertThrows(IllegalStateException.class, c::release);
    DirectBodies.Copy again = DirectBodies.acquire(b);
    assertNotNull(again, "the next hit makes a new copy");
    again.release();
    DirectBodies.forget(b);
  }
}
