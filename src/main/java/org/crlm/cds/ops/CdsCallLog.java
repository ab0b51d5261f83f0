package org.crlm.cds.ops;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.crlm.cds.cdshooks.HookCompletedEvent;
import org.crlm.cds.cdshooks.IssuedCard;
import org.crlm.cds.feedback.FeedbackRecordedEvent;
import org.crlm.cds.security.RequestAttributes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.context.event.EventListener;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * One INFO line per CDS Hooks call (discovery, hook, feedback), answered or refused, that an
 * integrator can match to the EHR's side by the X-Correlation-Id header:
 * <pre>CDS call: correlationId=… call=hook service=crlm-ablation-order-sign status=412 durationMs=9 rules=- reason=incomplete at prefetch.geneticResults</pre>
 * It names ids, codes and field names only: never a token, a patient id or name, or a clinical
 * value (the reason is an OperationOutcome issue code and the fields it names, or the JWT
 * refusal reason). Runs outside the JWT check, so refused tokens are logged too.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 1)
public class CdsCallLog extends OncePerRequestFilter {

    private static final Logger log = LoggerFactory.getLogger(CdsCallLog.class);
    private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String uri = request.getRequestURI();
        return "OPTIONS".equals(request.getMethod())
                || !(uri.equals("/cds-services") || uri.startsWith("/cds-services/"));
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        long started = System.nanoTime();
        try {
            chain.doFilter(request, response);
        } finally {
            int status = response.getStatus();
            Object reason = request.getAttribute(RequestAttributes.REFUSAL_REASON);
            Object rules = request.getAttribute(RequestAttributes.RULE_IDS);
            String[] call = call(request);
            log.info(
                    "CDS call: correlationId={} call={} service={} status={} durationMs={} rules={} reason={}",
                    MDC.get(RequestAttributes.CORRELATION_ID),
                    call[0],
                    call[1],
                    status,
                    (System.nanoTime() - started) / 1_000_000,
                    rules == null ? "-" : rules,
                    reason != null ? reason : status >= 400 ? "http-" + status : "-");
        }
    }

    /** [kind, service id] from the path; a path that is not a plain id is not echoed. */
    private static String[] call(HttpServletRequest request) {
        String path = request.getRequestURI().substring("/cds-services".length());
        List<String> parts = new ArrayList<>();
        for (String p : path.split("/")) {
            if (!p.isEmpty()) {
                parts.add(p);
            }
        }
        if (parts.isEmpty()) {
            return new String[] {"discovery", "-"};
        }
        String service = SAFE_ID.matcher(parts.get(0)).matches() ? parts.get(0) : "(not an id)";
        if (parts.size() == 1) {
            return new String[] {"hook", service};
        }
        return new String[] {parts.size() == 2 && parts.get(1).equals("feedback") ? "feedback" : "other", service};
    }

    /** The rule ids of the cards a hook call answered with (published on the request's thread). */
    @EventListener
    public void on(HookCompletedEvent event) {
        Set<String> rules = new LinkedHashSet<>();
        for (IssuedCard card : event.cards()) {
            rules.add(card.ruleId());
        }
        setRules(rules.isEmpty() ? "none" : String.join(",", rules));
    }

    /** The rule ids the feedback items refer to. */
    @EventListener
    public void on(FeedbackRecordedEvent event) {
        var attributes = RequestContextHolder.getRequestAttributes();
        if (attributes == null || event.ruleId() == null) {
            return;
        }
        Object before = attributes.getAttribute(
                RequestAttributes.RULE_IDS, org.springframework.web.context.request.RequestAttributes.SCOPE_REQUEST);
        Set<String> rules = new LinkedHashSet<>();
        if (before instanceof String s && !s.equals("none")) {
            rules.addAll(List.of(s.split(",")));
        }
        rules.add(event.ruleId());
        setRules(String.join(",", rules));
    }

    private static void setRules(String rules) {
        var attributes = RequestContextHolder.getRequestAttributes();
        if (attributes != null) {
            attributes.setAttribute(
                    RequestAttributes.RULE_IDS,
                    rules,
                    org.springframework.web.context.request.RequestAttributes.SCOPE_REQUEST);
        }
    }
}
