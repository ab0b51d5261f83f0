package org.crlm.cds.fhirserver;

import ca.uhn.fhir.batch2.jobs.config.Batch2JobsConfig;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.config.ThreadPoolFactoryConfig;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.batch2.JpaBatch2Config;
import ca.uhn.fhir.jpa.cache.ResourceChangeListenerRegistryInterceptor;
import ca.uhn.fhir.jpa.config.HapiJpaConfig;
import ca.uhn.fhir.jpa.config.r4.JpaR4Config;
import ca.uhn.fhir.jpa.config.util.HapiEntityManagerFactoryUtil;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.provider.IJpaSystemProvider;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.jpa.searchparam.registry.SearchParamRegistryImpl;
import ca.uhn.fhir.jpa.subscription.channel.config.SubscriptionChannelConfig;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.HardcodedServerAddressStrategy;
import ca.uhn.fhir.rest.server.IncomingRequestAddressStrategy;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import jakarta.persistence.EntityManagerFactory;
import javax.sql.DataSource;
import org.crlm.cds.security.CdsClientProperties;
import org.crlm.cds.security.ChainedSearchGuard;
import org.crlm.cds.security.FhirApiProperties;
import org.crlm.cds.security.LimitsProperties;
import org.crlm.cds.security.SmartAuthorizationInterceptor;
import org.crlm.cds.security.SmartConfiguration;
import org.crlm.cds.security.SmartSearchNarrowingInterceptor;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Meta;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.orm.jpa.JpaProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;

/**
 * The HAPI FHIR R4 JPA server inside this Spring Boot app, served at {@code /fhir}. HAPI
 * owns its schema (Hibernate creates and updates it); our own tables come from Flyway.
 */
@Configuration
@Import({
    JpaR4Config.class,
    HapiJpaConfig.class,
    JpaBatch2Config.class,
    Batch2JobsConfig.class,
    // batch2 needs a broker client, the transaction processor a thread pool factory
    SubscriptionChannelConfig.class,
    ThreadPoolFactoryConfig.class
})
public class FhirServerConfig {

    /** Static: it removes bean definitions, so it must exist before any other bean of this class. */
    @Bean
    static SupportedResourceTypes supportedResourceTypes(org.springframework.core.env.Environment environment) {
        return new SupportedResourceTypes(environment);
    }

    @Bean
    static RepositoriesOnFirstUse repositoriesOnFirstUse() {
        return new RepositoriesOnFirstUse();
    }

    @Bean
    public JpaStorageSettings storageSettings(FhirServerProperties properties) {
        JpaStorageSettings settings = new JpaStorageSettings();
        settings.setDefaultSearchParamsCanBeOverridden(false);
        // No fetchSizeDefaultMaximum: it caps every search HAPI runs internally, including the
        // local-store prefetch reads, which then saw part of a large record without any signal.
        // Page sizes of the REST API are bounded by the paging provider instead.
        settings.setExpungeEnabled(false);
        // HAPI reuses a search's cached result for a minute by default: a client that writes a
        // result and then searches would get the record as it was before. Every search runs anew.
        settings.setReuseCachedSearchResultsForMillis(null);
        return settings;
    }

    @Bean
    public PartitionSettings partitionSettings() {
        return new PartitionSettings();
    }

    @Primary
    @Bean
    public LocalContainerEntityManagerFactoryBean entityManagerFactory(
            ConfigurableListableBeanFactory beanFactory,
            FhirContext fhirContext,
            JpaStorageSettings storageSettings,
            DataSource dataSource,
            JpaProperties jpa) {
        LocalContainerEntityManagerFactoryBean factory =
                HapiEntityManagerFactoryUtil.newEntityManagerFactory(beanFactory, fhirContext, storageSettings);
        factory.setPersistenceUnitName("HAPI_PU");
        factory.setDataSource(dataSource);
        factory.setJpaPropertyMap(jpa.getProperties());
        // No background bootstrap (setBootstrapExecutor): Hibernate then asks Spring for HAPI's entity
        // listener beans from its own thread while the main thread, holding the bean factory's lock,
        // waits for the factory (a deadlock, seen at start-up).
        return factory;
    }

