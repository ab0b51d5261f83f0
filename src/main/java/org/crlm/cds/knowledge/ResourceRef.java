package org.crlm.cds.knowledge;

/**
 * A FHIR resource a decision read, as the card lists it for a person to open.
 *
 * @param version the resource's meta.versionId, or null when the record did not carry one
 */
public record ResourceRef(String type, String id, String version) {
}
