package org.crlm.cds.cdshooks;

/** Data the rules need could not be had from prefetch, the EHR's FHIR server or the local store: 412. */
public class DataUnavailableException extends RuntimeException {

    private final java.util.List<String> prefetchKeys;

    public DataUnavailableException(String prefetchKey, String message) {
        this(java.util.List.of(prefetchKey), message);
    }

    /** Several keys are missing at once; the message names them all. */
    public DataUnavailableException(java.util.List<String> prefetchKeys, String message) {
        super(message);
        this.prefetchKeys = java.util.List.copyOf(prefetchKeys);
    }

    /** The first missing key (the OperationOutcome's expression). */
    public String prefetchKey() {
        return prefetchKeys.get(0);
    }

    public java.util.List<String> prefetchKeys() {
        return prefetchKeys;
    }
}
