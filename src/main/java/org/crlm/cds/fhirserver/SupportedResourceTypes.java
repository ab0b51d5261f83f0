package org.crlm.cds.fhirserver;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.BeanDefinitionRegistryPostProcessor;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.env.Environment;

/**
 * Restricts HAPI's JPA server to the resource types of {@code crlm.fhir.resource-types}. HAPI
 * declares a DAO and a REST provider bean for each of the 146 R4 types and creates every one at
 * start-up (DaoRegistry asks the context for all DAOs); creating them was the largest single part
 * of the start (BENCHMARKS.md, "Start-up"). The beans of the other types are removed before any
 * is created, and the DaoRegistry answers "not supported" for them, so /fhir refuses those types
 * (HAPI's 404 "Unknown resource type") and the capability statement lists only the kept ones.
 */
final class SupportedResourceTypes implements BeanDefinitionRegistryPostProcessor, BeanPostProcessor {

    private static final Logger log = LoggerFactory.getLogger(SupportedResourceTypes.class);
    private static final Pattern DAO = Pattern.compile("my([A-Z][A-Za-z]+)DaoR4");
    private static final Pattern PROVIDER = Pattern.compile("rp([A-Z][A-Za-z]+)R4");

    private final Set<String> types;

    /** Binds {@link FhirServerProperties} itself: it runs before configuration properties beans exist. */
    SupportedResourceTypes(Environment environment) {
        List<String> configured = Binder.get(environment)
                .bindOrCreate("crlm.fhir", FhirServerProperties.class)
                .resourceTypes();
        this.types = configured == null ? new TreeSet<>() : new TreeSet<>(configured);
    }

    @Override
    public void postProcessBeanDefinitionRegistry(BeanDefinitionRegistry registry) throws BeansException {
        if (types.isEmpty()) {
            return;
        }
        Set<String> daoTypes = new TreeSet<>();
        for (String name : registry.getBeanDefinitionNames()) {
            Matcher dao = DAO.matcher(name);
            if (dao.matches() && !"System".equals(dao.group(1))) {
                daoTypes.add(dao.group(1));
            }
        }
        Set<String> unknown = new TreeSet<>(types);
        unknown.removeAll(daoTypes);
        if (!unknown.isEmpty()) {
            throw new IllegalStateException("crlm.fhir.resource-types names types HAPI does not store: " + unknown);
        }
        int removed = 0;
        for (String name : registry.getBeanDefinitionNames()) {
            Matcher dao = DAO.matcher(name);
            Matcher provider = PROVIDER.matcher(name);
            String type = dao.matches() ? dao.group(1) : provider.matches() ? provider.group(1) : null;
            if (type != null && daoTypes.contains(type) && !types.contains(type)) {
                registry.removeBeanDefinition(name);
                removed++;
            }
        }
        log.info("FHIR resource types stored and served: {} ({} HAPI beans of other types left out)", types, removed);
    }

    @Override
    public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {}

    @Override
    public Object postProcessBeforeInitialization(Object bean, String beanName) {
        if (bean instanceof DaoRegistry registry && !types.isEmpty()) {
            registry.setSupportedResourceTypes(types);
        }
        return bean;
    }
}
