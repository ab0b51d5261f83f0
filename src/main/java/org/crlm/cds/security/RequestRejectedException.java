package org.crlm.cds.security;

/** A request refused before it is read further: carries the HTTP status and an OperationOutcome issue code. */
public class RequestRejectedException extends RuntimeException {

    private final int status;
    private final String issueCode;

    public RequestRejectedException(int status, String issueCode, String message) {
        super(message);
        this.status = status;
        this.issueCode = issueCode;
    }

    public int status() {
        return status;
    }

    public String issueCode() {
        return issueCode;
    }
}
