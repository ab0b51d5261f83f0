package org.crlm.cds.support;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command-line settings of the packaged server run as in production on a PostgreSQL
 * database: CDS client JWTs and FHIR bearer tokens checked against the test keys, the demo
 * patients loaded into the store, and the store used as the patient record.
 */
public final class PackagedServerArguments {

    private PackagedServerArguments() {}

    public static List<String> onPostgres(
            String url, String user, String password, Path work, int port, TestKeys keys) {
        return onPostgres(url, user, password, work, "http://127.0.0.1:" + port, keys);
    }

    /** @param publicBaseUrl the URL the EHR calls, which its JWTs name as audience (one for all nodes behind it) */
    public static List<String> onPostgres(
            String url, String user, String password, Path work, String publicBaseUrl, TestKeys keys) {
        List<String> args = new ArrayList<>(List.of(
                "--spring.profiles.active=postgres",
                "--spring.datasource.url=" + url,
                "--spring.datasource.username=" + user,
                "--spring.datasource.password=" + password,
                "--crlm.data-dir=" + work.resolve("data").toAbsolutePath(),
                "--crlm.knowledge.load-demo-data=true",
                // The EHR writes into this server (the demo patients): its store is the record.
                "--crlm.cds.local-store-is-patient-record=true",
                "--crlm.security.cds-client.public-base-url=" + publicBaseUrl));
        args.addAll(checkedWith(keys));
        return List.copyOf(args);
    }

    /** CDS client JWTs and FHIR bearer tokens checked against the test keys' issuers and JWKS. */
    public static List<String> checkedWith(TestKeys keys) {
        return List.of(
                "--crlm.security.cds-client.issuers[0].iss=" + TestKeys.CDS_ISSUER,
                "--crlm.security.cds-client.issuers[0].jwks-url=" + keys.jwksBase() + "/ehr/jwks.json",
                "--spring.security.oauth2.resourceserver.jwt.jwk-set-uri=" + keys.jwksBase() + "/auth/jwks.json",
                "--spring.security.oauth2.resourceserver.jwt.issuer-uri=" + TestKeys.FHIR_ISSUER,
                "--spring.security.oauth2.resourceserver.jwt.audiences[0]=" + TestKeys.FHIR_AUDIENCE);
    }
}
