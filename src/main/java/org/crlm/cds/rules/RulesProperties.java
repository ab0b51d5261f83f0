package org.crlm.cds.rules;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Rule engine settings ({@code crlm.rules.*}).
 *
 * @param compiledLibraryCacheSize how many translated CQL libraries are kept for reuse (the
 *                                 rules in service plus recent console drafts); beyond it the
 *                                 least used are dropped and translated again when needed
 */
@ConfigurationProperties("crlm.rules")
public record RulesProperties(@DefaultValue("" + CqlLibraryCompiler.DEFAULT_CACHE_SIZE) int compiledLibraryCacheSize) {}
