package org.crlm.cds.security;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.core.Ordered;
import org.springframework.stereotype.Component;

/**
 * Before the server reports ready, downloads the registered EHR issuers' JWKS, so the first
 * hook call does not wait for it. An unreachable JWKS does not block start-up: it is retried
 * when the first token arrives.
 */
@Component
class IssuerKeyPreload implements ApplicationRunner, Ordered {

    private static final Logger log = LoggerFactory.getLogger(IssuerKeyPreload.class);

    private final CdsJwtVerifier verifier;
    private final CdsClientProperties properties;

    IssuerKeyPreload(CdsJwtVerifier verifier, CdsClientProperties properties) {
        this.verifier = verifier;
        this.properties = properties;
    }

    @Override
    public void run(ApplicationArguments args) {
        if (properties.enabled() && !properties.issuers().isEmpty()) {
            log.info(
                    "CDS client keys ready: {} key(s) of {} issuer(s)",
                    verifier.preloadKeys(),
                    properties.issuers().size());
        }
    }

    @Override
    public int getOrder() {
        return 50;
    }
}
