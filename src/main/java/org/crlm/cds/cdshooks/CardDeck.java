package org.crlm.cds.cdshooks;

import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceIndicatorEnum;
import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseCardJson;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.crlm.cds.knowledge.Decision;
import org.crlm.cds.ops.LogSafe;
import org.crlm.cds.rules.ExpressionFailure;
import org.crlm.cds.rules.RuleSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The cards of a decision, most urgent first: one per fired rule, plus one info card naming
 * the rules that could not be evaluated (a failure is never silent).
 */
@Component
class CardDeck {

    private static final Logger log = LoggerFactory.getLogger(CardDeck.class);

    /** Card order: most urgent first; within an indicator, the service's rule order. */
    private static final Map<CdsServiceIndicatorEnum, Integer> RANK = Map.of(
            CdsServiceIndicatorEnum.CRITICAL, 0,
            CdsServiceIndicatorEnum.WARNING, 1,
            CdsServiceIndicatorEnum.INFO, 2);

    /** The cards in order, each with what feedback and audit keep of it. */
    record Dealt(List<CdsServiceResponseCardJson> cards, List<IssuedCard> issued, List<String> failedRules) {}

    private final CardFactory cards;

    CardDeck(CardFactory cards) {
        this.cards = cards;
    }

    Dealt deal(Decision decision, RuleSet rules, HookContext context, String hookInstance) {
        List<Ranked> ranked = new ArrayList<>();
        // Most urgent first, so a shared evidence paragraph is shown in full on the most urgent card
        // and referred to by the later ones.
        List<Decision.RuleOutcome> fired = new ArrayList<>(decision.fired());
        fired.sort(Comparator.comparingInt(
                r -> RANK.get(CardFactory.indicator(r.rule().priority()))));
        Map<String, String> shownEvidence = new HashMap<>();
        for (Decision.RuleOutcome rule : fired) {
            if (rule.failure() != null) {
                log.warn(
                        "Facts of rule {} failed: {} line {} ({}); the card is issued without them",
                        rule.rule().ruleId(),
                        rule.failure().expression(),
                        rule.failure().line(),
                        rule.failure().errorType());
            }
            CdsServiceResponseCardJson card =
                    cards.card(rule, rules, context, shownEvidence, decision.plannedLesions());
            ranked.add(new Ranked(
                    card,
                    new IssuedCard(
                            card.getUuid(),
                            rule.rule().ruleId(),
                            card.getIndicator().name().toLowerCase(Locale.ROOT),
                            rule.libraryUrl(),
                            rule.libraryVersion())));
        }
        List<String> failed = new ArrayList<>();
        for (Decision.RuleOutcome rule : decision.failed()) {
            ExpressionFailure f = rule.failure();
            failed.add(rule.rule().ruleId());
            log.error(
                    "Rule {} of service {} failed: {} at {} line {} ({}); hookInstance {}",
                    rule.rule().ruleId(),
                    decision.service().id(),
                    f.expression(),
                    f.library(),
                    f.line(),
                    f.errorType(),
                    LogSafe.of(hookInstance));
        }
        if (!failed.isEmpty()) {
            String library = decision.failed().get(0).libraryUrl();
            String version = decision.libraryVersions().get(library);
            CdsServiceResponseCardJson card = cards.checksFailedCard(failed, library, version);
            ranked.add(new Ranked(card, new IssuedCard(card.getUuid(), "RULE-ERROR", "info", library, version)));
        }
        ranked.sort(Comparator.comparingInt(r -> RANK.get(r.card().getIndicator())));
        return new Dealt(
                ranked.stream().map(Ranked::card).toList(),
                ranked.stream().map(Ranked::issued).toList(),
                List.copyOf(failed));
    }

    private record Ranked(CdsServiceResponseCardJson card, IssuedCard issued) {}
}
