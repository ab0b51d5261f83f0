package org.crlm.cds.security;

import static org.springframework.security.web.util.matcher.AntPathRequestMatcher.antMatcher;

import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Collection;
import java.util.List;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpMethod;
import org.springframework.security.authorization.AuthorizationDecision;
import org.springframework.security.authorization.AuthorizationManager;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.config.observation.SecurityObservationSettings;
import org.springframework.security.core.Authentication;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.access.intercept.RequestAuthorizationContext;
import org.springframework.security.web.header.writers.ReferrerPolicyHeaderWriter;
import org.springframework.security.web.util.matcher.OrRequestMatcher;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.cors.CorsConfigurationSource;
import org.springframework.web.cors.UrlBasedCorsConfigurationSource;

/**
 * Who may call what. /cds-services: the CDS client JWT ({@link CdsClientAuthFilter}). /fhir
 * and the authoring console: an OAuth2 bearer token with SMART scopes (Spring Security
 * resource server), unless switched off in the demo profile. CORS for browser EHRs on both.
 */
@Configuration
public class SecurityConfig {

    /** /fhir and the console API: OAuth2 bearer tokens with SMART scopes (off in the demo profile). */
    @Bean
    @Order(1)
    SecurityFilterChain fhirApi(HttpSecurity http, FhirApiProperties fhirApi) throws Exception {
        http.securityMatcher(new OrRequestMatcher(antMatcher("/fhir/**"), antMatcher("/console/api/**")));
        common(http);
        if (fhirApi.enabled()) {
            http.authorizeHttpRequests(a -> a.requestMatchers(antMatcher(HttpMethod.GET, "/fhir/metadata"))
                    .permitAll()
                    .requestMatchers(antMatcher(HttpMethod.GET, "/fhir/.well-known/smart-configuration"))
                    .permitAll()
                    .requestMatchers(antMatcher(HttpMethod.OPTIONS, "/**"))
                    .permitAll()
                    // Who may read or write what is decided by HAPI on its parsed request
                    // (SmartAuthorizationInterceptor), never from the raw URI here.
                    .requestMatchers(antMatcher("/fhir/**"))
                    .authenticated()
                    // Patient data in the console: the authoring scope and a read scope across patients.
                    .requestMatchers(antMatcher("/console/api/patients/**"))
                    .access(consolePatientAccess(fhirApi, "Patient"))
                    .requestMatchers(antMatcher("/console/api/run/**"))
                    .access(consolePatientAccess(fhirApi, "*"))
                    .anyRequest()
                    .access(authoringAccess(fhirApi)));
            bearerTokens(http);
        } else {
            http.authorizeHttpRequests(a -> a.anyRequest().permitAll());
        }
        return http.build();
    }

    /**
     * The console page, its scripts and styles, and the webjars it loads: open (the page holds no
     * data; its API calls carry the token), under a strict Content-Security-Policy, never framed.
     */
    @Bean
    @Order(2)
    SecurityFilterChain consolePage(HttpSecurity http) throws Exception {
        String policy = ConsoleContentSecurityPolicy.forConsolePage().header();
        http.securityMatcher(new OrRequestMatcher(antMatcher("/console/**"), antMatcher("/webjars/**")));
        common(http);
        http.headers(h -> h.frameOptions(f -> f.deny())
                        .contentSecurityPolicy(csp -> csp.policyDirectives(policy))
                        .referrerPolicy(r -> r.policy(ReferrerPolicyHeaderWriter.ReferrerPolicy.NO_REFERRER)))
                .authorizeHttpRequests(a -> a.anyRequest().permitAll());
        return http.build();
    }

    /**
     * Everything else: /cds-services (authenticated by the CDS client JWT filter, not here),
     * actuator probes and metrics.
     */
    @Bean
    @Order(3)
    SecurityFilterChain rest(HttpSecurity http) throws Exception {
        common(http);
        http.authorizeHttpRequests(a -> a.anyRequest().permitAll());
        return http.build();
    }

    private static void unauthorized(
            HttpServletRequest request,
            jakarta.servlet.http.HttpServletResponse response,
            org.springframework.security.core.AuthenticationException e)
            throws java.io.IOException {
        response.setStatus(401);
        response.setHeader("WWW-Authenticate", "Bearer");
        writeOutcome(response, "login", "Unauthorized");
    }

    private static void forbidden(jakarta.servlet.http.HttpServletResponse response) throws java.io.IOException {
        response.setStatus(403);
        writeOutcome(response, "forbidden", "The access token's scopes do not allow this request");
    }

    private static void writeOutcome(jakarta.servlet.http.HttpServletResponse response, String code, String message)
            throws java.io.IOException {
        response.setContentType("application/fhir+json");
        response.getWriter()
                .write("{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"" + code
                        + "\",\"diagnostics\":\"" + message + "\"}]}");
    }

    /** OAuth2 bearer tokens, refusals answered with the same OperationOutcomes (401, 403). */
    private static void bearerTokens(HttpSecurity http) throws Exception {
        http.oauth2ResourceServer(o -> o.jwt(Customizer.withDefaults())
                        .authenticationEntryPoint(SecurityConfig::unauthorized)
                        .accessDeniedHandler((request, response, denied) -> forbidden(response)))
                .exceptionHandling(e -> e.authenticationEntryPoint(SecurityConfig::unauthorized)
                        .accessDeniedHandler((request, response, denied) -> forbidden(response)));
    }

    private static void common(HttpSecurity http) throws Exception {
        http.csrf(c -> c.disable())
                .cors(Customizer.withDefaults())
                .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .requestCache(c -> c.disable())
                .headers(h -> h.frameOptions(f -> f.sameOrigin()));
    }

