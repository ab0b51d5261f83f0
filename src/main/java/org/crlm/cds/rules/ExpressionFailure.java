package org.crlm.cds.rules;

/**
 * Why an expression could not be evaluated.
 *
 * @param message the engine's message; it may quote data values, so it is shown to
 *                informaticians in the console but never logged
 */
public record ExpressionFailure(
        String library, String expression, Integer line, Integer column, String errorType, String message) {}
