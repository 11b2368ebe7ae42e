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
 * Reads a LevelDB value straight into a direct buffer: one copy out of LevelDB's own string, where
 * leveldbjni's {@code get} makes a zeroed byte array, copies into it, and the transport then copies
 * that array into direct memory again before a socket can take it.
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
  private static final MethodHandle NEW_STRING; // () -> NativeStdString
  private static final MethodHandle STRING_DELETE; // (NativeStdString) -> void
  private static final MethodHandle STRING_DATA; // (long) -> long
  private static final MethodHandle STRING_LENGTH; // (long) -> long
  private static final MethodHandle GET; // (long db, NativeReadOptions, NativeSlice, long string) -> long status
  private static final MethodHandle NEW_STATUS; // (long) -> NativeStatus
  private static final MethodHandle STATUS_OK; // (NativeStatus) -> boolean
  private static final MethodHandle STATUS_NOT_FOUND; // (NativeStatus) -> boolean
  private static final MethodHandle STATUS_DELETE; // (NativeStatus) -> void

  static {
    MethodHandle[] h = new MethodHandle[12];
    boolean ok = false;
    String why = "disabled by edgecache.disk.directReads=false";
    if (!"false".equals(System.getProperty("edgecache.disk.directReads"))) {
      try {
        Class<?> jniDb = Class.forName(PKG + "JniDB");
        Class<?> nativeDb = Class.forName(PKG + "NativeDB");
        Class<?> nativeObject = Class.forName(PKG + "NativeObject");
        Class<?> slice = Class.forName(PKG + "NativeSlice");
        Class<?> string = Class.forName(PKG + "NativeStdString");
        Class<?> stringJni = Class.forName(PKG + "NativeStdString$StdStringJNI");
        Class<?> dbJni = Class.forName(PKG + "NativeDB$DBJNI");
        Class<?> status = Class.forName(PKG + "NativeStatus");
        h[0] = field(jniDb, "db");
        h[1] = field(nativeObject, "self");
        h[2] = constructor(slice, long.class, long.class);
        h[3] = constructor(string);
        h[4] = method(string, "delete");
        h[5] = method(stringJni, "c_str_ptr", long.class);
        h[6] = method(stringJni, "length", long.class);
        h[7] = method(dbJni, "Get", long.class, NativeReadOptions.class, slice, long.class);
        h[8] = constructor(status, long.class);
        h[9] = method(status, "isOk");
        h[10] = method(status, "isNotFound");
        h[11] = method(status, "delete");
        if (!nativeObject.isAssignableFrom(nativeDb) || !nativeObject.isAssignableFrom(string)) {
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
    NEW_STRING = h[3];
    STRING_DELETE = h[4];
    STRING_DATA = h[5];
    STRING_LENGTH = h[6];
    GET = h[7];
    NEW_STATUS = h[8];
    STATUS_OK = h[9];
    STATUS_NOT_FOUND = h[10];
    STATUS_DELETE = h[11];
    AVAILABLE = ok;
    if (!ok) {
      LOG.info("disk tier reads chunks through leveldbjni's byte arrays: {}", why);
    }
  }

  /** Each disk worker's key, in direct memory for the native call; grown when a key is longer. */
  private static final ThreadLocal<ByteBuffer> KEY = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(256));

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
    ByteBuffer k = KEY.get();
    if (k.capacity() < key.length) {
      k = ByteBuffer.allocateDirect(Math.max(key.length, 2 * k.capacity()));
      KEY.set(k);
    }
    k.clear();
    k.put(key);
    Object value = null;
    try {
      Object slice = NEW_SLICE.invokeExact(PlatformDependent.directBufferAddress(k), (long) key.length);
      value = NEW_STRING.invokeExact();
      long stringPtr = (long) SELF.invokeExact(value);
      Object status = NEW_STATUS.invokeExact((long) GET.invokeExact(db, (Object) new NativeReadOptions().fillCache(fillCache),
          slice, stringPtr));
      try {
        if ((boolean) STATUS_OK.invokeExact(status)) {
          return copy((long) STRING_DATA.invokeExact(stringPtr), (long) STRING_LENGTH.invokeExact(stringPtr), alloc);
        }
        if ((boolean) STATUS_NOT_FOUND.invokeExact(status)) {
          return null;
        }
        throw new DBException(status.toString());
      } finally {
        STATUS_DELETE.invokeExact(status);
      }
    } catch (Error | RuntimeException e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    } finally {
      if (value != null) {
        try {
          STRING_DELETE.invokeExact(value);
        } catch (Throwable t) {
          LOG.warn("could not free a LevelDB value string: {}", t.toString());
        }
      }
    }
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
