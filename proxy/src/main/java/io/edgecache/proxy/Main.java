package io.edgecache.proxy;

import io.edgecache.proxy.config.ConfigException;
import io.edgecache.proxy.config.ConfigLoader;
import io.edgecache.proxy.config.HeapBudget;
import io.edgecache.proxy.config.ProxyConfig;
import io.edgecache.proxy.tls.TlsListener;
import io.edgecache.proxy.tls.TlsMaterial;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Command line entry point: {@code java -jar edgecache.jar [--config FILE] [--train] [--help] [--version]}. */
public final class Main {
  static final String USAGE = """
      Usage: java -jar edgecache.jar [--config FILE] [--train]

      A caching HTTP reverse proxy.

      Options:
        --config FILE   configuration file (default: conf/proxy.json)
        --train         run only the start-up warm-up (startup.warmup, at least 3s) on loopback,
                        then exit: the training run that records a class-data archive
                        (-XX:ArchiveClassesAtExit=FILE, or -XX:AOTCacheOutput=FILE on JDK 25)
        --help          print this help and exit
        --version       print the version and exit
      """;

  private Main() {}

  public static String version() {
    String v = Main.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  public static void main(String[] args) {
    // Netty then counts its direct memory itself (the jar's manifest opens java.nio to it): an
    // allocation past -XX:MaxDirectMemorySize fails at once. Through the JDK's count it would call
    // System.gc() and sleep, up to about half a second per allocation, on an event loop.
    if (System.getProperty("io.netty.tryReflectionSetAccessible") == null) {
      System.setProperty("io.netty.tryReflectionSetAccessible", "true");
    }
    String config = "conf/proxy.json";
    boolean train = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--help", "-h" -> {
          System.out.print(USAGE);
          return;
        }
        case "--version" -> {
          System.out.println("edgecache " + version());
          return;
        }
        case "--train" -> train = true;
        case "--config" -> {
          if (i + 1 >= args.length) {
            fail("--config needs a file name", 2);
          }
          config = args[++i];
        }
        default -> {
          if (args[i].startsWith("--config=")) {
            config = args[i].substring("--config=".length());
          } else {
            fail("unknown argument \"" + args[i] + "\" (try --help)", 2);
          }
        }
      }
    }
    ProxyConfig cfg;
    try {
      cfg = ConfigLoader.load(Path.of(config));
    } catch (ConfigException e) {
      fail(e.getMessage(), 1);
      return;
    }
    HeapBudget.of(cfg, Runtime.getRuntime().maxMemory()).refusal(config).ifPresent(line -> fail(line, 1));
    if (cfg.listen().tls() != null && !train) {
      try {
        TlsListener.checkEngine(cfg.listen().tls(), cfg.source());
        TlsMaterial.load(cfg.listen().tls(), cfg.source()); // before the warm-up: a bad pair fails at once
      } catch (ConfigException e) {
        fail(e.getMessage(), 1);
      }
    }
    try {
      NetTransport.choose(cfg.listen().transport(), cfg.source()); // before the warm-up runs on it
    } catch (ConfigException e) {
      fail(e.getMessage(), 1);
    }
    Logger log = LoggerFactory.getLogger("edgecache");
    if (train) {
      ProxyConfig.Startup s = new ProxyConfig.Startup(Math.max(cfg.startup().warmupMs(), 3_000));
      Warmup.Result r = Warmup.run(cfg.withStartup(s));
      System.exit(r.requests() > 0 && r.failures() == 0 ? 0 : 1);
      return;
    }
    Warmup.run(cfg);
    ProxyServer server = new ProxyServer(cfg);
    try {
      server.start().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable c = e.getCause();
      fail(c instanceof ConfigException ? c.getMessage() : config + ": start-up failed: " + c, 1);
    } catch (Exception e) {
      fail(config + ": start-up failed: " + e, 1);
    }
    ProxyConfig.Tls tls = cfg.listen().tls();
    if (tls != null) {
      log.info("HTTPS on https://{}:{} ({}; {}; {}): {}", cfg.listen().host(), server.tlsPort(),
          tls.http2() ? "h2, http/1.1" : "http/1.1", String.join(", ", tls.protocols()),
          TlsListener.openSsl(tls) ? "OpenSSL" : "JDK TLS",
          server.certificates().current().describe());
    }
    String listeners = cfg.listen().plain() ? "http://" + cfg.listen().host() + ":" + server.port()
        : "https://" + cfg.listen().host() + ":" + server.tlsPort();
    log.info("edgecache {} listening on {} (admin http://{}:{}), {} event loops on {}, origins: {}",
        version(), listeners, cfg.admin().host(), server.adminPort(),
        cfg.listen().eventLoops(), server.transport().value(),
        cfg.origins().stream().map(o -> o.name() + "=" + o.pool().servers().stream()
                .map(s -> o.scheme() + "://" + s.id()).collect(Collectors.joining("|")) + " " + o.hosts())
            .collect(Collectors.joining(", ")));
    installReloadSignal(server, log);
    AtomicBoolean stopping = new AtomicBoolean();
    Runnable drain = () -> {
      if (!stopping.compareAndSet(false, true)) {
        return;
      }
      log.info("shutting down: draining in-flight requests (up to {} ms)", cfg.shutdown().drainTimeoutMs());
      try {
        server.stop().toCompletionStage().toCompletableFuture()
            .get(cfg.shutdown().drainTimeoutMs() + 10_000, TimeUnit.MILLISECONDS);
        log.info("stopped");
      } catch (Exception e) {
        log.warn("unclean shutdown: {}", e.toString());
      }
    };
    // SIGTERM / SIGINT: drain, close the disk tier, exit 0 (an orchestrator's normal stop is not a failure)
    for (String name : new String[] {"TERM", "INT"}) {
      try {
        sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> new Thread(() -> {
          drain.run();
          System.exit(0);
        }, "edgecache-shutdown").start());
      } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
        log.debug("cannot handle SIG{}: {}", name, e.toString());
      }
    }
    // any other exit (System.exit elsewhere, or when the signal could not be handled)
    Runtime.getRuntime().addShutdownHook(new Thread(drain, "edgecache-shutdown-hook"));
  }

  /** SIGHUP re-reads the configuration, as {@code POST /reload} on the admin port does. */
  @SuppressWarnings("removal")
  private static void installReloadSignal(ProxyServer server, Logger log) {
    try {
      sun.misc.Signal.handle(new sun.misc.Signal("HUP"), sig -> {
        try {
          server.reload();
        } catch (ConfigException e) {
          log.warn("reload refused, keeping the running configuration: {}", e.getMessage());
        } catch (RuntimeException e) {
          log.warn("reload failed, keeping the running configuration: {}", e.toString());
        }
      });
    } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
      log.warn("SIGHUP reload is not available on this platform; use POST /reload on the admin port");
    }
  }

  private static void fail(String message, int code) {
    System.err.println("edgecache: " + message);
    System.exit(code);
  }
}
