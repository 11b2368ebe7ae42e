package io.edgecache.storage;

/**
 * Counters of the disk tier at one moment; the first five are those of {@link StoreStats}.
 *
 * @param checksumFailures entries dropped because a chunk or record failed its check or was missing
 * @param storeErrors      LevelDB writes that failed (each stops storing for the back-off)
 * @param readErrors       LevelDB reads that failed with an I/O error and became misses
 * @param orphansSwept     chunk records of unfinished writes deleted at open
 * @param discardedRecords metadata records of unknown version or damaged, deleted
 * @param overloaded       reads and writes skipped because {@value DiskStore#MAX_QUEUED_OPTIONAL} were queued
 * @param compactions      LevelDB range compactions run to reclaim deleted space
 * @param droppedByRemoval writes not committed because a removal of their key came after them
 * @param storing          whether writes are accepted now (false during the back-off after a failure)
 * @param repaired         1 when start-up found the database damaged and LevelDB's repair fixed it
 * @param movedAside       1 when start-up found it damaged beyond repair, moved it aside and started empty
 * @param streamsOpen      writes of bodies arriving piece by piece ({@link DiskWriter}) under way now
 * @param streamsCommitted such writes committed since start
 * @param bodyBytesRead    body bytes read and verified (chunk payloads), for streams and whole reads alike
 */
public record DiskStats(long entries, long bytes, long maxBytes, long evictions, long rejected,
    long checksumFailures, long storeErrors, long readErrors, long orphansSwept, long discardedRecords,
    long overloaded, long compactions, long droppedByRemoval, boolean storing, long repaired, long movedAside,
    long streamsOpen, long streamsCommitted, long bodyBytesRead) {}
