package org.crlm.cds.smart;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.crlm.cds.support.AppIntegrationTest;
import org.crlm.cds.support.HeadlessChromium;
import org.crlm.cds.support.SmartAuthorizationServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Ablation planning view launched by an EHR with SMART App Launch 2.x: {@code launch} and
 * {@code iss}; the app discovers the authorization server from the FHIR server's
 * .well-known/smart-configuration, authorizes with PKCE (S256) and the scopes
 * {@code launch patient/*.rs openid fhirUser}, exchanges the code for a token held to the
 * patient, and reads the record from a FHIR API that refuses requests without one.
 */
class PlanningViewEhrLaunchIT extends AppIntegrationTest {

    @TempDir
    Path profile;

    @Test
    void anEhrLaunchAuthorizesWithPkceAndShowsTheViewAfterTheTokenExchange() throws Exception {
        SmartAuthorizationServer auth = SmartAuthorizationServer.get();
        String launch = auth.registerLaunch("crlm-demo-04", null);
        String iss = base() + "/fhir";
        try (HeadlessChromium chromium = new HeadlessChromium(profile)) {
            chromium.browser()
                    .get(base() + "/smart/launch.html?launch=" + launch + "&iss="
                            + URLEncoder.encode(iss, StandardCharsets.UTF_8));
            PlanningViewPage page = new PlanningViewPage(chromium).awaitDrawn();
            page.showsCrlmDemo04();
            assertThat(chromium.consoleErrors()).as("browser console errors").isEmpty();
        }
        Map<String, String> authorization = auth.authorizationRequests.stream()
                .map(SmartAuthorizationServer.AuthorizationRequest::parameters)
                .filter(p -> launch.equals(p.get("launch")))
                .findFirst()
                .orElseThrow();
        assertThat(authorization.get("client_id")).isEqualTo(SmartAuthorizationServer.CLIENT_ID);
        assertThat(authorization.get("aud")).isEqualTo(iss);
        assertThat(authorization.get("code_challenge_method")).isEqualTo("S256");
        assertThat(List.of(authorization.get("scope").split(" ")))
                .containsAll(SmartAuthorizationServer.REQUIRED_SCOPES);
        assertThat(auth.tokenRequests)
                .as("the code exchanged with its PKCE verifier")
                .anySatisfy(t -> {
                    assertThat(t.get("grant_type")).isEqualTo("authorization_code");
                    assertThat(t.get("code_verifier")).isNotBlank();
                });
    }
}
