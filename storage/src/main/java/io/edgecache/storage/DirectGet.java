package io.edgecache.storage;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;
import io.netty.util.internal.PlatformDependent;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.nio.ByteBuffer;
import java.util.function.IntFunction;
import org.fusesource.leveldbjni.internal.NativeReadOptions;
import org.iq80.leveldb.DB;
import org.iq80.leveldb.DBException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a LevelDB value for a socket through an iterator positioned on the key, either without a
 * copy ({@link #lease}: a buffer over the bytes where LevelDB holds them, the iterator kept open
 * until the buffer is released) or with one ({@link #get}: into a direct buffer). LevelDB's
 * {@code Get} would first copy the value into a string; leveldbjni's {@code get} then makes a
 * zeroed byte array, copies into it, and the transport copies that array into direct memory again
 * before a socket can take it.
 *
 * <p>leveldbjni 1.8 (the version pinned in the pom, unchanged since 2013) has no public call for
 * this, so its native {@code Get} and the C++ string it fills are reached through its internal
 * classes, found once by reflection. When any of them is missing (another leveldbjni) or Netty
 * cannot copy native memory, {@link #AVAILABLE} is false and the disk tier reads through
 * leveldbjni's public API as before; {@code edgecache.disk.directReads=false} forces that.
 *
 * <p>Thread-safe: LevelDB's reads are, and every native object here is made and freed per call,
 * except a leased value's iterator, which its buffer frees on whichever thread releases it last
 * (LevelDB allows that: an iterator is used by one thread at a time, and deleting one only
 * unreferences what it held, under the database's lock).
 */
final class DirectGet {
  private static final Logger LOG = LoggerFactory.getLogger(DirectGet.class);
  private static final String PKG = "org.fusesource.leveldbjni.internal.";

  /** Whether {@link #get} can be used in this JVM. */
  static final boolean AVAILABLE;

  /**
   * Whether {@link #lease} can be used in this JVM: {@link #AVAILABLE}, and Netty can make a
   * buffer over memory it did not allocate. {@code edgecache.disk.zeroCopy=false} turns it off.
   */
  static final boolean LEASES;

  private static final MethodHandle JNIDB_DB; // (JniDB) -> NativeDB
  private static final MethodHandle SELF; // (NativeObject) -> long
  private static final MethodHandle NEW_SLICE; // (long data, long size) -> NativeSlice
  private static final MethodHandle NEW_ITERATOR; // (long db, NativeReadOptions) -> long iterator
  private static final MethodHandle SEEK; // (long iterator, NativeSlice) -> void
  private static final MethodHandle VALID; // (long iterator) -> boolean
  private static final MethodHandle KEY; // (long iterator) -> long slice, to delete
  private static final MethodHandle VALUE; // (long iterator) -> long slice, to delete
  private static final MethodHandle ITERATOR_STATUS; // (long iterator) -> long status
  private static final MethodHandle ITERATOR_DELETE; // (long iterator) -> void
  private static final MethodHandle SLICE_DELETE; // (long slice) -> void
  private static final MethodHandle NEW_STATUS; // (long) -> NativeStatus
  private static final MethodHandle STATUS_OK; // (NativeStatus) -> boolean
  private static final MethodHandle STATUS_DELETE; // (NativeStatus) -> void
  /** LevelDB's {@code Slice}: a pointer to the bytes, then their count (checked against leveldbjni's size of it). */
  private static final int SLICE_BYTES = 16;

  static {
    MethodHandle[] h = new MethodHandle[14];
    boolean ok = false;
    String why = "disabled by edgecache.disk.directReads=false";
    if (!"false".equals(System.getProperty("edgecache.disk.directReads"))) {
      try {
        Class<?> jniDb = Class.forName(PKG + "JniDB");
        Class<?> nativeDb = Class.forName(PKG + "NativeDB");
        Class<?> nativeObject = Class.forName(PKG + "NativeObject");
        Class<?> slice = Class.forName(PKG + "NativeSlice");
        Class<?> sliceJni = Class.forName(PKG + "NativeSlice$SliceJNI");
        Class<?> dbJni = Class.forName(PKG + "NativeDB$DBJNI");
        Class<?> iteratorJni = Class.forName(PKG + "NativeIterator$IteratorJNI");
        Class<?> status = Class.forName(PKG + "NativeStatus");
        h[0] = field(jniDb, "db");
        h[1] = field(nativeObject, "self");
        h[2] = constructor(slice, long.class, long.class);
        h[3] = method(dbJni, "NewIterator", long.class, NativeReadOptions.class);
        h[4] = method(iteratorJni, "Seek", long.class, slice);
        h[5] = method(iteratorJni, "Valid", long.class);
        h[6] = method(iteratorJni, "key", long.class);
        h[7] = method(iteratorJni, "value", long.class);
        h[8] = method(iteratorJni, "status", long.class);
        h[9] = method(iteratorJni, "delete", long.class);
        h[10] = method(sliceJni, "delete", long.class);
        h[11] = constructor(status, long.class);
        h[12] = method(status, "isOk");
        h[13] = method(status, "delete");
        java.lang.reflect.Field sizeOf = sliceJni.getDeclaredField("SIZEOF");
        sizeOf.setAccessible(true);
        if (!nativeObject.isAssignableFrom(nativeDb) || sizeOf.getInt(null) != SLICE_BYTES) {
          throw new ReflectiveOperationException("unexpected leveldbjni class layout");
        }
        ok = PlatformDependent.hasUnsafe();
        why = ok ? null : "Netty cannot copy native memory here (no Unsafe)";
      } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
        why = "leveldbjni internals not as expected: " + e;
      }
    }
    JNIDB_DB = h[0];
    SELF = h[1];
    NEW_SLICE = h[2];
    NEW_ITERATOR = h[3];
    SEEK = h[4];
    VALID = h[5];
    KEY = h[6];
    VALUE = h[7];
    ITERATOR_STATUS = h[8];
    ITERATOR_DELETE = h[9];
    SLICE_DELETE = h[10];
    NEW_STATUS = h[11];
    STATUS_OK = h[12];
    STATUS_DELETE = h[13];
    AVAILABLE = ok;
    LEASES = ok && PlatformDependent.hasDirectBufferNoCleanerConstructor()
        && !"false".equals(System.getProperty("edgecache.disk.zeroCopy"));
    if (!ok) {
      LOG.info("disk tier reads chunks through leveldbjni's byte arrays: {}", why);
    } else if (!LEASES) {
      LOG.info("disk tier copies chunks out of LevelDB: {}", PlatformDependent.hasDirectBufferNoCleanerConstructor()
          ? "disabled by edgecache.disk.zeroCopy=false" : "Netty cannot wrap native memory here");
    }
  }

  /** Each disk worker's key, in direct memory for the native call; grown when a key is longer. */
  private static final ThreadLocal<ByteBuffer> KEY_BUFFER = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(256));

  private DirectGet() {}

  // Handles to leveldbjni's internals with every reference type erased to Object: the classes
  // are package-private, so callers pass and get plain objects (invokeExact matches on Object).

  private static MethodHandle field(Class<?> owner, String name) throws ReflectiveOperationException {
    java.lang.reflect.Field f = owner.getDeclaredField(name);
    f.setAccessible(true);
    MethodHandle h = MethodHandles.lookup().unreflectGetter(f);
    return h.asType(h.type().erase());
  }

  private static MethodHandle constructor(Class<?> owner, Class<?>... params) throws ReflectiveOperationException {
    java.lang.reflect.Constructor<?> c = owner.getDeclaredConstructor(params);
    c.setAccessible(true);
    MethodHandle h = MethodHandles.lookup().unreflectConstructor(c);
    return h.asType(h.type().erase());
  }

  private static MethodHandle method(Class<?> owner, String name, Class<?>... params)
      throws ReflectiveOperationException {
    java.lang.reflect.Method m = owner.getDeclaredMethod(name, params);
    m.setAccessible(true);
    MethodHandle h = MethodHandles.lookup().unreflect(m);
    return h.asType(h.type().erase());
  }

  /** The native handle of an open leveldbjni database for {@link #get}, or 0 when it is not one. */
  static long handle(DB db) {
    try {
      return (long) SELF.invokeExact(JNIDB_DB.invokeExact((Object) db));
    } catch (Throwable t) {
      LOG.info("disk tier reads chunks through leveldbjni's byte arrays: {} is not the database expected ({})",
          db.getClass().getName(), t.toString());
      return 0;
    }
  }

  /**
   * The value under {@code key} in a fresh direct buffer from {@code alloc} (given the value's
   * length; the caller owns the buffer and releases it), or null when the key is absent.
   *
   * @throws DBException when LevelDB fails the read
   * @throws OutOfMemoryError when no direct memory is left for the value
   */
  static ByteBuf get(long db, byte[] key, boolean fillCache, IntFunction<ByteBuf> alloc) {
    long iterator = positioned(db, key, fillCache);
    if (iterator == 0) {
      return null;
    }
    try {
      return withValue(iterator, (address, length) -> copy(address, length, alloc));
    } finally {
      deleteIterator(iterator);
    }
  }

  /**
   * The value under {@code key} without a copy: a direct buffer over the bytes where LevelDB holds
   * them (its mapping of the table file, a block it read for this call, or the memtable), or null
   * when the key is absent. The iterator that found the value stays open, which keeps those bytes
   * where they are (LevelDB frees a block, unmaps a table or drops a memtable only once no iterator
   * uses it); the buffer's last release deletes it and then runs {@code released}. The caller owns
   * the buffer and must release it; LevelDB must not be closed before it is.
   *
   * <p>The buffer must not be written to: a table file is mapped read-only, and a write would
   * crash the JVM.
   *
   * @throws DBException when LevelDB fails the read
   */
  static ByteBuf lease(long db, byte[] key, boolean fillCache, Runnable released) {
    long iterator = positioned(db, key, fillCache);
    if (iterator == 0) {
      return null;
    }
    ByteBuf leased = null;
    try {
      leased = withValue(iterator,
          (address, length) -> new Leased(PlatformDependent.directBuffer(address, length), iterator, released));
      return leased;
    } finally {
      if (leased == null) {
        deleteIterator(iterator);
      }
    }
  }

  /**
   * A new iterator positioned on exactly {@code key}, for the caller to delete, or 0 when the key
   * is absent (the iterator is deleted then).
   */
  private static long positioned(long db, byte[] key, boolean fillCache) {
    ByteBuffer k = KEY_BUFFER.get();
    if (k.capacity() < key.length) {
      k = ByteBuffer.allocateDirect(Math.max(key.length, 2 * k.capacity()));
      KEY_BUFFER.set(k);
    }
    k.clear();
    k.put(key);
    long keyAddress = PlatformDependent.directBufferAddress(k);
    long iterator = 0;
    boolean found = false;
    try {
      iterator = (long) NEW_ITERATOR.invokeExact(db, (Object) new NativeReadOptions().fillCache(fillCache));
      if (iterator == 0) {
        throw new DBException("LevelDB returned no iterator");
      }
      SEEK.invokeExact(iterator, NEW_SLICE.invokeExact(keyAddress, (long) key.length));
      if (!(boolean) VALID.invokeExact(iterator)) {
        checkStatus(iterator);
        return 0; // nothing at or after the key
      }
      long at = (long) KEY.invokeExact(iterator);
      try {
        // when not equal, the iterator stopped at the next key: this one is absent
        found = sameBytes(PlatformDependent.getLong(at), PlatformDependent.getLong(at + 8), keyAddress, key.length);
      } finally {
        deleteSlice(at);
      }
      return found ? iterator : 0;
    } catch (Error | RuntimeException e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    } finally {
      if (!found && iterator != 0) {
        deleteIterator(iterator);
      }
    }
  }

  /** What a read does with the value's bytes: their address and count. */
  @FunctionalInterface
  private interface ValueUse {
    ByteBuf apply(long address, int length);
  }

  /** Applies {@code use} to the value the iterator is on (its bytes stay LevelDB's). */
  private static ByteBuf withValue(long iterator, ValueUse use) {
    long value;
    try {
      value = (long) VALUE.invokeExact(iterator); // a new native Slice of the value, deleted below
    } catch (Error | RuntimeException e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
    try {
      long length = PlatformDependent.getLong(value + 8);
      if (length > Integer.MAX_VALUE - 16) {
        throw new DBException("value of " + length + " bytes is too long for one buffer");
      }
      return use.apply(PlatformDependent.getLong(value), (int) length);
    } finally {
      deleteSlice(value);
    }
  }

  private static void deleteSlice(long slice) {
    try {
      SLICE_DELETE.invokeExact(slice);
    } catch (Throwable t) {
      LOG.warn("could not free a LevelDB slice: {}", t.toString());
    }
  }

  private static void deleteIterator(long iterator) {
    try {
      ITERATOR_DELETE.invokeExact(iterator);
    } catch (Throwable t) {
      LOG.warn("could not free a LevelDB iterator: {}", t.toString());
    }
  }

  /** A buffer over LevelDB's memory, valid while its iterator is open; the last release deletes that. */
  private static final class Leased extends UnpooledUnsafeDirectByteBuf {
    private long iterator;
    private final Runnable released;

    Leased(ByteBuffer memory, long iterator, Runnable released) {
      super(ByteBufAllocator.DEFAULT, memory, memory.capacity()); // readable: the whole value
      this.iterator = iterator;
      this.released = released;
    }

    @Override
    protected void deallocate() {
      long it = iterator;
      iterator = 0;
      if (it != 0) {
        deleteIterator(it);
        released.run();
      }
    }
  }

  /** Throws when the iterator stopped on an error rather than at the end of the keys. */
  private static void checkStatus(long iterator) throws Throwable {
    Object status = NEW_STATUS.invokeExact((long) ITERATOR_STATUS.invokeExact(iterator));
    try {
      if (!(boolean) STATUS_OK.invokeExact(status)) {
        throw new DBException(status.toString());
      }
    } finally {
      STATUS_DELETE.invokeExact(status);
    }
  }

  private static boolean sameBytes(long address, long length, long keyAddress, int keyLength) {
    if (length != keyLength) {
      return false;
    }
    for (int i = 0; i < keyLength; i++) {
      if (PlatformDependent.getByte(address + i) != PlatformDependent.getByte(keyAddress + i)) {
        return false;
      }
    }
    return true;
  }

  private static ByteBuf copy(long address, int n, IntFunction<ByteBuf> alloc) {
    ByteBuf out = alloc.apply(n);
    if (!out.hasMemoryAddress() || out.writableBytes() < n) {
      out.release();
      throw new IllegalStateException("unusable direct buffer for " + n + " bytes: " + out);
    }
    PlatformDependent.copyMemory(address, out.memoryAddress() + out.writerIndex(), n);
    out.writerIndex(out.writerIndex() + n);
    return out;
  }
}
