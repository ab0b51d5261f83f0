package org.crlm.cds.security;

/** Names of request attributes and log (MDC) keys the filters set for the rest of the request. */
public final class RequestAttributes {

    /** The verified {@code iss} of the CDS client's JWT. */
    public static final String CLIENT_ISSUER = "crlm.cds.clientIssuer";
    /** The correlation id of the call (MDC key and response header X-Correlation-Id). */
    public static final String CORRELATION_ID = "correlationId";

    private RequestAttributes() {
    }
}
