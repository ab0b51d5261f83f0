package org.crlm.cds.fhirserver;

import java.util.List;

/** The clinical-reasoning operation providers registered on /fhir ($apply, $evaluate). */
public record ClinicalReasoningOperations(List<Object> providers) {}
