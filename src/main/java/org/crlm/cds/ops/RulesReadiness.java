package org.crlm.cds.ops;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import org.crlm.cds.cdshooks.HookOutcome;
import org.crlm.cds.cdshooks.HookService;
import org.crlm.cds.cdshooks.SyntheticHookRequest;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.RuleLibraryCache;
import org.crlm.cds.rules.RuleSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Readiness of the rules in service ({@code rules} in the readiness group): after every swap,
 * every service answers a synthetic patient through the whole hook pipeline (prefetch
 * templates, evaluation, cards). If a service cannot answer or a rule fails to evaluate, this
 * node reports not ready, says why in the log and sets {@code cds_rules_evaluable} to 0, so a
 * load balancer stops sending it clinical calls instead of a stream of errors or "the other
 * checks ran normally" cards.
 */
@Component("rulesHealthIndicator")
public class RulesReadiness implements HealthIndicator {

    private static final Logger log = LoggerFactory.getLogger(RulesReadiness.class);

    private final HookService hooks;
    private final ServiceCatalog catalog;
    private volatile State state = new State(-1, false, List.of("no rules in service yet"));

    private record State(long generation, boolean evaluable, List<String> problems) {}

    public RulesReadiness(HookService hooks, ServiceCatalog catalog, RuleLibraryCache ruleCache, MeterRegistry meters) {
        this.hooks = hooks;
        this.catalog = catalog;
        Gauge.builder("cds.rules.evaluable", this, r -> r.state.evaluable() ? 1 : 0)
                .description("1 when every service of the rules in service evaluates a synthetic patient, else 0")
                .register(meters);
        ruleCache.onSwap(this::check);
    }

    /** Runs every service of this generation on the synthetic patient; records and logs the result. */
    public void check(RuleSet rules) {
        List<String> problems = new ArrayList<>();
        List<ServiceDefinition> services = catalog.services(rules);
        if (services.isEmpty()) {
            problems.add("the rules define no CDS service");
        }
        for (ServiceDefinition service : services) {
            try {
                HookOutcome outcome = hooks.answerWith(rules, service.id(), SyntheticHookRequest.forService(service));
                if (!outcome.failedRules().isEmpty()) {
                    problems.add(service.id() + ": rules " + outcome.failedRules() + " fail to evaluate");
                }
            } catch (RuntimeException e) {
                problems.add(service.id() + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
        state = new State(rules.generation(), problems.isEmpty(), List.copyOf(problems));
        if (problems.isEmpty()) {
            log.info(
                    "Rules generation {}: every service evaluates the synthetic patient; readiness UP",
                    rules.generation());
        } else {
            log.error(
                    "Rules generation {} cannot evaluate; readiness DOWN: {}",
                    rules.generation(),
                    String.join("; ", problems));
        }
    }

    @Override
    public Health health() {
        State current = state;
        Health.Builder health = current.evaluable() ? Health.up() : Health.down();
        return health.withDetail("generation", current.generation())
                .withDetail("problems", current.problems())
                .build();
    }
}
