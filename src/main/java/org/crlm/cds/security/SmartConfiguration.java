package org.crlm.cds.security;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.instance.model.api.IBaseConformance;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.UriType;

/**
 * SMART App Launch discovery: {@code /fhir/.well-known/smart-configuration} (a servlet of its
 * own, since every other path under /fhir is HAPI's) and the {@code rest.security} of the
 * CapabilityStatement (SMART-on-FHIR service, oauth-uris extension). Off in the demo profile,
 * whose FHIR API needs no token.
 */
@Interceptor
public class SmartConfiguration extends HttpServlet {

    static final String OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";
    static final String SECURITY_SERVICE = "http://terminology.hl7.org/CodeSystem/restful-security-service";

    private final transient FhirApiProperties properties;
    private final String issuer;
    private final String jwksUri;

    public SmartConfiguration(FhirApiProperties properties, String issuer, String jwksUri) {
        this.properties = properties;
        this.issuer = issuer;
        this.jwksUri = jwksUri;
    }

    /** The SMART configuration document (SMART App Launch 2.x, section 2.0.8 "well-known"). */
    Map<String, Object> document() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("issuer", issuer);
        if (jwksUri != null) {
            doc.put("jwks_uri", jwksUri);
        }
        if (properties.authorizeEndpoint() != null) {
            doc.put("authorization_endpoint", properties.authorizeEndpoint());
        }
        if (properties.tokenEndpoint() != null) {
            doc.put("token_endpoint", properties.tokenEndpoint());
        }
        doc.put("grant_types_supported", List.of("authorization_code", "client_credentials"));
        doc.put("token_endpoint_auth_methods_supported", List.of("private_key_jwt"));
        doc.put(
                "scopes_supported",
                List.of(
                        "openid",
                        "fhirUser",
                        "launch",
                        "launch/patient",
                        "patient/*.rs",
                        "user/*.rs",
                        "user/*.cruds",
                        "patient/*.read",
                        "user/*.read",
                        "user/*.write",
                        properties.authoringScope()));
        doc.put("response_types_supported", List.of("code"));
        doc.put("code_challenge_methods_supported", List.of("S256"));
        doc.put(
                "capabilities",
                List.of(
                        "launch-ehr",
                        "launch-standalone",
                        "client-public",
                        "client-confidential-asymmetric",
                        "context-ehr-patient",
                        "context-standalone-patient",
                        "permission-patient",
                        "permission-user",
                        "permission-v1",
                        "permission-v2"));
        return doc;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!properties.enabled()) {
            response.setStatus(404);
            response.setContentType("application/fhir+json");
            response.getWriter()
                    .write(
                            "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\","
                                    + "\"code\":\"not-found\",\"diagnostics\":\"The FHIR API needs no token in the demo profile\"}]}");
            return;
        }
        response.setContentType("application/json");
        response.setHeader("Cache-Control", "public, max-age=3600");
        new ObjectMapper().writeValue(response.getOutputStream(), document());
    }

    @Hook(Pointcut.SERVER_CAPABILITY_STATEMENT_GENERATED)
    public void addSecurity(IBaseConformance capabilityStatement) {
        if (!properties.enabled() || !(capabilityStatement instanceof CapabilityStatement statement)) {
            return;
        }
        for (CapabilityStatement.CapabilityStatementRestComponent rest : statement.getRest()) {
            CapabilityStatement.CapabilityStatementRestSecurityComponent security = rest.getSecurity();
            security.setCors(true);
            security.getService().clear();
            security.addService(new CodeableConcept(new Coding(SECURITY_SERVICE, "SMART-on-FHIR", "SMART-on-FHIR"))
                    .setText("OAuth2 using SMART-on-FHIR profile (see /.well-known/smart-configuration)"));
            security.setDescription(
                    "Bearer tokens with SMART scopes (v1 and v2); patient/ scopes hold to the token's patient.");
            Extension oauth = new Extension(OAUTH_URIS);
            if (properties.authorizeEndpoint() != null) {
                oauth.addExtension("authorize", new UriType(properties.authorizeEndpoint()));
            }
            if (properties.tokenEndpoint() != null) {
                oauth.addExtension("token", new UriType(properties.tokenEndpoint()));
            }
            security.getExtension().removeIf(e -> OAUTH_URIS.equals(e.getUrl()));
            security.addExtension(oauth);
        }
    }
}