    @Primary
    @Bean
    public JpaTransactionManager transactionManager(EntityManagerFactory entityManagerFactory) {
        return new JpaTransactionManager(entityManagerFactory);
    }

    /** Makes a write on this node refresh resource-change listeners at once (HAPI declares no such bean itself). */
    @Bean
    public ResourceChangeListenerRegistryInterceptor resourceChangeListenerRegistryInterceptor() {
        return new ResourceChangeListenerRegistryInterceptor();
    }

    @Bean
    public RestfulServer fhirRestfulServer(
            FhirContext fhirContext,
            IFhirSystemDao<Bundle, Meta> systemDao,
            ResourceProviderFactory resourceProviders,
            IJpaSystemProvider systemProvider,
            DatabaseBackedPagingProvider pagingProvider,
            JpaStorageSettings storageSettings,
            SearchParamRegistryImpl searchParamRegistry,
            IValidationSupport validationSupport,
            FhirServerProperties properties,
            FhirApiProperties fhirApi,
            SmartConfiguration smartConfiguration,
            CdsClientProperties cdsClient) {
        RestfulServer server = new RestfulServer(fhirContext) {
            @Override
            public void addHeadersToResponse(jakarta.servlet.http.HttpServletResponse response) {
                // No X-Powered-By: the server's product and version are nobody's business.
            }
        };
        server.registerProviders(resourceProviders.createProviders());
        server.registerProvider(systemProvider);
        server.setServerConformanceProvider(new JpaCapabilityStatementProvider(
                server, systemDao, storageSettings, searchParamRegistry, validationSupport));
        server.setImplementationDescription("CRLM ablation CDS: HAPI FHIR R4 JPA server");
        pagingProvider.setDefaultPageSize(properties.defaultPageSize());
        pagingProvider.setMaximumPageSize(properties.maxPageSize());
        server.setPagingProvider(pagingProvider);
        server.setDefaultResponseEncoding(EncodingEnum.JSON);
        String publicBase = publicBaseUrl(properties, cdsClient);
        // Links and Location from configuration, never from the request's Host header.
        server.setServerAddressStrategy(
                publicBase != null
                        ? new HardcodedServerAddressStrategy(publicBase)
                        : new IncomingRequestAddressStrategy());
        // Authorisation by HAPI on its parsed request: narrowing first, then the SMART rules.
        server.registerInterceptor(new SmartSearchNarrowingInterceptor(fhirApi));
        server.registerInterceptor(new ChainedSearchGuard(fhirContext, fhirApi));
        server.registerInterceptor(new SmartAuthorizationInterceptor(fhirApi));
        server.registerInterceptor(smartConfiguration);
        server.registerInterceptor(new NoInternalDetailsInOutcomes());
        server.registerInterceptor(new FhirRequestLimits(properties));
        return server;
    }

    static String publicBaseUrl(FhirServerProperties properties, CdsClientProperties cdsClient) {
        if (properties.publicBaseUrl() != null && !properties.publicBaseUrl().isBlank()) {
            return properties.publicBaseUrl().replaceAll("/+$", "");
        }
        if (cdsClient.publicBaseUrl() != null && !cdsClient.publicBaseUrl().isBlank()) {
            return cdsClient.publicBaseUrl().replaceAll("/+$", "") + "/fhir";
        }
        return null;
    }

    /** Before Spring Security: an oversized or compressed body is refused before any work is done for it. */
    @Bean
    public FilterRegistrationBean<FhirBodyLimitFilter> fhirBodyLimitFilter(LimitsProperties limits) {
        FilterRegistrationBean<FhirBodyLimitFilter> registration = new FilterRegistrationBean<>(
                new FhirBodyLimitFilter(limits.maxBodySize().toBytes()));
        registration.addUrlPatterns("/fhir", "/fhir/*");
        registration.setOrder(-200);
        return registration;
    }

    @Bean
    public ServletRegistrationBean<RestfulServer> fhirServlet(RestfulServer server) {
        ServletRegistrationBean<RestfulServer> registration = new ServletRegistrationBean<>(server, "/fhir/*");
        registration.setName("fhir");
        registration.setLoadOnStartup(1);
        return registration;
    }
}
