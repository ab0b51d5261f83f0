package org.crlm.cds.cdshooks;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import org.crlm.cds.knowledge.KnowledgeStartup;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.RuleSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.core.Ordered;
import org.springframework.stereotype.Component;

/**
 * Before the server reports ready, runs every service on a synthetic patient through the whole
 * pipeline (parse, prefetch, evaluate, cards, JSON), so the first clinical request does not pay
 * for the engine's first evaluation or for cold code paths.
 */
@Component
public class HookWarmUp implements ApplicationRunner, Ordered {

    private static final Logger log = LoggerFactory.getLogger(HookWarmUp.class);
    private static final int ROUNDS = 30;

    private final HookService hooks;
    private final ServiceCatalog catalog;
    private final CdsJson json;
    private final ObjectMapper mapper = new ObjectMapper();

    public HookWarmUp(HookService hooks, ServiceCatalog catalog, CdsJson json) {
        this.hooks = hooks;
        this.catalog = catalog;
        this.json = json;
    }

    @Override
    public void run(ApplicationArguments args) throws IOException {
        long started = System.nanoTime();
        RuleSet rules = hooks.rules();
        int calls = 0;
        for (int round = 0; round < ROUNDS; round++) {
            for (ServiceDefinition service : catalog.services(rules)) {
                json.write(hooks.call(service.id(), SyntheticHookRequest.forService(service))
                        .response());
                calls++;
            }
        }
        log.info(
                "Warm-up: {} hook calls on a synthetic patient in {} ms",
                calls,
                (System.nanoTime() - started) / 1_000_000);
    }

    @Override
    public int getOrder() {
        return KnowledgeStartup.ORDER + 100;
    }
}
