package org.crlm.cds.cdshooks;

/** A card as issued: what feedback and audit need to know about it (ids, never patient data). */
public record IssuedCard(String uuid, String ruleId, String indicator, String libraryUrl, String libraryVersion) {}
