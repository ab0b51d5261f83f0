package org.crlm.cds.knowledge;

/**
 * One finding a card quotes, from the rule action's {@code evidence-paragraph} extension. The
 * same key on two rules means the same paragraph, so an answer with both cards shows it once.
 *
 * @param key      stable id of the finding (e.g. {@code S2-kras-ltpfs}); equal keys carry equal text
 * @param source   the study label of the rule's documentation (S1, S2)
 * @param endpoint the endpoint the figures are about (DFS, LTPFS, LTP, liver-only recurrence), or null
 * @param title    short name of the finding, used when another card already shows it
 * @param text     the finding in markdown, with its figures
 */
public record EvidenceParagraph(String key, String source, String endpoint, String title, String text) {

    public static final String EXTENSION = "http://crlm-cds.org/fhir/StructureDefinition/evidence-paragraph";
}
