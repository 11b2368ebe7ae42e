package io.edgecache.proxy.cluster;

import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How far this node has applied the cluster's purge log, kept beside the disk tier
 * ({@code <disk.path>/cluster-purge-position}, one line: generation and sequence) so that a
 * restarted node knows which purges to replay. Written atomically (temporary file, then a move).
 */
final class PurgeLogPosition {
  private static final Logger log = LoggerFactory.getLogger("edgecache.cluster");

  /** A saved position: every purge of log {@code generation} up to {@code seq} was applied. */
  record Saved(String generation, long seq) {}

  private final Path file;

  PurgeLogPosition(Path file) {
    this.file = file;
  }

  /** Saves the position on a worker thread; a failure is logged, the next save tries again. */
  void save(Vertx vertx, String generation, long seq) {
    String text = generation + " " + seq + "\n";
    vertx.executeBlocking(() -> {
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.writeString(tmp, text, StandardCharsets.US_ASCII);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return null;
    }, false).onFailure(t -> log.warn("cluster: cannot record the purge-log position in {}: {}", file, t.toString()));
  }

  /** The saved position, or null when there is none or it is unreadable (blocking: start-up only). */
  Saved read() {
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try {
      String[] parts = Files.readString(file, StandardCharsets.US_ASCII).trim().split(" ");
      return new Saved(parts[0], Long.parseLong(parts[1]));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }
}
