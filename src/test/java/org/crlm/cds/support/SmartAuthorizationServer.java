package org.crlm.cds.support;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The EHR's authorization server in the tests: a minimal SMART App Launch 2.x server (a JDK
 * HttpServer, no framework) with an authorization endpoint and a token endpoint for a public
 * client with PKCE. The EHR registers a launch (patient and the card's appContext); the app's
 * authorization request must carry that launch, the FHIR server as {@code aud}, the registered
 * client id and redirect URI, the SMART scopes and an S256 code challenge; the token request must
 * carry the code verifier. The access token is a FHIR API token of {@link TestKeys} (the key the
 * application's /fhir trusts), held to the launch's patient.
 *
 * <p>Spring Authorization Server was not used: Maven Central serves it only as 1.5.x and 7.x, which
 * need Spring Security 6.5+, while this application is on Spring Boot 3.4 (Spring Security 6.4).
 */
public final class SmartAuthorizationServer {

    public static final String CLIENT_ID = "crlm-planning-view";
    public static final Set<String> REQUIRED_SCOPES = Set.of("launch", "patient/*.rs", "openid", "fhirUser");

    private static final SmartAuthorizationServer INSTANCE = new SmartAuthorizationServer();

    /** What the EHR registered for a launch. */
    public record Launch(String patientId, String appContext) {}

    /** An authorization request as received, for the tests to inspect. */
    public record AuthorizationRequest(Map<String, String> parameters) {}

    private record Grant(Launch launch, String challenge, String redirectUri, String scope) {}

    private final HttpServer server;
    private final Map<String, Launch> launches = new ConcurrentHashMap<>();
    private final Map<String, Grant> codes = new ConcurrentHashMap<>();
    public final List<AuthorizationRequest> authorizationRequests = Collections.synchronizedList(new ArrayList<>());
    public final List<Map<String, String>> tokenRequests = Collections.synchronizedList(new ArrayList<>());

    private SmartAuthorizationServer() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/authorize", this::authorize);
            server.createContext("/token", this::token);
            server.start();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static SmartAuthorizationServer get() {
        return INSTANCE;
    }

    public String base() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The EHR starts a launch for this patient (and the card's appContext, or null): the launch id. */
    public String registerLaunch(String patientId, String appContext) {
        String id = UUID.randomUUID().toString();
        launches.put(id, new Launch(patientId, appContext));
        return id;
    }

    private static String redirectUri() {
        return TestKeys.get().appBase() + "/smart/index.html";
    }

    private void authorize(HttpExchange exchange) throws IOException {
        Map<String, String> p = query(exchange.getRequestURI().getRawQuery());
        authorizationRequests.add(new AuthorizationRequest(p));
        Launch launch = p.get("launch") == null ? null : launches.get(p.get("launch"));
        List<String> scopes = List.of(p.getOrDefault("scope", "").split(" "));
        String problem = !"code".equals(p.get("response_type"))
                ? "response_type must be code"
                : !CLIENT_ID.equals(p.get("client_id"))
                        ? "unknown client"
                        : !redirectUri().equals(p.get("redirect_uri"))
                                ? "redirect_uri not registered"
                                : launch == null
                                        ? "unknown launch"
                                        : !(TestKeys.get().appBase() + "/fhir").equals(p.get("aud"))
                                                ? "aud must be the FHIR server"
                                                : !scopes.containsAll(REQUIRED_SCOPES)
                                                        ? "missing SMART scopes"
                                                        : !"S256".equals(p.get("code_challenge_method"))
                                                                        || p.get("code_challenge") == null
                                                                ? "PKCE S256 required"
                                                                : null;
        if (problem != null) {
            send(exchange, 400, "text/plain", problem);
            return;
        }
        String code = UUID.randomUUID().toString();
        codes.put(code, new Grant(launch, p.get("code_challenge"), p.get("redirect_uri"), p.get("scope")));
        exchange.getResponseHeaders()
                .add(
                        "Location",
                        p.get("redirect_uri") + "?code=" + code + "&state="
                                + URLEncoder.encode(p.getOrDefault("state", ""), StandardCharsets.UTF_8));
        exchange.sendResponseHeaders(302, -1);
        exchange.close();
    }

    private void token(HttpExchange exchange) throws IOException {
        // The app calls the token endpoint from the browser: a cross-origin request.
        exchange.getResponseHeaders()
                .add("Access-Control-Allow-Origin", TestKeys.get().appBase());
        exchange.getResponseHeaders().add("Access-Control-Allow-Headers", "Content-Type, Accept, Authorization");
        exchange.getResponseHeaders().add("Access-Control-Allow-Methods", "POST, OPTIONS");
        if ("OPTIONS".equals(exchange.getRequestMethod())) {
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
            return;
        }
        Map<String, String> p = query(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
        tokenRequests.add(p);
        Grant grant = p.get("code") == null ? null : codes.remove(p.get("code"));
        if (grant == null
                || !"authorization_code".equals(p.get("grant_type"))
                || !grant.redirectUri().equals(p.get("redirect_uri"))
                || !CLIENT_ID.equals(p.get("client_id"))
                || p.get("code_verifier") == null
                || !grant.challenge().equals(s256(p.get("code_verifier")))) {
            send(exchange, 400, "application/json", "{\"error\":\"invalid_grant\"}");
            return;
        }
        String[] scopes = grant.scope().split(" ");
        Map<String, Object> token = new LinkedHashMap<>();
        token.put("access_token", TestKeys.get().fhirPatientToken(grant.launch().patientId(), scopes));
        token.put("token_type", "Bearer");
        token.put("expires_in", 300);
        token.put("scope", grant.scope());
        token.put("patient", grant.launch().patientId());
        if (grant.launch().appContext() != null) {
            token.put("appContext", grant.launch().appContext());
        }
        send(
                exchange,
                200,
                "application/json",
                new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(token));
    }

    private static String s256(String verifier) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> params = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return params;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            params.put(key, value);
        }
        return params;
    }

    private static void send(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", type);
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }
}
