package org.crlm.cds.support;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The scenario store's expectation table in a private in-memory H2 database, created by the
 * project's own migration, for unit tests that build a publish gate without a Spring context.
 */
public record InMemoryExpectations(JdbcTemplate jdbc, TransactionTemplate transactions) {

    public static InMemoryExpectations create() {
        DriverManagerDataSource dataSource =
                new DriverManagerDataSource("jdbc:h2:mem:expectations-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        JdbcTemplate jdbc = new JdbcTemplate(dataSource);
        try {
            jdbc.execute(Files.readString(Path.of("src/main/resources/db/migration/V17__scenario_expectations.sql")));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return new InMemoryExpectations(jdbc, new TransactionTemplate(new DataSourceTransactionManager(dataSource)));
    }
}
