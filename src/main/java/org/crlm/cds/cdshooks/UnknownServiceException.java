package org.crlm.cds.cdshooks;

/** No CDS service with this id: 404. */
public class UnknownServiceException extends RuntimeException {

    public UnknownServiceException(String id) {
        super("No CDS service with id '" + id + "'; GET /cds-services lists them");
    }
}
