package org.crlm.cds.knowledge;

import ca.uhn.fhir.context.FhirContext;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.stereotype.Component;

/**
 * First start-up step after the server is up: load the repository and put the rules in
 * service, then watch for changes. Readiness is reported only after every runner has finished.
 */
@Component
public class KnowledgeStartup implements ApplicationRunner, Ordered {

    public static final int ORDER = 0;

    private final KnowledgeLoader loader;
    private final KnowledgeSync sync;

    public KnowledgeStartup(KnowledgeLoader loader, KnowledgeSync sync) {
        this.loader = loader;
        this.sync = sync;
    }

    @Override
    public void run(ApplicationArguments args) {
        loader.load();
        sync.start();
    }

    @Override
    public int getOrder() {
        return ORDER;
    }

    @org.springframework.context.annotation.Configuration
    static class Files {
        @Bean
        RepositoryFiles repositoryFiles(FhirContext fhirContext) {
            return new RepositoryFiles(fhirContext);
        }
    }
}
