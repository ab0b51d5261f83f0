package org.crlm.cds.knowledge;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;

/**
 * Marks server-side writes of knowledge the loader has already compiled as a whole, so the
 * publish check does not translate the same rules once per resource.
 */
public final class TrustedLoad {

    private static final String KEY = TrustedLoad.class.getName();

    private TrustedLoad() {}

    public static SystemRequestDetails request() {
        SystemRequestDetails details = new SystemRequestDetails();
        details.getUserData().put(KEY, Boolean.TRUE);
        return details;
    }

    public static boolean isTrusted(RequestDetails details) {
        return details != null && Boolean.TRUE.equals(details.getUserData().get(KEY));
    }
}
