package org.crlm.cds.feedback;

import jakarta.servlet.http.HttpServletRequest;
import java.util.List;
import java.util.Map;
import org.crlm.cds.cdshooks.HookService;
import org.crlm.cds.security.JsonBodyReader;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * CDS Hooks 2.0 feedback ({@code POST /cds-services/{id}/feedback}) and the counts per rule
 * version informaticians read ({@code GET /console/api/feedback}).
 */
@RestController
public class FeedbackController {

    private final HookService hooks;
    private final FeedbackService feedback;
    private final FeedbackRepository repository;
    private final JsonBodyReader bodies;

    public FeedbackController(
            HookService hooks, FeedbackService feedback, FeedbackRepository repository, JsonBodyReader bodies) {
        this.hooks = hooks;
        this.feedback = feedback;
        this.repository = repository;
        this.bodies = bodies;
    }

    @PostMapping("/cds-services/{serviceId}/feedback")
    public ResponseEntity<?> feedback(@PathVariable String serviceId, HttpServletRequest http) {
        hooks.service(serviceId);
        List<FeedbackItem> items = FeedbackParser.parse(bodies.read(http));
        FeedbackService.Result result = feedback.record(serviceId, items);
        return ResponseEntity.ok()
                .contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("stored", result.stored(), "duplicates", result.duplicates()));
    }

    /**
     * Accept/override counts and override reasons per rule and library version; {@code byService}:
     * per service and rule, every library version's counts and override rate side by side.
     */
    @GetMapping(value = "/console/api/feedback", produces = MediaType.APPLICATION_JSON_VALUE)
    public Map<String, Object> counts() {
        return Map.of(
                "rules",
                repository.countsByRuleVersion(),
                "overrideReasons",
                repository.overrideReasons(),
                "byService",
                repository.countsByServiceRuleVersion());
    }
}
