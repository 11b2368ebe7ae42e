package io.edgecache.storage;

/**
 * A store could not do what was asked: opening failed, or the store is closed.
 *
 * <p>The message is one line naming the path and the cause, fit to print as is, for example
 * {@code /var/cache/edgecache: database is locked by another process}. Expected failures need no
 * stack trace; the underlying exception, if any, is the cause.
 */
public class StoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StoreException(String message) {
    super(message);
  }

  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
