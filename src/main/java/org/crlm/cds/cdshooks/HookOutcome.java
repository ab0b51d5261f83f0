package org.crlm.cds.cdshooks;

import ca.uhn.hapi.fhir.cdshooks.api.json.CdsServiceResponseJson;
import java.util.List;
import java.util.Map;

/** The answer to one hook call and what produced it (the record stays in memory; it is never stored or logged). */
public record HookOutcome(
        HookRequest request,
        CdsServiceResponseJson response,
        List<IssuedCard> cards,
        List<String> failedRules,
        Map<String, String> libraryVersions,
        Map<String, PatientRecord.Source> dataSources,
        PatientRecord record) {}
