package io.edgecache.proxy.policy;

/**
 * Why a response is not stored. {@link #detail()} is the text Cache-Status {@code detail} carries
 * (RFC 9211 2.8), unchanged from what clients and dashboards already read.
 */
public enum Refusal {
  /** The request method is not cacheable here (only GET, and POST per RFC 9110 9.3.3). */
  METHOD("method"),
  /** The status is not one this cache stores (1xx, 304, or a 206 it cannot keep). */
  STATUS("status"),
  /** The request said {@code no-store} (RFC 9111 5.2.1.5). */
  REQUEST_NO_STORE("request-no-store"),
  /** {@code must-understand} with a status this cache does not understand (RFC 9111 5.2.2.3). */
  MUST_UNDERSTAND("must-understand"),
  /** The response said {@code no-store} (RFC 9111 5.2.2.5). */
  NO_STORE("no-store"),
  /** Unqualified {@code private} (RFC 9111 5.2.2.7). */
  PRIVATE("private"),
  /** The request carried Authorization and the response did not allow sharing (RFC 9111 3.5). */
  AUTHORIZATION("authorization"),
  /** Set-Cookie that would be stored and replayed (this cache's deliberate deviation; see Storability). */
  SET_COOKIE("set-cookie"),
  /** {@code Vary: *} can never match a later request (RFC 9110 12.5.5). */
  VARY_STAR("vary-star"),
  /** No freshness lifetime and no validator: nothing to reuse or revalidate. */
  NO_FRESHNESS("no-freshness"),
  /** The declared Content-Length exceeds the largest object the cache keeps. */
  TOO_LARGE("too-large");

  private final String detail;

  Refusal(String detail) {
    this.detail = detail;
  }

  /** The Cache-Status {@code detail} text. */
  public String detail() {
    return detail;
  }
}
