package org.crlm.cds.cdshooks;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.crlm.cds.security.RequestRejectedException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.MvcResult;
import org.springframework.test.web.servlet.request.MockMvcRequestBuilders;
import org.springframework.test.web.servlet.setup.MockMvcBuilders;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The error contract of every controller, as a slice (Spring MVC with the one exception
 * handler, no server): each failure a hook, feedback or console call can meet becomes its
 * status with an OperationOutcome that says what was wrong and where, never a stack trace.
 */
class ApiErrorContractTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A controller that fails the way the real ones do when their collaborators throw. */
    @RestController
    static class Failing {

        static Supplier<RuntimeException> next;

        @PostMapping("/fail")
        String fail() {
            throw next.get();
        }
    }

    private final MockMvc mvc = MockMvcBuilders.standaloneSetup(new Failing())
            .setControllerAdvice(new ApiExceptionHandler(new OperationOutcomes(FhirContext.forR4Cached())))
            .build();

    static Stream<Arguments> failures() {
        return Stream.of(
                Arguments.of(
                        "a request missing context.patientId",
                        (Supplier<RuntimeException>) () ->
                                new InvalidHookRequestException("context.patientId", "context.patientId is required"),
                        400,
                        "invalid",
                        "context.patientId"),
                Arguments.of(
                        "an unknown service",
                        (Supplier<RuntimeException>) () -> new UnknownServiceException("nope"),
                        404,
                        "not-found",
                        null),
                Arguments.of(
                        "prefetch data that cannot be had",
                        (Supplier<RuntimeException>)
                                () -> new DataUnavailableException("geneticResults", "cannot be fetched"),
                        412,
                        "incomplete",
                        "prefetch.geneticResults"),
                Arguments.of(
                        "a body over the size limit",
                        (Supplier<RuntimeException>)
                                () -> new RequestRejectedException(413, "too-costly", "The body is too large"),
                        413,
                        "too-costly",
                        null),
                Arguments.of(
                        "rules not loaded yet",
                        (Supplier<RuntimeException>) RulesNotReadyException::new,
                        503,
                        "transient",
                        null),
                Arguments.of(
                        "an unexpected failure",
                        (Supplier<RuntimeException>)
                                () -> new IllegalStateException("secret internal detail at Foo.java:42"),
                        500,
                        "exception",
                        null));
    }

    @ParameterizedTest(name = "{0} → {2}")
    @MethodSource("failures")
    void everyFailureIsAnOperationOutcome(
            String scenario, Supplier<RuntimeException> failure, int status, String code, String expression)
            throws Exception {
        Failing.next = failure;
        MvcResult result = mvc.perform(MockMvcRequestBuilders.post("/fail")).andReturn();
        assertThat(result.getResponse().getStatus()).as(scenario).isEqualTo(status);
        assertThat(result.getResponse().getContentType()).startsWith("application/json");
        assertThat(result.getResponse().getHeader("Cache-Control")).isEqualTo("no-store");
        String body = result.getResponse().getContentAsString();
        JsonNode outcome = JSON.readTree(body);
        assertThat(outcome.path("resourceType").asText()).isEqualTo("OperationOutcome");
        JsonNode issue = outcome.path("issue").get(0);
        assertThat(issue.path("severity").asText()).isEqualTo("error");
        assertThat(issue.path("code").asText()).isEqualTo(code);
        assertThat(issue.path("diagnostics").asText()).isNotBlank();
        if (expression != null) {
            assertThat(issue.path("expression").get(0).asText()).isEqualTo(expression);
        }
        assertThat(body).as("no stack trace or internal detail").doesNotContain("Exception", "at org.", ".java:");
    }
}
