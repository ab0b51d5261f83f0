package org.crlm.cds.support;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;

/**
 * Copies a demo patient's record as the server stores it (dates already moved to today) to a new
 * patient id, in one FHIR transaction: every id and reference naming the demo patient is renamed,
 * so the copy answers as the demo patient does and a test may change it freely.
 */
public final class StoredRecordCopy {

    private static final List<String> TYPES =
            List.of("Condition", "Procedure", "BodyStructure", "Observation", "Specimen", "ServiceRequest");

    private StoredRecordCopy() {}

    public static void copy(IGenericClient fhir, String fromPatient, String toPatient) {
        FhirContext ctx = FhirContext.forR4Cached();
        Bundle transaction = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        add(
                transaction,
                ctx,
                fhir.read().resource("Patient").withId(fromPatient).execute(),
                fromPatient,
                toPatient);
        for (String type : TYPES) {
            Bundle found = fhir.search()
                    .byUrl(type + "?patient=" + fromPatient + "&_count=500")
                    .returnBundle(Bundle.class)
                    .execute();
            for (Bundle.BundleEntryComponent e : found.getEntry()) {
                add(transaction, ctx, e.getResource(), fromPatient, toPatient);
            }
        }
        fhir.transaction().withBundle(transaction).execute();
    }

    private static void add(
            Bundle transaction,
            FhirContext ctx,
            org.hl7.fhir.instance.model.api.IBaseResource resource,
            String from,
            String to) {
        resource.setId(resource.getIdElement().toUnqualifiedVersionless());
        resource.getMeta().setVersionId(null).setLastUpdated(null);
        String json = ctx.newJsonParser().encodeResourceToString(resource).replace(from, to);
        Resource renamed = (Resource) ctx.newJsonParser().parseResource(json);
        transaction
                .addEntry()
                .setResource(renamed)
                .getRequest()
                .setMethod(Bundle.HTTPVerb.PUT)
                .setUrl(renamed.fhirType() + "/" + renamed.getIdElement().getIdPart());
    }
}
