package org.crlm.cds.cdshooks;

/** Data the rules need could not be had from prefetch, the EHR's FHIR server or the local store: 412. */
public class DataUnavailableException extends RuntimeException {

    private final String prefetchKey;

    public DataUnavailableException(String prefetchKey, String message) {
        super(message);
        this.prefetchKey = prefetchKey;
    }

    public String prefetchKey() {
        return prefetchKey;
    }
}
