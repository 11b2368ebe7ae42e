package io.edgecache.storage;

/**
 * The entry being read was replaced or removed after it was opened, so the rest of its body is gone.
 *
 * <p>Not a fault: a concurrent write, purge or eviction won. A response already under way must be
 * aborted; the next request sees the new state.
 */
public final class EntryGoneException extends StoreException {
  private static final long serialVersionUID = 1L;

  public EntryGoneException(String message) {
    super(message);
  }
}
