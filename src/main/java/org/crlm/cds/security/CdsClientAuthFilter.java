package org.crlm.cds.security;

import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.crlm.cds.ops.LogSafe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Requires a valid CDS client JWT on every call under /cds-services (discovery, services,
 * feedback). A refusal is a bare 401 with a generic OperationOutcome; the reason is logged
 * with issuer and kid, never the token.
 */
public class CdsClientAuthFilter extends OncePerRequestFilter {

    private static final Logger log = LoggerFactory.getLogger(CdsClientAuthFilter.class);
    private static final byte[] UNAUTHORIZED =
            ("{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\","
                            + "\"code\":\"login\",\"diagnostics\":\"Unauthorized\"}]}")
                    .getBytes(StandardCharsets.UTF_8);
    private static final byte[] DATABASE_UNAVAILABLE =
            ("{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\","
                            + "\"code\":\"transient\",\"diagnostics\":\"The service's database is unavailable;"
                            + " try again shortly\"}]}")
                    .getBytes(StandardCharsets.UTF_8);

    private final CdsJwtVerifier verifier;
    private final CdsClientProperties properties;
    private final MeterRegistry meters;

    public CdsClientAuthFilter(CdsJwtVerifier verifier, CdsClientProperties properties, MeterRegistry meters) {
        this.verifier = verifier;
        this.properties = properties;
        this.meters = meters;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if ("OPTIONS".equals(request.getMethod())) {
            chain.doFilter(request, response);
            return;
        }
        try {
            CdsJwtVerifier.Client client = verifier.verify(request.getHeader("Authorization"), audiences(request));
            request.setAttribute(RequestAttributes.CLIENT_ISSUER, client.issuer());
        } catch (CdsJwtVerifier.Refusal refusal) {
            meters.counter("cds.jwt.refusals", "reason", refusal.reason().name())
                    .increment();
            request.setAttribute(
                    RequestAttributes.REFUSAL_REASON, "jwt " + refusal.reason().name());
            // iss and kid come from a token that failed verification: logged sanitised.
            log.warn(
                    "CDS client JWT refused: reason={} iss={} kid={} path={}",
                    refusal.reason(),
                    LogSafe.of(refusal.issuer()),
                    LogSafe.of(refusal.kid()),
                    LogSafe.of(request.getRequestURI()));
            response.setStatus(401);
            response.setHeader("WWW-Authenticate", "Bearer");
            response.setContentType("application/json");
            response.getOutputStream().write(UNAUTHORIZED);
            return;
        } catch (org.springframework.dao.DataAccessException databaseDown) {
            // The token's jti cannot be checked against replays without the database: a 503 at once
            // (the pool's connection timeout bounds the wait), never an unanswered or 500 call.
            log.warn("CDS client JWT not checked, database unavailable: {}", databaseDown.toString());
            request.setAttribute(RequestAttributes.REFUSAL_REASON, "database unavailable");
            response.setStatus(503);
            response.setContentType("application/json");
            response.getOutputStream().write(DATABASE_UNAVAILABLE);
            return;
        }
        chain.doFilter(request, response);
    }

    /** The URL called (as the EHR sees it); a feedback call may also name its service's URL. */
    private List<String> audiences(HttpServletRequest request) {
        String base = properties.publicBaseUrl();
        if (base == null || base.isBlank()) {
            StringBuilder b =
                    new StringBuilder(request.getScheme()).append("://").append(request.getServerName());
            int port = request.getServerPort();
            boolean defaultPort = ("http".equals(request.getScheme()) && port == 80)
                    || ("https".equals(request.getScheme()) && port == 443);
            if (!defaultPort) {
                b.append(':').append(port);
            }
            base = b.toString();
        }
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        String path = request.getRequestURI();
        List<String> accepted = new ArrayList<>();
        accepted.add(base + path);
        if (path.endsWith("/feedback")) {
            accepted.add(base + path.substring(0, path.length() - "/feedback".length()));
        }
        return accepted;
    }
}
