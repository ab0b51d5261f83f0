package org.crlm.cds.security;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Caps on CDS Hooks request bodies, checked before they are parsed ({@code crlm.security.limits.*}).
 *
 * @param maxBodySize  larger bodies get 413
 * @param maxDepth     deeper JSON nesting gets 400
 * @param maxElements  more JSON values (objects, arrays, scalars) in one body gets 413
 */
@ConfigurationProperties("crlm.security.limits")
public record LimitsProperties(
        @DefaultValue("5MB") DataSize maxBodySize,
        @DefaultValue("64") int maxDepth,
        @DefaultValue("200000") int maxElements) {}
