package org.crlm.cds.rules;

/**
 * A translator error or warning, located in the library it belongs to.
 *
 * @param line   1-based, or null when the translator gives no location
 * @param column 1-based, or null when the translator gives no location
 */
public record CqlMessage(Severity severity, String library, Integer line, Integer column, String message) {

    public enum Severity {
        ERROR,
        WARNING,
        INFO
    }

    @Override
    public String toString() {
        String where = line == null ? library : library + ":" + line + ":" + column;
        return severity + " " + where + " " + message;
    }
}
