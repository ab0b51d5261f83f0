package org.crlm.cds.rules;

/** A named CQL definition in a library, as a PlanDefinition action names it. */
public record ExpressionRef(String libraryCanonical, String name) {}
