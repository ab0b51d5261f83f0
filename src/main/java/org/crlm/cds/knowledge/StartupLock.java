package org.crlm.cds.knowledge;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Lets nodes that start together on one PostgreSQL database take turns: a session advisory
 * lock is taken before the schema is created or migrated and released once the repository's
 * resources are loaded, so two nodes never create the same tables or resources at once.
 * On H2 (one node, embedded) it does nothing.
 */
public final class StartupLock implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(StartupLock.class);
    /** An arbitrary constant naming this lock among the database's advisory locks. */
    private static final long LOCK_KEY = 0x43524C4D4344534CL;

    private Connection connection;

    public StartupLock(DataSource dataSource) throws SQLException {
        Connection c = dataSource.getConnection();
        if (!c.getMetaData()
                .getDatabaseProductName()
                .toLowerCase(java.util.Locale.ROOT)
                .contains("postgres")) {
            c.close();
            return;
        }
        long started = System.nanoTime();
        try (Statement statement = c.createStatement()) {
            statement.execute("select pg_advisory_lock(" + LOCK_KEY + ")");
        }
        connection = c;
        log.info("Start-up lock taken after {} ms", (System.nanoTime() - started) / 1_000_000);
    }

    public synchronized void release() {
        if (connection == null) {
            return;
        }
        try (Statement statement = connection.createStatement()) {
            statement.execute("select pg_advisory_unlock(" + LOCK_KEY + ")");
        } catch (SQLException e) {
            log.warn("Could not release the start-up lock; it goes with the connection", e);
        } finally {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // closing the session frees its advisory locks anyway
            }
            connection = null;
            log.info("Start-up lock released");
        }
    }

    @Override
    public void destroy() {
        release();
    }

    /** Takes the lock before Flyway and Hibernate touch the schema. */
    @Configuration
    static class Wiring {

        @Bean
        StartupLock startupLock(DataSource dataSource) throws SQLException {
            return new StartupLock(dataSource);
        }

        @Bean
        static BeanFactoryPostProcessor startupLockFirst() {
            return beanFactory -> dependOnLock(beanFactory, "flywayInitializer", "entityManagerFactory");
        }

        private static void dependOnLock(ConfigurableListableBeanFactory beanFactory, String... names) {
            for (String name : names) {
                if (beanFactory.containsBeanDefinition(name)) {
                    BeanDefinition definition = beanFactory.getBeanDefinition(name);
                    String[] existing = definition.getDependsOn();
                    String[] dependsOn = existing == null
                            ? new String[] {"startupLock"}
                            : java.util.stream.Stream.concat(
                                            java.util.Arrays.stream(existing),
                                            java.util.stream.Stream.of("startupLock"))
                                    .toArray(String[]::new);
                    definition.setDependsOn(dependsOn);
                }
            }
        }
    }
}
