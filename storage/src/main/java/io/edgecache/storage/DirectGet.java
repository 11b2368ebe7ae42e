package io.edgecache.storage;

import io.netty.buffer.ByteBuf;
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
 * Reads a LevelDB value straight into a direct buffer: one copy, out of the block LevelDB holds the
 * value in (its mapping of the table file, or the memtable), through an iterator positioned on the
 * key. LevelDB's {@code Get} would first copy the value into a string; leveldbjni's {@code get}
 * then makes a zeroed byte array, copies into it, and the transport copies that array into direct
 * memory again before a socket can take it.
 *
 * <p>leveldbjni 1.8 (the version pinned in the pom, unchanged since 2013) has no public call for
 * this, so its native {@code Get} and the C++ string it fills are reached through its internal
 * classes, found once by reflection. When any of them is missing (another leveldbjni) or Netty
 * cannot copy native memory, {@link #AVAILABLE} is false and the disk tier reads through
 * leveldbjni's public API as before; {@code edgecache.disk.directReads=false} forces that.
 *
 * <p>Thread-safe: LevelDB's reads are, and every native object here is made and freed per call.
 */
final class DirectGet {
  private static final Logger LOG = LoggerFactory.getLogger(DirectGet.class);
  private static final String PKG = "org.fusesource.leveldbjni.internal.";

  /** Whether {@link #get} can be used in this JVM. */
  static final boolean AVAILABLE;

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
    if (!ok) {
      LOG.info("disk tier reads chunks through leveldbjni's byte arrays: {}", why);
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
    ByteBuffer k = KEY_BUFFER.get();
    if (k.capacity() < key.length) {
      k = ByteBuffer.allocateDirect(Math.max(key.length, 2 * k.capacity()));
      KEY_BUFFER.set(k);
    }
    k.clear();
    k.put(key);
    long keyAddress = PlatformDependent.directBufferAddress(k);
    long iterator = 0;
    try {
      iterator = (long) NEW_ITERATOR.invokeExact(db, (Object) new NativeReadOptions().fillCache(fillCache));
      if (iterator == 0) {
        throw new DBException("LevelDB returned no iterator");
      }
      SEEK.invokeExact(iterator, NEW_SLICE.invokeExact(keyAddress, (long) key.length));
      if (!(boolean) VALID.invokeExact(iterator)) {
        checkStatus(iterator);
        return null; // nothing at or after the key
      }
      long found = (long) KEY.invokeExact(iterator);
      try {
        if (!sameBytes(PlatformDependent.getLong(found), PlatformDependent.getLong(found + 8), keyAddress, key.length)) {
          return null; // the iterator stopped at the next key: this one is absent
        }
      } finally {
        SLICE_DELETE.invokeExact(found);
      }
      long value = (long) VALUE.invokeExact(iterator);
      try {
        return copy(PlatformDependent.getLong(value), PlatformDependent.getLong(value + 8), alloc);
      } finally {
        SLICE_DELETE.invokeExact(value);
      }
    } catch (Error | RuntimeException e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    } finally {
      if (iterator != 0) {
        try {
          ITERATOR_DELETE.invokeExact(iterator);
        } catch (Throwable t) {
          LOG.warn("could not free a LevelDB iterator: {}", t.toString());
        }
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

  private static ByteBuf copy(long address, long length, IntFunction<ByteBuf> alloc) {
    if (length > Integer.MAX_VALUE - 16) {
      throw new DBException("value of " + length + " bytes is too long for one buffer");
    }
    int n = (int) length;
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
