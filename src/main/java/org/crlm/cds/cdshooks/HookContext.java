package org.crlm.cds.cdshooks;

import java.util.List;
import org.hl7.fhir.r4.model.Bundle;

/**
 * The hook's context fields this service reads (patient-view, order-select, order-sign).
 *
 * @param selections  order-select only: the selected orders, as Type/id
 * @param draftOrders order-select and order-sign: the orders being selected or signed
 */
public record HookContext(String userId, String patientId, String encounterId, List<String> selections,
        Bundle draftOrders) {
}
