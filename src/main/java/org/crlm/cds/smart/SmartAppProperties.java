package org.crlm.cds.smart;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * The Ablation planning view ({@code crlm.smart.*}), a SMART app served under /smart/.
 *
 * @param clientId      the OAuth2 client id the EHR's authorization server registered for the app
 * @param scope         the scopes the app asks for at launch
 * @param maxRecordSize largest patient record the view's API evaluates
 */
@ConfigurationProperties("crlm.smart")
public record SmartAppProperties(
        @DefaultValue("crlm-planning-view") String clientId,
        @DefaultValue("launch patient/*.rs openid fhirUser") String scope,
        @DefaultValue("10MB") DataSize maxRecordSize) {}