    @Bean
    SmartConfiguration smartConfiguration(
            FhirApiProperties fhirApi,
            org.springframework.boot.autoconfigure.security.oauth2.resource.OAuth2ResourceServerProperties
                    resourceServer) {
        return new SmartConfiguration(
                fhirApi,
                resourceServer.getJwt().getIssuerUri(),
                resourceServer.getJwt().getJwkSetUri());
    }

    /** An exact servlet mapping: it wins over HAPI's /fhir/* for this one path. */
    @Bean
    org.springframework.boot.web.servlet.ServletRegistrationBean<SmartConfiguration> smartConfigurationServlet(
            SmartConfiguration smartConfiguration) {
        var registration = new org.springframework.boot.web.servlet.ServletRegistrationBean<>(
                smartConfiguration, "/fhir/.well-known/smart-configuration");
        registration.setName("smartConfiguration");
        return registration;
    }

    /** A URL the firewall refuses (dot segments, matrix parameters, encoded slashes): a 400 OperationOutcome. */
    @Bean
    org.springframework.security.web.firewall.RequestRejectedHandler requestRejectedHandler() {
        return (request, response, rejected) -> {
            response.setStatus(400);
            writeOutcome(response, "invalid", "The request URL is not allowed");
        };
    }

    /**
     * No Micrometer observation around each security filter, authentication or authorization:
     * even switched off by name, the observing decorator wrapped every filter of every hook call
     * (CPU and allocation on each call) and fed no metric we use;
     * http.server.requests and cds.hook.duration remain.
     */
    @Bean
    static SecurityObservationSettings securityObservationSettings() {
        return SecurityObservationSettings.noObservations();
    }

    @Bean
    static SecurityStartupCheck securityStartupCheck() {
        return new SecurityStartupCheck();
    }

    @Bean
    CorsConfigurationSource corsConfigurationSource(CorsProperties cors) {
        CorsConfiguration config = new CorsConfiguration();
        config.setAllowedOriginPatterns(cors.allowedOrigins());
        config.setAllowedMethods(List.of("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"));
        config.setAllowedHeaders(List.of(
                "Authorization",
                "Content-Type",
                "Accept",
                "Prefer",
                "If-Match",
                "If-None-Exist",
                "X-Requested-With",
                "X-Correlation-Id"));
        config.setExposedHeaders(List.of("Location", "Content-Location", "ETag", "X-Correlation-Id"));
        config.setMaxAge(3600L);
        UrlBasedCorsConfigurationSource source = new UrlBasedCorsConfigurationSource();
        // Match on the full path: /fhir is its own servlet, whose lookup path would otherwise drop the /fhir prefix.
        org.springframework.web.util.UrlPathHelper fullPath = new org.springframework.web.util.UrlPathHelper();
        fullPath.setAlwaysUseFullPath(true);
        source.setUrlPathHelper(fullPath);
        source.registerCorsConfiguration("/cds-services/**", config);
        source.registerCorsConfiguration("/fhir/**", config);
        return source;
    }

    @Bean
    FilterRegistrationBean<CdsClientAuthFilter> cdsClientAuthFilter(
            CdsJwtVerifier verifier, CdsClientProperties properties, MeterRegistry meters) {
        FilterRegistrationBean<CdsClientAuthFilter> registration =
                new FilterRegistrationBean<>(new CdsClientAuthFilter(verifier, properties, meters));
        registration.addUrlPatterns("/cds-services", "/cds-services/*");
        // After Spring Security, so CORS preflights are answered first.
        registration.setOrder(Ordered.LOWEST_PRECEDENCE - 10);
        registration.setEnabled(properties.enabled());
        return registration;
    }

    private static AuthorizationManager<RequestAuthorizationContext> authoringAccess(FhirApiProperties fhirApi) {
        return (authentication, context) -> {
            Collection<String> scopes = scopes(authentication.get());
            return new AuthorizationDecision(scopes != null && scopes.contains(fhirApi.authoringScope()));
        };
    }

    private static AuthorizationManager<RequestAuthorizationContext> consolePatientAccess(
            FhirApiProperties fhirApi, String resourceType) {
        return (authentication, context) -> {
            Collection<String> scopes = scopes(authentication.get());
            return new AuthorizationDecision(scopes != null
                    && scopes.contains(fhirApi.authoringScope())
                    && SmartScope.parseAll(scopes).stream()
                            .anyMatch(s -> !s.patientContext()
                                    && s.read()
                                    && (resourceType.equals("*") ? s.anyType() : s.covers(resourceType))));
        };
    }

    /**
     * Metrics (/actuator/prometheus, /actuator/metrics) need the metrics scope outside the demo
     * profile (Prometheus scrapes with an OAuth2 client-credentials token); health probes stay open.
     */
    @Bean
    @Order(0)
    SecurityFilterChain metrics(HttpSecurity http, FhirApiProperties fhirApi) throws Exception {
        http.securityMatcher(
                new OrRequestMatcher(antMatcher("/actuator/prometheus/**"), antMatcher("/actuator/metrics/**")));
        common(http);
        if (fhirApi.enabled()) {
            http.authorizeHttpRequests(a -> a.anyRequest().access((authentication, context) -> {
                Collection<String> scopes = scopes(authentication.get());
                return new AuthorizationDecision(scopes != null && scopes.contains(fhirApi.metricsScope()));
            }));
            bearerTokens(http);
        } else {
            http.authorizeHttpRequests(a -> a.anyRequest().permitAll());
        }
        return http.build();
    }

    static Collection<String> scopes(Authentication authentication) {
        return SmartScopes.granted(authentication);
    }
}
