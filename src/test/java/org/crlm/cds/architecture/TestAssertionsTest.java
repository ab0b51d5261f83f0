package org.crlm.cds.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import org.crlm.cds.CrlmCdsApplication;
import org.junit.jupiter.api.Test;

/**
 * The tests run the libraries as production runs them, without Java assertions, and this
 * project's code with them (pom.xml, {@code test.assertions}): with assertions on, internal
 * checks of H2 and HAPI that production never evaluates failed test runs.
 */
class TestAssertionsTest {

    @Test
    void librariesRunWithoutAssertionsAsInProductionAndThisProjectsCodeWithThem() {
        assertThat(org.h2.mvstore.RandomAccessStore.class.desiredAssertionStatus())
                .as("H2")
                .isFalse();
        assertThat(ca.uhn.fhir.jpa.dao.BaseHapiFhirSystemDao.class.desiredAssertionStatus())
                .as("HAPI FHIR JPA")
                .isFalse();
        assertThat(CrlmCdsApplication.class.desiredAssertionStatus())
                .as("this project")
                .isTrue();
    }
}
