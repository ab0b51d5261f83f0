package org.crlm.cds.support;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A fresh database on the real PostgreSQL server for one test class. The server comes from
 * CRLM_TEST_PG_HOST / _PORT / _USER / _PASSWORD (.ci/run installs and starts it; default
 * 127.0.0.1:5432, user crlm/crlm with CREATEDB). No server is a test failure, never a skip.
 */
public final class PostgresTestDatabase implements AutoCloseable {

    private final String host = env("CRLM_TEST_PG_HOST", "127.0.0.1");
    private final String port = env("CRLM_TEST_PG_PORT", "5432");
    public final String user = env("CRLM_TEST_PG_USER", "crlm");
    public final String password = env("CRLM_TEST_PG_PASSWORD", "crlm");
    public final String name = "crlm_it_" + Long.toHexString(System.nanoTime());

    public PostgresTestDatabase() {
        try (Connection c = DriverManager.getConnection(adminUrl(), user, password);
                Statement s = c.createStatement()) {
            s.execute("create database " + name);
        } catch (SQLException e) {
            throw new IllegalStateException(
                    "PostgreSQL is needed for this test at " + host + ":" + port + " (user " + user
                            + " with CREATEDB). Run .ci/run, which installs and starts it: " + e.getMessage(),
                    e);
        }
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }

    private String adminUrl() {
        return "jdbc:postgresql://" + host + ":" + port + "/postgres";
    }

    public String url() {
        return "jdbc:postgresql://" + host + ":" + port + "/" + name;
    }

    @Override
    public void close() {
        try (Connection c = DriverManager.getConnection(adminUrl(), user, password);
                Statement s = c.createStatement()) {
            s.execute("drop database if exists " + name + " with (force)");
        } catch (SQLException e) {
            // leave it; the name is unique
        }
    }
}
