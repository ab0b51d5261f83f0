package org.crlm.cds.authoring;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Rule authoring settings ({@code crlm.authoring.*}).
 *
 * @param devMode      watch cql/ and publish a library when its file is saved (for an informatician's own machine)
 * @param pollInterval how often the files are checked in dev mode
 * @param testPatientsOnly the console lists and runs only patients labelled HTEST (test health data, as a
 *                     meta tag or security label); on outside the demo profile, so real patients never show
 */
@ConfigurationProperties("crlm.authoring")
public record AuthoringProperties(
        @DefaultValue("false") boolean devMode,
        @DefaultValue("1s") Duration pollInterval,
        @DefaultValue("true") boolean testPatientsOnly) {}
