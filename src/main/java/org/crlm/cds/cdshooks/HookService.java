package org.crlm.cds.cdshooks;

import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseJson;
import com.fasterxml.jackson.databind.JsonNode;
import org.crlm.cds.knowledge.Decision;
import org.crlm.cds.knowledge.DecisionEvaluator;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.PatientData;
import org.crlm.cds.rules.RuleLibraryCache;
import org.crlm.cds.rules.RuleSet;
import org.springframework.stereotype.Service;

/**
 * One hook call from validated request to cards: find the service, gather the patient's data,
 * let the {@link DecisionEvaluator} decide (a failing rule cannot silence the others), and
 * build the cards of the rules that fired, most urgent first.
 */
@Service
public class HookService {

    private final HookRequestParser parser;
    private final ServiceCatalog catalog;
    private final PrefetchResolver prefetch;
    private final RuleLibraryCache ruleCache;
    private final DecisionEvaluator evaluator;
    private final CardDeck deck;

    public HookService(
            HookRequestParser parser,
            ServiceCatalog catalog,
            PrefetchResolver prefetch,
            RuleLibraryCache ruleCache,
            DecisionEvaluator evaluator,
            CardDeck deck) {
        this.parser = parser;
        this.catalog = catalog;
        this.prefetch = prefetch;
        this.ruleCache = ruleCache;
        this.evaluator = evaluator;
        this.deck = deck;
    }

    public RuleSet rules() {
        return ruleCache.current().orElseThrow(RulesNotReadyException::new);
    }

    public ServiceDefinition service(String serviceId) {
        return catalog.service(rules(), serviceId).orElseThrow(() -> new UnknownServiceException(serviceId));
    }

    public HookOutcome call(String serviceId, JsonNode body) {
        return answerWith(rules(), serviceId, body);
    }

    /** A call answered by the given rule set (the readiness check runs each new generation this way). */
    public HookOutcome answerWith(RuleSet rules, String serviceId, JsonNode body) {
        ServiceDefinition service =
                catalog.service(rules, serviceId).orElseThrow(() -> new UnknownServiceException(serviceId));
        JsonNode hook = body == null ? null : body.get("hook");
        if (hook != null && hook.isTextual() && !service.hook().equals(hook.asText())) {
            throw new InvalidHookRequestException(
                    "hook",
                    "Service '" + serviceId + "' answers the " + service.hook() + " hook, not " + hook.asText());
        }
        HookRequest request = parser.parse(body);
        PatientRecord record = prefetch.resolve(service, request, rules);
        return answer(service, request, record, rules);
    }

    /** Decides on the gathered data and deals the cards. */
    HookOutcome answer(ServiceDefinition service, HookRequest request, PatientRecord record, RuleSet rules) {
        Decision decision = evaluator.decide(
                rules,
                service,
                new PatientData(request.context().patientId(), record.resources()),
                request.context().hookOrderIds());
        CardDeck.Dealt dealt = deck.deal(decision, rules, request.context(), request.hookInstance());
        CdsServiceResponseJson response = new CdsServiceResponseJson();
        dealt.cards().forEach(response::addCard);
        return new HookOutcome(
                request,
                response,
                dealt.issued(),
                dealt.failedRules(),
                decision.libraryVersions(),
                record.sources(),
                record);
    }
}
