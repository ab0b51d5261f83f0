package org.crlm.cds.cdshooks;

/** A request that breaks the CDS Hooks contract: 400, naming the field. */
public class InvalidHookRequestException extends RuntimeException {

    private final String field;

    public InvalidHookRequestException(String field, String message) {
        super(message);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
