package org.crlm.cds.support;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import java.util.List;
import org.crlm.cds.authoring.RuleTestCase;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;

/** Writes the scenarios' patient records into the server's FHIR store, as an EHR would. */
public final class ScenarioRecords {

    /**
     * Entries per transaction, whole scenarios in each (their references resolve inside one).
     * HAPI 8.8 reads the resources a transaction updates in chunks of 800 and asserts each chunk
     * is under 800, so a transaction updating 800 or more stored resources fails with assertions
     * on (as in tests): a second load of every scenario in one transaction did.
     */
    private static final int ENTRIES_PER_TRANSACTION = 300;

    private ScenarioRecords() {}

    public static void store(DaoRegistry daoRegistry, List<RuleTestCase> scenarios) {
        Bundle transaction = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        for (RuleTestCase s : scenarios) {
            for (IBaseResource r : s.recordResources()) {
                transaction
                        .addEntry()
                        .setResource((Resource) r)
                        .getRequest()
                        .setMethod(Bundle.HTTPVerb.PUT)
                        .setUrl(r.fhirType() + "/" + r.getIdElement().getIdPart());
            }
            if (transaction.getEntry().size() >= ENTRIES_PER_TRANSACTION) {
                daoRegistry.getSystemDao().transaction(new SystemRequestDetails(), transaction);
                transaction = new Bundle().setType(Bundle.BundleType.TRANSACTION);
            }
        }
        if (!transaction.getEntry().isEmpty()) {
            daoRegistry.getSystemDao().transaction(new SystemRequestDetails(), transaction);
        }
    }
}
