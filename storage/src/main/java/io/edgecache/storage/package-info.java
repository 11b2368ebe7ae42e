/** Bytes at rest: cache tiers behind one store interface. Knows nothing of HTTP. */
package io.edgecache.storage;
