package org.crlm.cds.security;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.Environment;

/**
 * Refuses to start an unsafe configuration before anything heavy starts (it runs before any
 * bean is created, so before the FHIR server and the web server): outside the demo
 * profile the CDS client JWT check must be on with at least one trusted issuer, the FHIR API's
 * tokens need an exact issuer and an audience; with the
 * check off (demo only) the server must listen on the loopback address only.
 */
public class SecurityStartupCheck implements BeanFactoryPostProcessor, EnvironmentAware {

    public static final String DEMO_PROFILE = "demo";

    private ConfigurableEnvironment environment;

    @Override
    public void setEnvironment(Environment environment) {
        this.environment = (ConfigurableEnvironment) environment;
    }

    @Override
    public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {
        check(environment);
    }

    static void check(ConfigurableEnvironment environment) {
        Binder binder = Binder.get(environment);
        boolean jwtOn = binder.bind("crlm.security.cds-client.enabled", Boolean.class).orElse(true);
        List<CdsClientProperties.Issuer> issuers = binder.bind("crlm.security.cds-client.issuers",
                Bindable.listOf(CdsClientProperties.Issuer.class)).orElse(List.of());
        boolean demo = Arrays.asList(environment.getActiveProfiles()).contains(DEMO_PROFILE)
                || (environment.getActiveProfiles().length == 0 && Arrays.asList(environment.getDefaultProfiles()).contains(DEMO_PROFILE));
        if (jwtOn && issuers.isEmpty()) {
            throw new IllegalStateException("Refusing to start: no trusted CDS client issuers. Register each EHR under "
                    + "crlm.security.cds-client.issuers (iss plus jwks-url, jwks-file or jwks); see README, Security. "
                    + "Only the demo profile may run with crlm.security.cds-client.enabled=false.");
        }
        if (!jwtOn && !demo) {
            throw new IllegalStateException("Refusing to start: crlm.security.cds-client.enabled=false is only allowed in the demo profile");
        }
        boolean fhirApiOn = binder.bind("crlm.security.fhir-api.enabled", Boolean.class).orElse(true);
        if (fhirApiOn && environment.getProperty("spring.security.oauth2.resourceserver.jwt.issuer-uri") == null
                && environment.getProperty("spring.security.oauth2.resourceserver.jwt.jwk-set-uri") == null
                && environment.getProperty("spring.security.oauth2.resourceserver.jwt.public-key-location") == null) {
            throw new IllegalStateException("Refusing to start: the FHIR API needs an OAuth2 token issuer. Set "
                    + "spring.security.oauth2.resourceserver.jwt.issuer-uri or .jwk-set-uri; see README, Security.");
        }
        if (fhirApiOn && (environment.getProperty("spring.security.oauth2.resourceserver.jwt.issuer-uri") == null
                || binder.bind("spring.security.oauth2.resourceserver.jwt.audiences", Bindable.listOf(String.class))
                        .orElse(List.of()).stream().allMatch(String::isBlank))) {
            throw new IllegalStateException("Refusing to start: the FHIR API needs the exact token issuer and its audience. Set "
                    + "spring.security.oauth2.resourceserver.jwt.issuer-uri and .audiences (the aud its tokens carry); see README, Security.");
        }
        if (!demo) {
            List<String> origins = binder.bind("crlm.security.cors.allowed-origins", Bindable.listOf(String.class)).orElse(List.of());
            if (origins.stream().anyMatch(o -> o.trim().equals("*"))) {
                throw new IllegalStateException("Refusing to start: crlm.security.cors.allowed-origins=* is only allowed in the "
                        + "demo profile; list the EHR front ends' origins");
            }
            if (blank(environment.getProperty("crlm.fhir.public-base-url"))
                    && blank(environment.getProperty("crlm.security.cds-client.public-base-url"))) {
                throw new IllegalStateException("Refusing to start: the FHIR API's public base URL is not set (Bundle links and "
                        + "Location would follow the request's Host header). Set crlm.security.cds-client.public-base-url "
                        + "or crlm.fhir.public-base-url.");
            }
        }
        if (!fhirApiOn && !demo) {
            throw new IllegalStateException("Refusing to start: crlm.security.fhir-api.enabled=false is only allowed in the demo profile");
        }
        if (!jwtOn || !fhirApiOn) {
            String address = environment.getProperty("server.address");
            if (!isLoopback(address)) {
                throw new IllegalStateException("Refusing to start: with security checks off (demo profile) the server "
                        + "must listen on 127.0.0.1 only, not " + (address == null ? "all addresses" : address));
            }
        }
    }

    private static boolean blank(String value) {
        return value == null || value.isBlank();
    }

    private static boolean isLoopback(String address) {
        if (address == null || address.isBlank()) {
            return false;
        }
        try {
            return InetAddress.getByName(address).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
