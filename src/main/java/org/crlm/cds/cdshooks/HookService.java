package org.crlm.cds.cdshooks;

import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseCardJson;
import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseJson;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.crlm.cds.rules.EvaluationSession;
import org.crlm.cds.rules.ExpressionResult;
import org.crlm.cds.rules.PatientData;
import org.crlm.cds.rules.RuleEngine;
import org.crlm.cds.rules.RuleLibraryCache;
import org.crlm.cds.rules.RuleSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

/**
 * One hook call from validated request to cards: find the service, gather the patient's data,
 * evaluate each rule's condition (a failing rule cannot silence the others), and build the
 * cards of the rules that apply, most urgent first.
 */
@Service
public class HookService {

    private static final Logger log = LoggerFactory.getLogger(HookService.class);

    private final HookRequestParser parser;
    private final ServiceCatalog catalog;
    private final PrefetchResolver prefetch;
    private final RuleLibraryCache ruleCache;
    private final RuleEngine engine;
    private final CardFactory cards;

    public HookService(HookRequestParser parser, ServiceCatalog catalog, PrefetchResolver prefetch,
            RuleLibraryCache ruleCache, RuleEngine engine, CardFactory cards) {
        this.parser = parser;
        this.catalog = catalog;
        this.prefetch = prefetch;
        this.ruleCache = ruleCache;
        this.engine = engine;
        this.cards = cards;
    }

    public RuleSet rules() {
        return ruleCache.current().orElseThrow(RulesNotReadyException::new);
    }

    public CdsService service(String serviceId) {
        return catalog.service(rules(), serviceId).orElseThrow(() -> new UnknownServiceException(serviceId));
    }

    public HookOutcome call(String serviceId, JsonNode body) {
        RuleSet rules = rules();
        CdsService service = catalog.service(rules, serviceId).orElseThrow(() -> new UnknownServiceException(serviceId));
        JsonNode hook = body == null ? null : body.get("hook");
        if (hook != null && hook.isTextual() && !service.hook().equals(hook.asText())) {
            throw new InvalidHookRequestException("hook", "Service '" + serviceId + "' answers the " + service.hook()
                    + " hook, not " + hook.asText());
        }
        HookRequest request = parser.parse(body);
        PatientRecord record = prefetch.resolve(service, request, rules);
        return decide(service, request, record, rules);
    }

    /** Evaluates the service's rules on the gathered data and builds the cards. */
    public HookOutcome decide(CdsService service, HookRequest request, PatientRecord record, RuleSet rules) {
        EvaluationSession session = engine.open(rules, new PatientData(request.context().patientId(), record.resources()), Map.of());
        List<CdsServiceResponseCardJson> issued = new ArrayList<>();
        List<IssuedCard> issuedCards = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        Map<String, String> versions = new LinkedHashMap<>();
        String anyLibrary = null;
        for (RuleAction rule : service.rules()) {
            if (rule.condition() == null) {
                continue;
            }
            ExpressionResult applies = session.evaluate(rule.condition());
            String libraryUrl = rule.condition().libraryCanonical();
            anyLibrary = libraryUrl;
            if (applies.libraryVersion() != null) {
                versions.put(libraryUrl, applies.libraryVersion());
            }
            if (applies.failed()) {
                failed.add(rule.ruleId());
                log.error("Rule {} of service {} failed: {} at {} line {} ({}); hookInstance {}", rule.ruleId(), service.id(),
                        applies.failure().expression(), applies.failure().library(), applies.failure().line(),
                        applies.failure().errorType(), request.hookInstance());
                continue;
            }
            if (!applies.isTrue()) {
                continue;
            }
            String facts = null;
            if (rule.facts() != null) {
                ExpressionResult factsResult = session.evaluate(rule.facts());
                if (factsResult.failed()) {
                    log.warn("Facts of rule {} failed: {} line {} ({}); the card is issued without them", rule.ruleId(),
                            factsResult.failure().expression(), factsResult.failure().line(), factsResult.failure().errorType());
                    facts = "(the patient details for this card could not be computed)";
                } else if (factsResult.value() != null) {
                    facts = factsResult.value().toString();
                }
            }
            CdsServiceResponseCardJson card = cards.card(rule, facts, libraryUrl, applies.libraryVersion(), rules, request.context());
            issued.add(card);
            issuedCards.add(new IssuedCard(card.getUuid(), rule.ruleId(), card.getIndicator().name().toLowerCase(),
                    libraryUrl, applies.libraryVersion()));
        }
        if (!failed.isEmpty()) {
            CdsServiceResponseCardJson card = cards.checksFailedCard(failed, anyLibrary, versions.get(anyLibrary));
            issued.add(card);
            issuedCards.add(new IssuedCard(card.getUuid(), "RULE-ERROR", "info", anyLibrary, versions.get(anyLibrary)));
        }
        // Most urgent first; rules keep their PlanDefinition order within an indicator.
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < issued.size(); i++) {
            order.add(i);
        }
        order.sort(Comparator.comparingInt(i -> -issued.get(i).getIndicator().ordinal()));
        CdsServiceResponseJson response = new CdsServiceResponseJson();
        List<IssuedCard> sortedIssued = new ArrayList<>();
        for (int i : order) {
            response.addCard(issued.get(i));
            sortedIssued.add(issuedCards.get(i));
        }
        return new HookOutcome(request, response, sortedIssued, failed, versions, record.sources(), record);
    }
}
