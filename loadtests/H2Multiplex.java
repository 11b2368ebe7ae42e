import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * HTTP/2 soak for loadtests/h2-multiplex.sh: per round a new connection, two fetches of a new
 * large URL (a miss and, usually, a request coalesced on its fill), then 8 whole streams of it
 * multiplexed while 4 others read a little and are cancelled. Every body is checked byte for
 * byte against the sized origin's content; a stream that does not finish within 10 s is a stall.
 *
 *   java H2Multiplex.java HTTPS_PORT ROUNDS SIZE
 *
 * Prints one line per 50 rounds and a summary; exits 1 at the first stall or wrong body.
 */
public class H2Multiplex {
  /** The sized origin's body of {@code size} bytes (its pattern repeated, loadtests/sized-origin.mjs). */
  static byte[] expected(int size) {
    byte[] pattern = "edgecache-sized-origin-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ\n"
        .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    byte[] b = new byte[size];
    for (int i = 0; i < size; i++) {
      b[i] = pattern[i % pattern.length];
    }
    return b;
  }

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int rounds = Integer.parseInt(args[1]);
    int size = Integer.parseInt(args[2]);
    byte[] want = expected(size);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, new TrustManager[] {new X509TrustManager() {
      public void checkClientTrusted(X509Certificate[] c, String s) {}

      public void checkServerTrusted(X509Certificate[] c, String s) {}

      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    }}, null);
    long started = System.nanoTime();
    for (int round = 0; round < rounds; round++) {
      HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(ssl).build();
      URI uri = URI.create("https://127.0.0.1:" + port + "/size/" + size + "/r" + round);
      List<CompletableFuture<HttpResponse<byte[]>>> all = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        all.add(c.sendAsync(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofByteArray()));
      }
      check(all, want, round, "miss or coalesced");
      all.clear();
      for (int i = 0; i < 8; i++) {
        all.add(c.sendAsync(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofByteArray()));
      }
      for (int i = 0; i < 4; i++) {
        CompletableFuture<byte[]> head = c.sendAsync(HttpRequest.newBuilder(uri).build(),
            HttpResponse.BodyHandlers.ofInputStream()).thenApply(r -> {
              try (InputStream in = r.body()) {
                return in.readNBytes(5000);
              } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
        try {
          if (!Arrays.equals(Arrays.copyOf(want, 5000), head.get(10, TimeUnit.SECONDS))) {
            fail(round, "wrong first bytes of a cancelled stream");
          }
        } catch (java.util.concurrent.TimeoutException e) {
          fail(round, "STALL: a cancelled stream got no bytes in 10 s");
        }
      }
      check(all, want, round, "multiplexed hit");
      if ((round + 1) % 50 == 0) {
        System.out.printf("%d rounds ok%n", round + 1);
      }
    }
    System.out.printf("h2-multiplex: %d rounds, %d streams, every body right, no stall (%.1f s)%n", rounds,
        rounds * 14, (System.nanoTime() - started) / 1e9);
  }

  static void check(List<CompletableFuture<HttpResponse<byte[]>>> all, byte[] want, int round, String what)
      throws Exception {
    for (CompletableFuture<HttpResponse<byte[]>> f : all) {
      HttpResponse<byte[]> r;
      try {
        r = f.get(10, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        fail(round, "STALL: a " + what + " did not finish in 10 s");
        return;
      } catch (java.util.concurrent.ExecutionException e) {
        fail(round, what + " failed: " + e.getCause());
        return;
      }
      if (r.statusCode() != 200 || !Arrays.equals(want, r.body())) {
        fail(round, what + ": status " + r.statusCode() + ", " + r.body().length + " bytes, not the body");
      }
    }
  }

  static void fail(int round, String why) {
    System.out.printf("h2-multiplex: round %d: %s%n", round, why);
    System.exit(1);
  }
}
