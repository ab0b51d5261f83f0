package org.crlm.cds.cdshooks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The CDS Hooks 2.0 request contract, field by field, without a server. */
class HookRequestParserTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HookRequestParser parser = new HookRequestParser(new FhirJsonReader(FhirContext.forR4Cached()));

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text.replace('\'', '"'));
    }

    @Test
    void anOrderSignRequestWithADraftAblationOrderIsRead() throws Exception {
        HookRequest request = parser.parse(
                json(
                        """
                {'hook': 'order-sign', 'hookInstance': 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
                 'context': {'userId': 'Practitioner/surgeon-1', 'patientId': 'crlm-demo-01',
                   'draftOrders': {'resourceType': 'Bundle', 'type': 'collection', 'entry': [
                     {'resource': {'resourceType': 'ServiceRequest', 'id': 'mwa-1', 'status': 'draft', 'intent': 'order',
                                   'subject': {'reference': 'Patient/crlm-demo-01'},
                                   'code': {'text': 'Microwave ablation of liver lesion'}}}]}},
                 'prefetch': {'patient': null}}"""));
        assertThat(request.hook()).isEqualTo("order-sign");
        assertThat(request.context().patientId()).isEqualTo("crlm-demo-01");
        assertThat(request.context().draftOrders().getEntry()).hasSize(1);
        assertThat(request.prefetch()).containsKey("patient");
        assertThat(request.prefetch().get("patient").isNull())
                .as("null prefetch means: no data")
                .isTrue();
    }

    @ParameterizedTest(name = "{0} → 400 naming {1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "no hook|hook|{'hookInstance': 'a', 'context': {'userId': 'Practitioner/1', 'patientId': 'p1'}}",
                "no hookInstance|hookInstance|{'hook': 'patient-view', 'context': {'userId': 'Practitioner/1', 'patientId': 'p1'}}",
                "no context|context|{'hook': 'patient-view', 'hookInstance': 'a'}",
                "path characters in patientId|context.patientId|{'hook': 'patient-view', 'hookInstance': 'a', 'context': {'userId': 'Practitioner/1', 'patientId': '../Patient/x'}}",
                "order-sign without draftOrders|context.draftOrders|{'hook': 'order-sign', 'hookInstance': 'a', 'context': {'userId': 'Practitioner/1', 'patientId': 'p1'}}",
                "fhirAuthorization without fhirServer|fhirServer|{'hook': 'patient-view', 'hookInstance': 'a', 'fhirAuthorization': {'access_token': 't', 'token_type': 'Bearer', 'expires_in': 300, 'scope': 'patient/*.read', 'subject': 'x'}, 'context': {'userId': 'Practitioner/1', 'patientId': 'p1'}}",
                "hookInstance as a number|hookInstance|{'hook': 'patient-view', 'hookInstance': 7, 'context': {'userId': 'Practitioner/1', 'patientId': 'p1'}}"
            })
    void aRequestThatBreaksTheContractNamesTheField(String scenario, String field, String body) throws Exception {
        assertThatThrownBy(() -> parser.parse(json(body)))
                .as(scenario)
                .isInstanceOfSatisfying(InvalidHookRequestException.class, e -> assertThat(e.field())
                        .isEqualTo(field));
    }
}
