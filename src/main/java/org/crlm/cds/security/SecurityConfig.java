package org.crlm.cds.security;

import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;
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
import org.springframework.security.core.Authentication;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.access.intercept.RequestAuthorizationContext;
import org.springframework.security.web.header.writers.ReferrerPolicyHeaderWriter;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.cors.CorsConfigurationSource;
import org.springframework.web.cors.UrlBasedCorsConfigurationSource;

import org.springframework.security.web.util.matcher.OrRequestMatcher;

import static org.springframework.security.web.util.matcher.AntPathRequestMatcher.antMatcher;

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
            http.authorizeHttpRequests(a -> a
                    .requestMatchers(antMatcher(HttpMethod.GET, "/fhir/metadata")).permitAll()
                    .requestMatchers(antMatcher(HttpMethod.OPTIONS, "/**")).permitAll()
                    .requestMatchers(antMatcher("/fhir/**")).access(fhirAccess(fhirApi))
                    .anyRequest().access(authoringAccess(fhirApi)))
                .oauth2ResourceServer(o -> o.jwt(Customizer.withDefaults())
                        .authenticationEntryPoint(SecurityConfig::unauthorized)
                        .accessDeniedHandler((request, response, denied) -> forbidden(response)))
                .exceptionHandling(e -> e.authenticationEntryPoint(SecurityConfig::unauthorized)
                        .accessDeniedHandler((request, response, denied) -> forbidden(response)));
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

    private static void unauthorized(HttpServletRequest request, jakarta.servlet.http.HttpServletResponse response,
            org.springframework.security.core.AuthenticationException e) throws java.io.IOException {
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
        response.getWriter().write("{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\""
                + code + "\",\"diagnostics\":\"" + message + "\"}]}");
    }

    private static void common(HttpSecurity http) throws Exception {
        http.csrf(c -> c.disable())
            .cors(Customizer.withDefaults())
            .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
            .requestCache(c -> c.disable())
            .headers(h -> h.frameOptions(f -> f.sameOrigin()));
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
        config.setAllowedHeaders(List.of("Authorization", "Content-Type", "Accept", "Prefer", "If-Match",
                "If-None-Exist", "X-Requested-With", "X-Correlation-Id"));
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
    FilterRegistrationBean<CdsClientAuthFilter> cdsClientAuthFilter(CdsJwtVerifier verifier, CdsClientProperties properties,
            MeterRegistry meters) {
        FilterRegistrationBean<CdsClientAuthFilter> registration =
                new FilterRegistrationBean<>(new CdsClientAuthFilter(verifier, properties, meters));
        registration.addUrlPatterns("/cds-services", "/cds-services/*");
        // After Spring Security, so CORS preflights are answered first.
        registration.setOrder(Ordered.LOWEST_PRECEDENCE - 10);
        registration.setEnabled(properties.enabled());
        return registration;
    }

    /** Reads need a read scope for the resource type; writes a write scope, and rules the authoring scope. */
    private static AuthorizationManager<RequestAuthorizationContext> fhirAccess(FhirApiProperties fhirApi) {
        return (Supplier<Authentication> authentication, RequestAuthorizationContext context) -> {
            Collection<String> scopes = scopes(authentication.get());
            if (scopes == null) {
                return new AuthorizationDecision(false);
            }
            HttpServletRequest request = context.getRequest();
            String type = resourceType(request.getRequestURI());
            boolean read = "GET".equals(request.getMethod()) || "HEAD".equals(request.getMethod());
            if (type == null) {
                // The server root: a transaction or batch needs write access to everything.
                return new AuthorizationDecision(read ? SmartScopes.canRead(scopes, "*") : SmartScopes.canWrite(scopes, "*"));
            }
            if (read) {
                return new AuthorizationDecision(SmartScopes.canRead(scopes, type));
            }
            if (SmartScopes.KNOWLEDGE_TYPES.contains(type)) {
                return new AuthorizationDecision(scopes.contains(fhirApi.authoringScope()));
            }
            return new AuthorizationDecision(SmartScopes.canWrite(scopes, type));
        };
    }

    private static AuthorizationManager<RequestAuthorizationContext> authoringAccess(FhirApiProperties fhirApi) {
        return (authentication, context) -> {
            Collection<String> scopes = scopes(authentication.get());
            return new AuthorizationDecision(scopes != null && scopes.contains(fhirApi.authoringScope()));
        };
    }

    static Collection<String> scopes(Authentication authentication) {
        return SmartScopes.granted(authentication);
    }

    /** {@code /fhir/Observation/1/_history} → Observation; {@code /fhir} → null. */
    static String resourceType(String uri) {
        String path = uri.startsWith("/fhir") ? uri.substring(5) : uri;
        String[] parts = path.split("/");
        for (String part : parts) {
            if (!part.isEmpty()) {
                return part.startsWith("$") || part.startsWith("_") ? null : part;
            }
        }
        return null;
    }
}
