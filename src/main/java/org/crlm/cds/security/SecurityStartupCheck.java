package org.crlm.cds.security;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
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
 * profile the CDS client JWT check must be on with at least one trusted issuer; every issuer
 * must be registered with keys (a JWKS URL, file or inline set) and/or allowed {@code jku} URLs,
 * and an error names the issuer; the FHIR API's tokens need an exact issuer and an audience;
 * with the check off (demo only) the server must listen on the loopback address only.
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
        boolean jwtOn =
                binder.bind("crlm.security.cds-client.enabled", Boolean.class).orElse(true);
        List<CdsClientProperties.Issuer> issuers = binder.bind(
                        "crlm.security.cds-client.issuers", Bindable.listOf(CdsClientProperties.Issuer.class))
                .orElse(List.of());
        boolean demo = Arrays.asList(environment.getActiveProfiles()).contains(DEMO_PROFILE)
                || (environment.getActiveProfiles().length == 0
                        && Arrays.asList(environment.getDefaultProfiles()).contains(DEMO_PROFILE));
        if (jwtOn && issuers.isEmpty()) {
            throw new IllegalStateException("Refusing to start: no trusted CDS client issuers. Register each EHR under "
                    + "crlm.security.cds-client.issuers (iss plus jwks-url, jwks-file or jwks); see README, Security. "
                    + "Only the demo profile may run with crlm.security.cds-client.enabled=false.");
        }
        checkIssuers(issuers);
        if (!jwtOn && !demo) {
            throw new IllegalStateException(
                    "Refusing to start: crlm.security.cds-client.enabled=false is only allowed in the demo profile");
        }
        boolean fhirApiOn =
                binder.bind("crlm.security.fhir-api.enabled", Boolean.class).orElse(true);
        if (fhirApiOn
                && environment.getProperty("spring.security.oauth2.resourceserver.jwt.issuer-uri") == null
                && environment.getProperty("spring.security.oauth2.resourceserver.jwt.jwk-set-uri") == null
                && environment.getProperty("spring.security.oauth2.resourceserver.jwt.public-key-location") == null) {
            throw new IllegalStateException("Refusing to start: the FHIR API needs an OAuth2 token issuer. Set "
                    + "spring.security.oauth2.resourceserver.jwt.issuer-uri or .jwk-set-uri; see README, Security.");
        }
        if (fhirApiOn
                && (environment.getProperty("spring.security.oauth2.resourceserver.jwt.issuer-uri") == null
                        || binder
                                .bind(
                                        "spring.security.oauth2.resourceserver.jwt.audiences",
                                        Bindable.listOf(String.class))
                                .orElse(List.of())
                                .stream()
                                .allMatch(String::isBlank))) {
            throw new IllegalStateException(
                    "Refusing to start: the FHIR API needs the exact token issuer and its audience. Set "
                            + "spring.security.oauth2.resourceserver.jwt.issuer-uri and .audiences (the aud its tokens carry); see README, Security.");
        }
        if (!demo) {
            List<String> origins = binder.bind("crlm.security.cors.allowed-origins", Bindable.listOf(String.class))
                    .orElse(List.of());
            if (origins.stream().anyMatch(o -> o.trim().equals("*"))) {
                throw new IllegalStateException(
                        "Refusing to start: crlm.security.cors.allowed-origins=* is only allowed in the "
                                + "demo profile; list the EHR front ends' origins");
            }
            if (blank(environment.getProperty("crlm.fhir.public-base-url"))
                    && blank(environment.getProperty("crlm.security.cds-client.public-base-url"))) {
                throw new IllegalStateException(
                        "Refusing to start: the FHIR API's public base URL is not set (Bundle links and "
                                + "Location would follow the request's Host header). Set crlm.security.cds-client.public-base-url "
                                + "or crlm.fhir.public-base-url.");
            }
        }
        if (!fhirApiOn && !demo) {
            throw new IllegalStateException(
                    "Refusing to start: crlm.security.fhir-api.enabled=false is only allowed in the demo profile");
        }
        if (!jwtOn || !fhirApiOn) {
            String address = environment.getProperty("server.address");
            if (!isLoopback(address)) {
                throw new IllegalStateException("Refusing to start: with security checks off (demo profile) the server "
                        + "must listen on 127.0.0.1 only, not " + (address == null ? "all addresses" : address));
            }
        }
    }

    /** Each issuer: an iss, registered once, keys given at most one way or allowed jku URLs, readable files, http(s) URLs. */
    static void checkIssuers(List<CdsClientProperties.Issuer> issuers) {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < issuers.size(); i++) {
            CdsClientProperties.Issuer issuer = issuers.get(i);
            String name = "crlm.security.cds-client.issuers[" + i + "]";
            if (isBlank(issuer.iss())) {
                throw refusal(name + " has no iss: set the exact iss claim the EHR's tokens carry");
            }
            name += " (iss " + issuer.iss() + ")";
            if (!seen.add(issuer.iss())) {
                throw refusal(name + " is registered twice; keep one entry per issuer");
            }
            int ways = (isBlank(issuer.jwksUrl()) ? 0 : 1)
                    + (issuer.jwksFile() == null ? 0 : 1)
                    + (isBlank(issuer.jwks()) ? 0 : 1);
            if (ways == 0 && issuer.allowedJku().isEmpty()) {
                throw refusal(
                        name
                                + " has no keys: give jwks-url, jwks-file or jwks, and/or the allowed-jku URLs its tokens name");
            }
            if (ways > 1) {
                throw refusal(name + " gives its keys more than one way (jwks-url, jwks-file, jwks): keep one");
            }
            if (issuer.jwksFile() != null) {
                checkJwks(
                        name + " jwks-file " + issuer.jwksFile(),
                        () -> java.nio.file.Files.readString(issuer.jwksFile()));
            }
            if (!isBlank(issuer.jwks())) {
                checkJwks(name + " jwks", issuer::jwks);
            }
            if (!isBlank(issuer.jwksUrl())) {
                checkUrl(name + " jwks-url", issuer.jwksUrl());
            }
            for (String jku : issuer.allowedJku()) {
                checkUrl(name + " allowed-jku", jku);
            }
        }
    }

    private interface Text {
        String read() throws java.io.IOException;
    }

    private static void checkJwks(String what, Text text) {
        com.nimbusds.jose.jwk.JWKSet set;
        try {
            set = com.nimbusds.jose.jwk.JWKSet.parse(text.read());
        } catch (java.io.IOException e) {
            throw refusal(what + " cannot be read: " + e.getClass().getSimpleName() + " " + e.getMessage());
        } catch (java.text.ParseException e) {
            throw refusal(what + " is not a JWK Set: " + e.getMessage());
        }
        if (set.getKeys().isEmpty()) {
            throw refusal(what + " holds no keys");
        }
    }

    private static void checkUrl(String what, String url) {
        java.net.URI uri;
        try {
            uri = java.net.URI.create(url.trim());
        } catch (IllegalArgumentException e) {
            throw refusal(what + " is not a URL: " + url);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!(scheme.equals("https") || scheme.equals("http"))
                || uri.getHost() == null
                || uri.getUserInfo() != null
                || uri.getFragment() != null) {
            throw refusal(what + " must be an absolute https URL, not " + url);
        }
    }

    private static IllegalStateException refusal(String message) {
        return new IllegalStateException("Refusing to start: " + message + " (see README, Connecting an EHR)");
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
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
