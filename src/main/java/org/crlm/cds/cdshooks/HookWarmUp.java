package org.crlm.cds.cdshooks;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.crlm.cds.knowledge.KnowledgeStartup;
import org.crlm.cds.knowledge.ServiceCatalog;
import org.crlm.cds.knowledge.ServiceDefinition;
import org.crlm.cds.rules.RuleSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;
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
    private static final int LOCAL_STORE_ROUNDS = 3;

    private final HookService hooks;
    private final ServiceCatalog catalog;
    private final CdsJson json;
    private final HookRequestParser parser;
    private final LocalStoreReader localStore;
    private final Environment environment;

    public HookWarmUp(
            HookService hooks,
            ServiceCatalog catalog,
            CdsJson json,
            HookRequestParser parser,
            LocalStoreReader localStore,
            Environment environment) {
        this.hooks = hooks;
        this.catalog = catalog;
        this.json = json;
        this.parser = parser;
        this.localStore = localStore;
        this.environment = environment;
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
        int reads = 0;
        for (int round = 0; round < LOCAL_STORE_ROUNDS; round++) {
            reads += readLocalStore(rules);
        }
        boolean http = requestOverHttp();
        log.info(
                "Warm-up: {} hook calls on a synthetic patient, {} local-store queries{} in {} ms",
                calls,
                reads,
                http ? ", HTTP requests" : "",
                (System.nanoTime() - started) / 1_000_000);
    }

    /**
     * A call without prefetch reads the record from this server's FHIR store: the JPA search path
     * (query building, SQL, Hibernate) is the cold part of the first such call. Every service's
     * prefetch queries run for the synthetic patient, whom the store does not hold (empty answers).
     */
    private int readLocalStore(RuleSet rules) {
        int reads = 0;
        for (ServiceDefinition service : catalog.services(rules)) {
            HookRequest request = parser.parse(SyntheticHookRequest.forService(service));
            LocalStoreReader.PatientView view =
                    localStore.open(request.context().patientId());
            view.hasPatient();
            for (Map.Entry<String, String> template : service.prefetch().entrySet()) {
                Optional<String> query = PrefetchTemplates.substitute(
                        PrefetchTemplates.expandValueSets(template.getValue(), rules), request.context());
                if (query.isPresent()) {
                    try {
                        view.read(template.getKey(), query.get());
                        reads++;
                    } catch (RuntimeException e) {
                        // Warming only: a query the store refuses is refused the same way on a real call.
                        log.debug("Warm-up local-store query {} refused: {}", template.getKey(), e.toString());
                    }
                }
            }
        }
        return reads;
    }

    /**
     * The first request Tomcat, Spring MVC and the security filters serve loads their code: the
     * liveness probe over loopback takes that cost (public, no audit row, no JWT refusal logged;
     * /cds-services would count as a refused client where the CDS client JWT is required).
     */
    private boolean requestOverHttp() {
        Integer port = environment.getProperty("local.server.port", Integer.class);
        if (port == null || port <= 0) {
            return false;
        }
        try {
            HttpClient client = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(2))
                    .build();
            for (int i = 0; i < 3; i++) {
                client.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health/liveness"))
                                .timeout(Duration.ofSeconds(10))
                                .build(),
                        HttpResponse.BodyHandlers.discarding());
            }
            return true;
        } catch (IOException e) {
            // Bound to another address than loopback: the first call pays for it instead.
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public int getOrder() {
        return KnowledgeStartup.ORDER + 100;
    }
}
