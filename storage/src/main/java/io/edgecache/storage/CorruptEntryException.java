package io.edgecache.storage;

/**
 * A chunk of a stored body failed its checksum or was missing while its entry was still current.
 *
 * <p>By the time a caller sees this, the entry has been removed from the store and counted in
 * {@link DiskStats#checksumFailures()}; a response already under way must be aborted,
 * and the next request is a miss. No bytes of the damaged chunk were handed out.
 */
public final class CorruptEntryException extends StoreException {
  private static final long serialVersionUID = 1L;

  public CorruptEntryException(String message) {
    super(message);
  }
}
