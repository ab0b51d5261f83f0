package org.crlm.cds.knowledge;

import ca.uhn.fhir.context.FhirContext;
import java.nio.file.Path;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.EnvironmentAware;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Reads every file of cql/ and fhir-resources/ before anything heavy starts, so a malformed
 * file stops start-up in seconds with its name, not after the FHIR server has booted.
 */
public class RepositoryFilesCheck implements BeanFactoryPostProcessor, EnvironmentAware {

    private Environment environment;

    @Override
    public void setEnvironment(Environment environment) {
        this.environment = environment;
    }

    @Override
    public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {
        Binder binder = Binder.get(environment);
        Path cql = binder.bind("crlm.knowledge.cql-dir", Path.class).orElse(Path.of("cql"));
        Path resources = binder.bind("crlm.knowledge.resources-dir", Path.class).orElse(Path.of("fhir-resources"));
        boolean demo =
                binder.bind("crlm.knowledge.load-demo-data", Boolean.class).orElse(true);
        RepositoryFiles files = new RepositoryFiles(FhirContext.forR4Cached());
        files.readCqlLibraries(cql, "http://crlm-cds.org/fhir");
        files.readResources(resources, demo);
    }

    @Configuration
    static class Wiring {
        @Bean
        static RepositoryFilesCheck repositoryFilesCheck() {
            return new RepositoryFilesCheck();
        }
    }
}
