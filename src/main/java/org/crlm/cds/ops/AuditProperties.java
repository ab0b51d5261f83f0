package org.crlm.cds.ops;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The audit trail of hook decisions ({@code crlm.audit.*}).
 *
 * @param retention how long decisions are kept before they are deleted
 */
@ConfigurationProperties("crlm.audit")
public record AuditProperties(@DefaultValue("365d") Duration retention) {}
