package org.crlm.cds.rules;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The rule engine's parts as beans; the classes themselves know nothing of Spring. */
@Configuration
public class RulesConfig {

    @Bean
    public CqlLibraryCompiler cqlLibraryCompiler(
            RulesProperties properties, ObjectProvider<TranslatedElmStore> elmStore) {
        return new CqlLibraryCompiler(
                properties.compiledLibraryCacheSize(),
                properties.budget().cqlBudget(),
                elmStore.getIfAvailable(() -> TranslatedElmStore.NONE));
    }

    @Bean
    public RuleSetBuilder ruleSetBuilder(CqlLibraryCompiler compiler) {
        return new RuleSetBuilder(compiler);
    }

    @Bean
    public RuleLibraryCache ruleLibraryCache(RuleSetBuilder builder) {
        return new RuleLibraryCache(builder);
    }

    @Bean
    public RuleEngine ruleEngine(RulesProperties properties) {
        return new RuleEngine(properties.budget().cqlBudget());
    }
}
