package io.edgecache.proxy.admin;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The status page's static files, read once from the jar ({@code admin-ui/} on the classpath) and
 * served on the admin listener: {@code /} (the HTML shell), {@code /ui/status.js},
 * {@code /ui/status.css}. They hold no data and need no token; the script asks for the token and
 * sends it with every data call.
 *
 * <p>Every answer carries {@code Cache-Control: no-store}, {@code X-Content-Type-Options: nosniff}
 * and a Content-Security-Policy that allows only this origin's script, style and fetches (no inline
 * script or style, no framing), so a value shown on the page (an origin name, a purge answer)
 * can never run as code, and a page kept in a shared cache cannot leak what it showed.
 */
final class AdminUi {
  static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
      + " connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  private final Buffer html;
  private final Buffer js;
  private final Buffer css;

  private AdminUi(Buffer html, Buffer js, Buffer css) {
    this.html = html;
    this.js = js;
    this.css = css;
  }

  static AdminUi create() {
    return new AdminUi(read("index.html"), read("status.js"), read("status.css"));
  }

  void routes(Router router) {
    router.get("/").handler(rc -> serve(rc.response(), "text/html; charset=utf-8", html));
    router.get("/index.html").handler(rc -> serve(rc.response(), "text/html; charset=utf-8", html));
    router.get("/ui/status.js").handler(rc -> serve(rc.response(), "text/javascript; charset=utf-8", js));
    router.get("/ui/status.css").handler(rc -> serve(rc.response(), "text/css; charset=utf-8", css));
  }

  /** Adds the headers every status-page answer carries, data calls included. */
  static HttpServerResponse noStore(HttpServerResponse r) {
    return r.putHeader("Cache-Control", "no-store").putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Content-Security-Policy", CSP).putHeader("Referrer-Policy", "no-referrer")
        .putHeader("X-Frame-Options", "DENY");
  }

  private static void serve(HttpServerResponse r, String type, Buffer body) {
    noStore(r).putHeader("Content-Type", type).end(body);
  }

  private static Buffer read(String name) {
    try (InputStream in = AdminUi.class.getResourceAsStream("/admin-ui/" + name)) {
      if (in == null) {
        throw new IllegalStateException("admin-ui/" + name + " is missing from the jar");
      }
      return Buffer.buffer(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
