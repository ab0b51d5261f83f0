package org.crlm.cds.security;

/** Names of request attributes and log (MDC) keys the filters set for the rest of the request. */
public final class RequestAttributes {

    /** The verified {@code iss} of the CDS client's JWT. */
    public static final String CLIENT_ISSUER = "crlm.cds.clientIssuer";
    /** The correlation id of the call (MDC key and response header X-Correlation-Id). */
    public static final String CORRELATION_ID = "correlationId";

    /** Why the call was refused or failed, for the call log: a reason code, never client data or a message. */
    public static final String REFUSAL_REASON = "crlm.cds.refusalReason";
    /** The rule ids of the cards a hook call answered with, or the feedback items referred to, for the call log. */
    public static final String RULE_IDS = "crlm.cds.ruleIds";

    private RequestAttributes() {}
}
