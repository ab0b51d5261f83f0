package org.crlm.cds.cdshooks;

import java.util.List;
import org.hl7.fhir.r4.model.Bundle;

/**
 * The hook's context fields this service reads (patient-view, order-select, order-sign).
 *
 * @param selections  order-select only: the selected orders, as Type/id
 * @param draftOrders order-select and order-sign: the orders being selected or signed
 */
public record HookContext(
        String userId, String patientId, String encounterId, List<String> selections, Bundle draftOrders) {

    /**
     * The orders this call is about, as Type/id: the selections of order-select, the draft orders
     * of order-sign; null on hooks without orders. The rules decide whether they concern them.
     */
    public List<String> hookOrderIds() {
        if (selections != null) {
            return List.copyOf(selections);
        }
        if (draftOrders == null) {
            return null;
        }
        return draftOrders.getEntry().stream()
                .filter(Bundle.BundleEntryComponent::hasResource)
                .map(e -> e.getResource().fhirType() + "/"
                        + e.getResource().getIdElement().getIdPart())
                .toList();
    }
}
