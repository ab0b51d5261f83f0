package org.crlm.cds.security;

import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Browser origins allowed to call /cds-services and /fhir cross-origin ({@code crlm.security.cors.*}):
 * EHR front ends and CDS test harnesses. The demo profile allows any origin.
 */
@ConfigurationProperties("crlm.security.cors")
public record CorsProperties(@DefaultValue List<String> allowedOrigins) {}
