package org.crlm.cds.cdshooks;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The cache of local-store reads ({@code crlm.cds.local-store-cache.*}), see {@link LocalStoreReader}.
 *
 * @param maxResources most resources kept in memory across all cached patients (the least
 *                     recently used patients go first); 0 turns the cache off
 */
@ConfigurationProperties("crlm.cds.local-store-cache")
public record LocalStoreCacheProperties(@DefaultValue("50000") int maxResources) {}
