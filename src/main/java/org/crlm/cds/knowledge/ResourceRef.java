package org.crlm.cds.knowledge;

/**
 * A FHIR resource a decision read, as the card lists it for a person to open.
 *
 * @param version the resource's meta.versionId, or null (left out of the card) when the record did not carry
 *                one, as for a draft order in the hook's context
 */
@com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
public record ResourceRef(String type, String id, String version) {}
