package io.edgecache.proxy.http;

/**
 * The other members of a sharded cluster, as the request path sees them: which member owns a
 * key, how to mark a peer fill and how to recognise one. {@link #NONE} outside a sharded cluster.
 * Implementations are thread-safe.
 */
public interface Peers {
  /** Request header that marks a peer fill (signed; never forwarded to a third node or the origin). */
  String HEADER = "Edgecache-Peer";

  /** A member that owns a key: its id and where its traffic port listens. */
  record Peer(String id, String host, int port) {}

  /** The member that owns {@code key} when it is another one; null when this node fills it itself. */
  Peer ownerOf(String key);

  /** Whether {@code headerValue} (of {@link #HEADER}) is a valid mark from a member. */
  boolean isPeerFill(String headerValue);

  /** The value of {@link #HEADER} for a peer fill sent now. */
  String mark();

  /** How long a peer fill may take to answer before the node goes to the origin itself. */
  long timeoutMs();

  /** Counts one peer fill by outcome ({@code ok}, {@code fallback}). */
  void count(String outcome);

  Peers NONE = new Peers() {
    @Override
    public Peer ownerOf(String key) {
      return null;
    }

    @Override
    public boolean isPeerFill(String headerValue) {
      return false;
    }

    @Override
    public String mark() {
      return "";
    }

    @Override
    public long timeoutMs() {
      return 0;
    }

    @Override
    public void count(String outcome) {
      // no cluster: nothing to count
    }
  };

  /** Peers that can be set once the cluster has been joined (until then, {@link #NONE}). */
  final class Switch implements Peers {
    private volatile Peers target = NONE;

    public void set(Peers p) {
      target = p;
    }

    @Override
    public Peer ownerOf(String key) {
      return target.ownerOf(key);
    }

    @Override
    public boolean isPeerFill(String headerValue) {
      return target.isPeerFill(headerValue);
    }

    @Override
    public String mark() {
      return target.mark();
    }

    @Override
    public long timeoutMs() {
      return target.timeoutMs();
    }

    @Override
    public void count(String outcome) {
      target.count(outcome);
    }
  }
}
