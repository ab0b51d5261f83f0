package org.crlm.cds.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Enumeration;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.crlm.cds.cdshooks.CdsHooksProperties;
import org.crlm.cds.fhirserver.FhirServerProperties;
import org.crlm.cds.knowledge.KnowledgeProperties;
import org.crlm.cds.security.CdsClientProperties;
import org.crlm.cds.security.CorsProperties;
import org.crlm.cds.security.FhirApiProperties;
import org.crlm.cds.security.LimitsProperties;
import org.crlm.cds.security.OutboundProperties;
import org.crlm.cds.security.SecurityStartupCheck;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.core.env.MutablePropertySources;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.representer.Representer;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * The deployment files under {@code docker/} are correct by construction: no Docker engine or
 * Kubernetes cluster is needed (and Spring is not started).
 *
 * <p>Every Kubernetes document is parsed strictly into the fabric8 model class of its kind:
 * YAML is read with SnakeYAML (duplicate keys refused, YAML 1.1 scalars as kubectl reads them)
 * and bound with a Jackson mapper that fails on unknown properties and on scalar coercions the
 * API server would refuse (a number where a string is expected and the reverse). fabric8 model
 * classes swallow unknown fields into {@code additionalProperties} (a {@code @JsonAnySetter}), so
 * the parsed object graph is walked and any non-empty {@code getAdditionalProperties()} fails
 * the test with the path of the offending field: a typo such as {@code readinesProbe} fails.
 * Quantities that bind but do not parse (such as {@code 1.5Gii}) fail as well.
 *
 * <p>Then the operational contract is asserted (replicas, probes, security context, resources,
 * selectors, HPA, PDB), every environment variable name is checked against the app's known
 * configuration keys, and the resulting environment is run through the app's own
 * {@link SecurityStartupCheck} and bound to its {@code *Properties} records. compose.yaml, the
 * Dockerfile, nginx.conf and the Grafana dashboard are checked too.
 */
class DeploymentManifestsTest {

    // ------------------------------------------------------------------------------------------
    // The contract
    // ------------------------------------------------------------------------------------------

    static final String NAMESPACE = "crlm-cds";
    static final String APP_NAME = "crlm-ablation-cds";
    static final String NAME_LABEL = "app.kubernetes.io/name";
    static final int HTTP_PORT = 8080;
    static final String LIVENESS = "/actuator/health/liveness";
    static final String READINESS = "/actuator/health/readiness";
    static final String PROMETHEUS = "/actuator/prometheus";

    /**
     * Environment variable names the deployment may set: Spring Boot relaxed-binding forms of the
     * app's configuration keys ({@code <n>} is a list index). The crlm ones are checked against
     * the {@code *Properties} records, the Spring ones against Spring Boot's configuration metadata.
     */
    static final List<String> ALLOWED_ENV = List.of(
            // Spring Boot
            "SPRING_PROFILES_ACTIVE",
            "SPRING_DATASOURCE_URL",
            "SPRING_DATASOURCE_USERNAME",
            "SPRING_DATASOURCE_PASSWORD",
            "SPRING_DATASOURCE_HIKARI_MAXIMUMPOOLSIZE",
            "SPRING_SECURITY_OAUTH2_RESOURCESERVER_JWT_ISSUERURI",
            "SPRING_SECURITY_OAUTH2_RESOURCESERVER_JWT_JWKSETURI",
            "SPRING_SECURITY_OAUTH2_RESOURCESERVER_JWT_AUDIENCES_<n>",
            "SPRING_LIFECYCLE_TIMEOUTPERSHUTDOWNPHASE",
            "SERVER_FORWARDHEADERSSTRATEGY",
            // crlm.knowledge.*
            "CRLM_KNOWLEDGE_CQLDIR",
            "CRLM_KNOWLEDGE_RESOURCESDIR",
            "CRLM_KNOWLEDGE_LOADDEMODATA",
            // crlm.security.*
            "CRLM_SECURITY_CDSCLIENT_PUBLICBASEURL",
            "CRLM_SECURITY_CDSCLIENT_ISSUERS_<n>_ISS",
            "CRLM_SECURITY_CDSCLIENT_ISSUERS_<n>_JWKSURL",
            "CRLM_SECURITY_CDSCLIENT_ISSUERS_<n>_JWKSFILE",
            "CRLM_SECURITY_CDSCLIENT_ISSUERS_<n>_JWKS",
            "CRLM_SECURITY_CDSCLIENT_ISSUERS_<n>_ALLOWEDJKU_<n>",
            "CRLM_SECURITY_OUTBOUND_ALLOWEDFHIRSERVERS_<n>",
            "CRLM_SECURITY_CORS_ALLOWEDORIGINS_<n>",
            // the JVM
            "JAVA_TOOL_OPTIONS");

    /** Records that must be among the app's configuration records (the rest are found in src/main/java). */
    static final List<Class<?>> KNOWN_PROPERTIES_RECORDS = List.of(
            AuditProperties.class,
            CdsHooksProperties.class,
            FhirServerProperties.class,
            KnowledgeProperties.class,
            CdsClientProperties.class,
            LimitsProperties.class,
            CorsProperties.class,
            OutboundProperties.class,
            FhirApiProperties.class);

    enum MetricType {
        /** Micrometer Timer with publishPercentileHistogram: _bucket, _count, _sum and _max series. */
        HISTOGRAM,
        /** Micrometer Timer without histogram: _count, _sum, _max. */
        TIMER,
        /** Counter: the name (already ending in _total). */
        COUNTER,
        /** Gauge: the name. */
        GAUGE
    }

    /** Prometheus names the app exposes (the Micrometer meter name is in the source as {@code main}). */
    record Metric(String name, MetricType type, String micrometerName) {}

    static final List<Metric> METRICS = List.of(
            new Metric("cds_hook_duration_seconds", MetricType.HISTOGRAM, "cds.hook.duration"),
            new Metric("cds_cards_total", MetricType.COUNTER, "cds.cards"),
            new Metric("cds_feedback_total", MetricType.COUNTER, "cds.feedback"),
            new Metric("cds_prefetch_misses_total", MetricType.COUNTER, "cds.prefetch.misses"),
            new Metric("cds_outbound_fetches_total", MetricType.COUNTER, "cds.outbound.fetches"),
            new Metric("cds_local_fetches_total", MetricType.COUNTER, "cds.local.fetches"),
            new Metric("cql_translations_total", MetricType.COUNTER, "cql.translations"),
            new Metric("cds_jwt_refusals_total", MetricType.COUNTER, "cds.jwt.refusals"),
            // Spring Boot / JVM defaults (no percentile histogram configured for http.server.requests)
            new Metric("http_server_requests_seconds", MetricType.TIMER, null),
            new Metric("jvm_memory_used_bytes", MetricType.GAUGE, null),
            new Metric("process_cpu_usage", MetricType.GAUGE, null),
            new Metric("hikaricp_connections_active", MetricType.GAUGE, null));

    /** Series the dashboard must show (one panel or more each). */
    static final Set<String> DASHBOARD_MUST_USE = Set.of(
            "cds_hook_duration_seconds_bucket",
            "cds_hook_duration_seconds_count",
            "cds_cards_total",
            "cds_feedback_total",
            "cds_prefetch_misses_total",
            "cds_outbound_fetches_total",
            "cql_translations_total",
            "cds_jwt_refusals_total",
            "jvm_memory_used_bytes",
            "hikaricp_connections_active");

    /** Kinds this folder may contain, with the one apiVersion and model class each. */
    record Kind(String apiVersion, Class<? extends HasMetadata> type, boolean namespaced) {}

    static final Map<String, Kind> KINDS = Map.of(
            "Namespace", new Kind("v1", Namespace.class, false),
            "ConfigMap", new Kind("v1", ConfigMap.class, true),
            "Secret", new Kind("v1", Secret.class, true),
            "Deployment", new Kind("apps/v1", Deployment.class, true),
            "Service", new Kind("v1", Service.class, true),
            "HorizontalPodAutoscaler", new Kind("autoscaling/v2", HorizontalPodAutoscaler.class, true),
            "PodDisruptionBudget", new Kind("policy/v1", PodDisruptionBudget.class, true));

    // ------------------------------------------------------------------------------------------
    // Strict parsing
    // ------------------------------------------------------------------------------------------

    /** Jackson bound strictly: unknown properties, scalar coercions and duplicate keys fail. */
    static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            // not FAIL_ON_TRAILING_TOKENS: fabric8's Quantity deserializer reads a sub-tree through
            // the codec, which that feature would fail; documents are split by SnakeYAML anyway
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .withCoercionConfig(LogicalType.Textual, c -> c.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .withCoercionConfig(LogicalType.Integer, c -> c.setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .withCoercionConfig(LogicalType.Boolean, c -> c.setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail))
            .build();

    /** For compose.yaml, kustomization.yaml and the dashboard: plain trees, duplicate keys still fail. */
    static final ObjectMapper TREES = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /**
     * YAML 1.1 scalars as kubectl reads them (true/yes/on are booleans, 8080 an int) except
     * timestamps, which stay strings as in JSON.
     */
    static final class KubernetesScalarResolver extends Resolver {
        @Override
        protected void addImplicitResolvers() {
            addImplicitResolver(Tag.BOOL, BOOL, "yYnNtTfFoO");
            addImplicitResolver(Tag.INT, INT, "-+0123456789");
            addImplicitResolver(Tag.FLOAT, FLOAT, "-+0123456789.");
            addImplicitResolver(Tag.MERGE, MERGE, "<");
            addImplicitResolver(Tag.NULL, NULL, "~nN\0");
            addImplicitResolver(Tag.NULL, EMPTY, null);
        }
    }

    static Yaml yaml() {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setAllowRecursiveKeys(false);
        options.setMaxAliasesForCollections(10);
        DumperOptions dumper = new DumperOptions();
        return new Yaml(
                new SafeConstructor(options), new Representer(dumper), dumper, options, new KubernetesScalarResolver());
    }

    /** Every non-empty YAML document of a text, as a JSON tree. */
    static List<JsonNode> yamlDocuments(String text) {
        List<JsonNode> documents = new ArrayList<>();
        for (Object document : yaml().loadAll(text)) {
            if (document != null) {
                documents.add(TREES.valueToTree(document));
            }
        }
        return documents;
    }

    /** One parsed Kubernetes resource and where it came from. */
    record Manifest(String source, HasMetadata resource) {}

    /** Parses one document strictly into the model class of its kind; throws with the reason otherwise. */
    static HasMetadata parseStrict(JsonNode document, String source) {
        if (!document.isObject()) {
            throw new IllegalArgumentException(source + ": a document must be a mapping");
        }
        String kindName = document.path("kind").asText(null);
        Kind kind = kindName == null ? null : KINDS.get(kindName);
        if (kind == null) {
            throw new IllegalArgumentException(
                    source + ": unexpected kind " + kindName + " (allowed: " + KINDS.keySet() + ")");
        }
        String apiVersion = document.path("apiVersion").asText(null);
        if (!kind.apiVersion().equals(apiVersion)) {
            throw new IllegalArgumentException(
                    source + ": " + kindName + " must be apiVersion " + kind.apiVersion() + ", not " + apiVersion);
        }
        HasMetadata resource;
        try {
            resource = STRICT.treeToValue(document, kind.type());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    source + ": " + kindName + " does not bind: " + e.getOriginalMessage(), e);
        }
        List<String> unknown = new ArrayList<>();
        collectUnknownFields(resource, kindName, unknown, Collections.newSetFromMap(new IdentityHashMap<>()));
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(source + ": unknown field(s): " + String.join("; ", unknown));
        }
        return resource;
    }

    /**
     * Walks a fabric8 object graph through its getters and reports every non-empty
     * additionalProperties map (the fields the model does not know) with its path.
     */
    static void collectUnknownFields(Object value, String path, List<String> unknown, Set<Object> seen) {
        if (value == null) {
            return;
        }
        if (value instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                collectUnknownFields(entry.getValue(), path + "[" + entry.getKey() + "]", unknown, seen);
            }
            return;
        }
        if (value instanceof Collection<?> collection) {
            int i = 0;
            for (Object element : collection) {
                collectUnknownFields(element, path + "[" + i++ + "]", unknown, seen);
            }
            return;
        }
        if (value instanceof Quantity quantity) {
            try {
                Quantity.getAmountInBytes(quantity); // "1.5Gii" and the like binds, but is no quantity
            } catch (RuntimeException e) {
                unknown.add(path + ": invalid quantity " + quantity);
            }
        }
        Class<?> type = value.getClass();
        if (!type.getName().startsWith("io.fabric8.") || !seen.add(value)) {
            return;
        }
        for (Method getter : type.getMethods()) {
            String name = getter.getName();
            if (getter.getParameterCount() != 0
                    || Modifier.isStatic(getter.getModifiers())
                    || !name.startsWith("get")
                    || name.equals("getClass")) {
                continue;
            }
            Class<?> returned = getter.getReturnType();
            boolean additional = name.equals("getAdditionalProperties");
            boolean walk = returned.getName().startsWith("io.fabric8.")
                    || Collection.class.isAssignableFrom(returned)
                    || Map.class.isAssignableFrom(returned)
                    || returned == Object.class;
            if (!additional && !walk) {
                continue;
            }
            Object child;
            try {
                child = getter.invoke(value);
            } catch (IllegalAccessException | InvocationTargetException e) {
                throw new IllegalStateException("cannot read " + path + "." + name, e);
            }
            if (additional) {
                if (child instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    unknown.add(path + ": " + extra.keySet());
                }
            } else {
                String property = Character.toLowerCase(name.charAt(3)) + name.substring(4);
                collectUnknownFields(child, path + "." + property, unknown, seen);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // The files
    // ------------------------------------------------------------------------------------------

    static Path root;
    static Path docker;
    static Path kubernetesDir;
    static List<Manifest> manifests;

    @BeforeAll
    static void parseAll() throws IOException {
        root = Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
                .toAbsolutePath();
        docker = root.resolve("docker");
        kubernetesDir = docker.resolve("kubernetes");
        assertThat(kubernetesDir).isDirectory();
        manifests = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (Path file : kubernetesFiles()) {
            if (file.getFileName().toString().equals("kustomization.yaml")) {
                continue;
            }
            List<JsonNode> documents;
            try {
                documents = yamlDocuments(Files.readString(file));
            } catch (RuntimeException e) {
                problems.add(rel(file) + ": not valid YAML: " + e.getMessage());
                continue;
            }
            for (int i = 0; i < documents.size(); i++) {
                String source = rel(file) + (documents.size() > 1 ? "#" + i : "");
                try {
                    manifests.add(new Manifest(source, parseStrict(documents.get(i), source)));
                } catch (IllegalArgumentException e) {
                    problems.add(e.getMessage());
                }
            }
        }
        assertThat(problems).as("strict parsing of docker/kubernetes").isEmpty();
    }

    static List<Path> kubernetesFiles() throws IOException {
        try (Stream<Path> files = Files.walk(kubernetesDir)) {
            return files.filter(Files::isRegularFile)
                    .filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml"))
                    .sorted()
                    .toList();
        }
    }

    static String rel(Path file) {
        return root.relativize(file.toAbsolutePath()).toString();
    }

    static <T extends HasMetadata> List<T> all(Class<T> type) {
        return manifests.stream()
                .map(Manifest::resource)
                .filter(type::isInstance)
                .map(type::cast)
                .toList();
    }

    static <T extends HasMetadata> T one(Class<T> type) {
        List<T> found = all(type);
        assertThat(found).as("exactly one " + type.getSimpleName()).hasSize(1);
        return found.get(0);
    }

    static Deployment deployment() {
        return one(Deployment.class);
    }

    static Container appContainer() {
        List<Container> containers =
                deployment().getSpec().getTemplate().getSpec().getContainers();
        assertThat(containers).as("containers").hasSize(1);
        return containers.get(0);
    }

    static Map<String, String> podLabels() {
        return deployment().getSpec().getTemplate().getMetadata().getLabels();
    }

    // ------------------------------------------------------------------------------------------
    // Strictness itself
    // ------------------------------------------------------------------------------------------

    static final String GOOD_DEPLOYMENT =
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: probe-typo
            spec:
              replicas: 2
              selector:
                matchLabels: {app: x}
              template:
                metadata:
                  labels: {app: x}
                spec:
                  containers:
                    - name: x
                      image: x:1
                      env:
                        - name: A
                          value: "1"
                      readinessProbe:
                        httpGet: {path: /actuator/health/readiness, port: 8080}
            """;

    @Test
    void theStrictParserAcceptsAWellFormedDeployment() {
        HasMetadata parsed = parseStrict(yamlDocuments(GOOD_DEPLOYMENT).get(0), "inline");
        assertThat(parsed).isInstanceOf(Deployment.class);
        Probe probe = ((Deployment) parsed)
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getReadinessProbe();
        assertThat(probe.getHttpGet().getPort().getIntVal()).isEqualTo(8080);
    }

    @Test
    void aMisspelledFieldIsRejected() {
        String typo = GOOD_DEPLOYMENT.replace("readinessProbe:", "readinesProbe:");
        assertThatThrownBy(() -> parseStrict(yamlDocuments(typo).get(0), "inline"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown field")
                .hasMessageContaining("Deployment.spec.template.spec.containers[0]")
                .hasMessageContaining("readinesProbe");
    }

    /** Mistakes the API server (or kubectl) refuses must fail here too: "replace|with|expected message". */
    @ParameterizedTest
    @ValueSource(
            strings = {
                "replicas: 2|replicas: \"2\"|Cannot coerce String value", // string for an integer
                "value: \"1\"|value: 1|Cannot coerce Integer value", // number for a string
                "value: \"1\"|value: true|Cannot coerce Boolean value", // boolean for a string
                "replicas: 2|replicas: 2.5|Cannot coerce Floating-point value", // float for an integer
                "  replicas: 2|  replicas: 2\n  replicas: 3|found duplicate key replicas", // duplicate key
                "  name: probe-typo|  name: probe-typo\n  labelz: {a: b}|Deployment.metadata: [labelz]",
                "port: 8080}|port: 8080, schem: HTTP}|readinessProbe.httpGet: [schem]",
                "image: x:1|image: x:1\n          resources: {limits: {memory: 1.5Gii}}|invalid quantity",
                "kind: Deployment|kind: Deploymnet|unexpected kind Deploymnet",
                "apiVersion: apps/v1|apiVersion: extensions/v1beta1|must be apiVersion apps/v1",
            })
    void malformedManifestsAreRejected(String replacement) {
        String[] parts = replacement.split("\\|", 3);
        String bad = GOOD_DEPLOYMENT.replace(parts[0], parts[1]);
        assertThat(bad).as("the replacement applies").isNotEqualTo(GOOD_DEPLOYMENT);
        assertThatThrownBy(() -> parseStrict(yamlDocuments(bad).get(0), "inline"))
                .hasMessageContaining(parts[2]);
    }

    // ------------------------------------------------------------------------------------------
    // Kubernetes: inventory
    // ------------------------------------------------------------------------------------------

    @Test
    void kustomizationListsExactlyTheManifests() throws IOException {
        Path file = kubernetesDir.resolve("kustomization.yaml");
        List<JsonNode> documents = yamlDocuments(Files.readString(file));
        assertThat(documents).hasSize(1);
        JsonNode kustomization = documents.get(0);
        assertThat(kustomization.path("apiVersion").asText()).isEqualTo("kustomize.config.k8s.io/v1beta1");
        assertThat(kustomization.path("kind").asText()).isEqualTo("Kustomization");
        Set<String> knownKeys = Set.of(
                "apiVersion",
                "kind",
                "resources",
                "namespace",
                "labels",
                "commonAnnotations",
                "images",
                "configMapGenerator",
                "secretGenerator",
                "generatorOptions",
                "patches",
                "replicas",
                "components");
        kustomization.fieldNames().forEachRemaining(key -> assertThat(knownKeys)
                .as("kustomization key")
                .contains(key));

        List<String> listed = new ArrayList<>();
        kustomization.path("resources").forEach(r -> listed.add(r.asText()));
        assertThat(listed).as("resources").isNotEmpty().doesNotHaveDuplicates();
        for (String resource : listed) {
            assertThat(kubernetesDir.resolve(resource))
                    .as("listed resource " + resource)
                    .isRegularFile();
        }
        Set<String> present = kubernetesFiles().stream()
                .map(f -> kubernetesDir.relativize(f).toString().replace('\\', '/'))
                .filter(name -> !name.equals("kustomization.yaml"))
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(new TreeSet<>(listed))
                .as("every manifest is listed and every listed file exists")
                .isEqualTo(present);
    }

    @Test
    void everyKindIsPresentOnceInTheNamespace() {
        for (Map.Entry<String, Kind> kind : KINDS.entrySet()) {
            assertThat(all(kind.getValue().type())).as(kind.getKey()).hasSize(1);
        }
        assertThat(one(Namespace.class).getMetadata().getName()).isEqualTo(NAMESPACE);
        for (Manifest manifest : manifests) {
            HasMetadata resource = manifest.resource();
            assertThat(resource.getMetadata().getName())
                    .as(manifest.source() + " name")
                    .isNotBlank();
            if (KINDS.get(resource.getKind()).namespaced()) {
                assertThat(resource.getMetadata().getNamespace())
                        .as(manifest.source() + " namespace")
                        .isEqualTo(NAMESPACE);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Kubernetes: the Deployment
    // ------------------------------------------------------------------------------------------

    @Test
    void deploymentRunsAtLeastTwoReplicasAndRollsWithoutLosingCapacity() {
        Deployment deployment = deployment();
        assertThat(deployment.getMetadata().getName()).isEqualTo(APP_NAME);
        assertThat(deployment.getSpec().getReplicas()).isGreaterThanOrEqualTo(2);
        assertThat(deployment.getSpec().getStrategy().getType()).isEqualTo("RollingUpdate");
        IntOrString maxUnavailable =
                deployment.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable();
        assertThat(maxUnavailable).isNotNull();
        assertThat(
                        maxUnavailable.getIntVal() != null
                                ? maxUnavailable.getIntVal().toString()
                                : maxUnavailable.getStrVal())
                .as("maxUnavailable")
                .isIn("0", "0%");
        assertThat(podLabels()).containsEntry(NAME_LABEL, APP_NAME);
        assertThat(matches(deployment.getSpec().getSelector(), podLabels()))
                .as("selector matches the pod template")
                .isTrue();
    }

    @Test
    void podRunsAsNonRootOnAReadOnlyRootFilesystem() {
        PodSpec pod = deployment().getSpec().getTemplate().getSpec();
        PodSecurityContext podSecurity = pod.getSecurityContext();
        assertThat(podSecurity.getRunAsNonRoot()).isTrue();
        assertThat(podSecurity.getRunAsUser()).isEqualTo(10001L);
        assertThat(podSecurity.getFsGroup()).isEqualTo(10001L);
        assertThat(podSecurity.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        for (Container container : pod.getContainers()) {
            SecurityContext security = container.getSecurityContext();
            assertThat(security).as(container.getName() + " securityContext").isNotNull();
            assertThat(security.getReadOnlyRootFilesystem()).isTrue();
            assertThat(security.getAllowPrivilegeEscalation()).isFalse();
            assertThat(security.getCapabilities().getDrop()).contains("ALL");
            assertThat(security.getPrivileged()).isNotEqualTo(Boolean.TRUE);
            if (security.getRunAsUser() != null) {
                assertThat(security.getRunAsUser()).isNotZero();
            }
            // With a read-only root filesystem the app writes to /tmp only: an emptyDir.
            VolumeMount tmp = container.getVolumeMounts().stream()
                    .filter(m -> m.getMountPath().equals("/tmp"))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no volume mounted at /tmp"));
            Volume volume = pod.getVolumes().stream()
                    .filter(v -> v.getName().equals(tmp.getName()))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no volume " + tmp.getName()));
            assertThat(volume.getEmptyDir()).as("/tmp is an emptyDir").isNotNull();
            assertThat(tmp.getReadOnly()).isNotEqualTo(Boolean.TRUE);
        }
    }

    @Test
    void probesUseTheActuatorEndpointsOnPort8080() {
        Container container = appContainer();
        assertThat(container.getPorts())
                .extracting(ContainerPort::getContainerPort)
                .contains(HTTP_PORT);
        assertHttpProbe(container, container.getStartupProbe(), LIVENESS, "startupProbe");
        assertHttpProbe(container, container.getLivenessProbe(), LIVENESS, "livenessProbe");
        assertHttpProbe(container, container.getReadinessProbe(), READINESS, "readinessProbe");

        // Readiness takes 60-90 s on 2 cores, longer when other replicas hold the start-up lock:
        // the liveness probe must not kill a starting pod.
        Probe startup = container.getStartupProbe();
        int startupBudget = orDefault(startup.getInitialDelaySeconds(), 0)
                + orDefault(startup.getPeriodSeconds(), 10) * orDefault(startup.getFailureThreshold(), 3);
        assertThat(startupBudget).as("startup probe budget in seconds").isGreaterThanOrEqualTo(180);
        Probe liveness = container.getLivenessProbe();
        assertThat(orDefault(liveness.getPeriodSeconds(), 10) * orDefault(liveness.getFailureThreshold(), 3))
                .as("liveness tolerance in seconds (GC pauses)")
                .isGreaterThanOrEqualTo(20);
    }

    static void assertHttpProbe(Container container, Probe probe, String path, String what) {
        assertThat(probe).as(what).isNotNull();
        assertThat(probe.getHttpGet()).as(what + ".httpGet").isNotNull();
        assertThat(probe.getHttpGet().getPath()).as(what + " path").isEqualTo(path);
        assertThat(resolvePort(container, probe.getHttpGet().getPort()))
                .as(what + " port")
                .isEqualTo(HTTP_PORT);
        String scheme = probe.getHttpGet().getScheme();
        assertThat(scheme == null || scheme.equals("HTTP")).as(what + " scheme").isTrue();
    }

    static int resolvePort(Container container, IntOrString port) {
        assertThat(port).isNotNull();
        if (port.getIntVal() != null) {
            return port.getIntVal();
        }
        return container.getPorts().stream()
                .filter(p -> port.getStrVal().equals(p.getName()))
                .map(ContainerPort::getContainerPort)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no container port named " + port.getStrVal()));
    }

    static int orDefault(Integer value, int fallback) {
        return value == null ? fallback : value;
    }

    @Test
    void resourcesAreRequestedAndLimited() {
        Container container = appContainer();
        Map<String, Quantity> requests = container.getResources().getRequests();
        Map<String, Quantity> limits = container.getResources().getLimits();
        assertThat(requests).containsKeys("cpu", "memory");
        assertThat(limits).containsKeys("cpu", "memory");
        for (String resource : List.of("cpu", "memory")) {
            // getAmountInBytes also rejects malformed quantities
            assertThat(Quantity.getAmountInBytes(requests.get(resource)))
                    .as(resource + " request")
                    .isPositive();
            assertThat(Quantity.getAmountInBytes(requests.get(resource)))
                    .as(resource + " request <= limit")
                    .isLessThanOrEqualTo(Quantity.getAmountInBytes(limits.get(resource)));
        }
        // The app needs ~512 MB-1 GB of heap; the heap is MaxRAMPercentage of the limit.
        assertThat(Quantity.getAmountInBytes(limits.get("memory")).longValue())
                .isGreaterThanOrEqualTo(1024L * 1024 * 1024);
    }

    @Test
    void shutdownFitsInTheGracePeriod() {
        PodSpec pod = deployment().getSpec().getTemplate().getSpec();
        long grace = pod.getTerminationGracePeriodSeconds() == null ? 30 : pod.getTerminationGracePeriodSeconds();
        List<String> preStop =
                appContainer().getLifecycle().getPreStop().getExec().getCommand();
        assertThat(preStop).hasSize(2).first().isEqualTo("sleep");
        long sleep = Long.parseLong(preStop.get(1));
        String phase = kubernetesEnvironment().get("SPRING_LIFECYCLE_TIMEOUTPERSHUTDOWNPHASE");
        Duration shutdown = phase == null ? Duration.ofSeconds(30) : DurationStyle.detectAndParse(phase);
        assertThat(sleep + shutdown.toSeconds())
                .as("preStop + Spring graceful shutdown <= grace period")
                .isLessThanOrEqualTo(grace);
    }

    @Test
    void metricsAreAnnouncedForPrometheus() {
        Map<String, String> annotations =
                deployment().getSpec().getTemplate().getMetadata().getAnnotations();
        assertThat(annotations)
                .containsEntry("prometheus.io/scrape", "true")
                .containsEntry("prometheus.io/path", PROMETHEUS)
                .containsEntry("prometheus.io/port", String.valueOf(HTTP_PORT));
    }

    // ------------------------------------------------------------------------------------------
    // Kubernetes: Service, HPA, PDB
    // ------------------------------------------------------------------------------------------

    @Test
    void serviceSelectsThePodsOnPort8080() {
        Service service = one(Service.class);
        assertThat(Objects.requireNonNullElse(service.getSpec().getType(), "ClusterIP"))
                .isEqualTo("ClusterIP");
        Map<String, String> selector = service.getSpec().getSelector();
        assertThat(selector).isNotEmpty();
        assertThat(podLabels()).containsAllEntriesOf(selector);
        ServicePort port = service.getSpec().getPorts().stream()
                .filter(p -> "http".equals(p.getName()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no Service port named http"));
        assertThat(port.getPort()).isEqualTo(HTTP_PORT);
        IntOrString target = port.getTargetPort() == null ? new IntOrString(port.getPort()) : port.getTargetPort();
        assertThat(resolvePort(appContainer(), target)).isEqualTo(HTTP_PORT);
    }

    @Test
    void autoscalerTargetsTheDeployment() {
        HorizontalPodAutoscaler hpa = one(HorizontalPodAutoscaler.class);
        Deployment deployment = deployment();
        assertThat(hpa.getSpec().getScaleTargetRef().getKind()).isEqualTo("Deployment");
        assertThat(hpa.getSpec().getScaleTargetRef().getApiVersion()).isEqualTo("apps/v1");
        assertThat(hpa.getSpec().getScaleTargetRef().getName())
                .isEqualTo(deployment.getMetadata().getName());
        assertThat(hpa.getSpec().getMinReplicas()).isGreaterThanOrEqualTo(2);
        assertThat(hpa.getSpec().getMaxReplicas())
                .isGreaterThanOrEqualTo(hpa.getSpec().getMinReplicas());
        MetricSpec cpu = hpa.getSpec().getMetrics().stream()
                .filter(m -> "Resource".equals(m.getType())
                        && "cpu".equals(m.getResource().getName()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no CPU metric"));
        assertThat(cpu.getResource().getTarget().getType()).isEqualTo("Utilization");
        assertThat(cpu.getResource().getTarget().getAverageUtilization()).isBetween(50, 90);
        // Utilization is relative to the CPU request, which must therefore be set.
        assertThat(appContainer().getResources().getRequests()).containsKey("cpu");
    }

    @Test
    void disruptionBudgetSelectsThePodsAndAllowsDrains() {
        PodDisruptionBudget pdb = one(PodDisruptionBudget.class);
        assertThat(matches(pdb.getSpec().getSelector(), podLabels()))
                .as("PDB selector matches the pod labels")
                .isTrue();
        IntOrString minAvailable = pdb.getSpec().getMinAvailable();
        assertThat(minAvailable).as("minAvailable").isNotNull();
        assertThat(minAvailable.getIntVal())
                .as("minAvailable (an integer)")
                .isNotNull()
                .isGreaterThanOrEqualTo(1)
                .as("minAvailable below the replica count, or drains block")
                .isLessThan(deployment().getSpec().getReplicas());
    }

    /** Kubernetes label selector semantics: matchLabels AND every matchExpression. */
    static boolean matches(LabelSelector selector, Map<String, String> labels) {
        if (selector == null) {
            return false;
        }
        Map<String, String> matchLabels = selector.getMatchLabels() == null ? Map.of() : selector.getMatchLabels();
        List<LabelSelectorRequirement> expressions =
                selector.getMatchExpressions() == null ? List.of() : selector.getMatchExpressions();
        if (matchLabels.isEmpty() && expressions.isEmpty()) {
            return false; // selects everything in the namespace: not what we want
        }
        for (Map.Entry<String, String> entry : matchLabels.entrySet()) {
            if (!entry.getValue().equals(labels.get(entry.getKey()))) {
                return false;
            }
        }
        for (LabelSelectorRequirement requirement : expressions) {
            String value = labels.get(requirement.getKey());
            List<String> values = requirement.getValues() == null ? List.of() : requirement.getValues();
            boolean ok =
                    switch (requirement.getOperator()) {
                        case "In" -> value != null && values.contains(value);
                        case "NotIn" -> value == null || !values.contains(value);
                        case "Exists" -> value != null;
                        case "DoesNotExist" -> value == null;
                        default -> throw new AssertionError("unknown selector operator " + requirement.getOperator());
                    };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    // ------------------------------------------------------------------------------------------
    // Kubernetes: configuration
    // ------------------------------------------------------------------------------------------

    /** The environment a replica gets: ConfigMap and Secret through envFrom, then env entries. */
    static Map<String, String> kubernetesEnvironment() {
        Container container = appContainer();
        Map<String, ConfigMap> configMaps = all(ConfigMap.class).stream()
                .collect(Collectors.toMap(c -> c.getMetadata().getName(), c -> c));
        Map<String, Secret> secrets = all(Secret.class).stream()
                .collect(Collectors.toMap(s -> s.getMetadata().getName(), s -> s));
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvFromSource from : container.getEnvFrom() == null ? List.<EnvFromSource>of() : container.getEnvFrom()) {
            assertThat(from.getPrefix()).as("envFrom prefix").isNull();
            if (from.getConfigMapRef() != null) {
                ConfigMap configMap = configMaps.get(from.getConfigMapRef().getName());
                assertThat(configMap)
                        .as("ConfigMap " + from.getConfigMapRef().getName())
                        .isNotNull();
                env.putAll(configMap.getData());
            }
            if (from.getSecretRef() != null) {
                Secret secret = secrets.get(from.getSecretRef().getName());
                assertThat(secret).as("Secret " + from.getSecretRef().getName()).isNotNull();
                env.putAll(secretValues(secret));
            }
        }
        for (EnvVar var : container.getEnv() == null ? List.<EnvVar>of() : container.getEnv()) {
            if (var.getValue() != null) {
                env.put(var.getName(), var.getValue());
            } else if (var.getValueFrom() != null && var.getValueFrom().getConfigMapKeyRef() != null) {
                var ref = var.getValueFrom().getConfigMapKeyRef();
                assertThat(configMaps).as("ConfigMap " + ref.getName()).containsKey(ref.getName());
                assertThat(configMaps.get(ref.getName()).getData()).containsKey(ref.getKey());
                env.put(var.getName(), configMaps.get(ref.getName()).getData().get(ref.getKey()));
            } else if (var.getValueFrom() != null && var.getValueFrom().getSecretKeyRef() != null) {
                var ref = var.getValueFrom().getSecretKeyRef();
                assertThat(secrets).as("Secret " + ref.getName()).containsKey(ref.getName());
                assertThat(secretValues(secrets.get(ref.getName()))).containsKey(ref.getKey());
                env.put(var.getName(), secretValues(secrets.get(ref.getName())).get(ref.getKey()));
            } else {
                env.put(var.getName(), "");
            }
        }
        return env;
    }

    static Map<String, String> secretValues(Secret secret) {
        Map<String, String> values = new LinkedHashMap<>();
        if (secret.getData() != null) {
            secret.getData()
                    .forEach((k, v) -> values.put(
                            k, new String(java.util.Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
        }
        if (secret.getStringData() != null) {
            values.putAll(secret.getStringData());
        }
        return values;
    }

    /** Every variable name in the ConfigMap, the Secret and the container's env. */
    static Set<String> kubernetesEnvNames() {
        Set<String> names = new TreeSet<>();
        all(ConfigMap.class)
                .forEach(c -> names.addAll(
                        c.getData() == null ? Set.of() : c.getData().keySet()));
        all(Secret.class).forEach(s -> names.addAll(secretValues(s).keySet()));
        Container container = appContainer();
        if (container.getEnv() != null) {
            container.getEnv().forEach(e -> names.add(e.getName()));
        }
        return names;
    }

    @Test
    void everyKubernetesVariableIsAKnownConfigurationKey() {
        assertThat(unknownEnvNames(kubernetesEnvNames()))
                .as("unknown environment variables")
                .isEmpty();
    }

    @Test
    void kubernetesConfigurationRunsTheProductionProfileWithoutDemoData() {
        Map<String, String> env = kubernetesEnvironment();
        assertProductionEnvironment(env, "Kubernetes");
        assertThat(one(ConfigMap.class).getData())
                .as("non-secret settings in the ConfigMap")
                .doesNotContainKeys("SPRING_DATASOURCE_PASSWORD");
        assertThat(secretValues(one(Secret.class)))
                .containsKeys(
                        "SPRING_DATASOURCE_USERNAME",
                        "SPRING_DATASOURCE_PASSWORD",
                        "CRLM_SECURITY_CDSCLIENT_ISSUERS_0_ISS");
        assertThat(one(Secret.class).getType()).isEqualTo("Opaque");
    }

    /** What the app needs outside the demo profile, and that it passes the app's own start-up check. */
    static void assertProductionEnvironment(Map<String, String> env, String where) {
        assertThat(env)
                .as(where)
                .containsEntry("SPRING_PROFILES_ACTIVE", "postgres")
                .containsEntry("CRLM_KNOWLEDGE_LOADDEMODATA", "false")
                .containsEntry("CRLM_KNOWLEDGE_CQLDIR", "/app/cql")
                .containsEntry("CRLM_KNOWLEDGE_RESOURCESDIR", "/app/fhir-resources")
                .containsKeys(
                        "SPRING_DATASOURCE_URL",
                        "SPRING_DATASOURCE_USERNAME",
                        "SPRING_DATASOURCE_PASSWORD",
                        "CRLM_SECURITY_CDSCLIENT_PUBLICBASEURL",
                        "CRLM_SECURITY_OUTBOUND_ALLOWEDFHIRSERVERS_0",
                        "CRLM_SECURITY_CORS_ALLOWEDORIGINS_0",
                        "JAVA_TOOL_OPTIONS");
        assertThat(env.get("SPRING_DATASOURCE_URL")).as(where).startsWith("jdbc:postgresql://");
        assertThat(env.get("CRLM_SECURITY_CDSCLIENT_PUBLICBASEURL")).as(where).startsWith("https://");
        assertThat(env.get("CRLM_SECURITY_OUTBOUND_ALLOWEDFHIRSERVERS_0"))
                .as(where + ": outbound requires https")
                .startsWith("https://");
        assertThat(env.get("JAVA_TOOL_OPTIONS"))
                .as(where)
                .contains("-XX:MaxRAMPercentage=70")
                .contains("-XX:+ExitOnOutOfMemoryError");

        StandardEnvironment environment = springEnvironment(env);
        assertThat(environment.getActiveProfiles()).as(where).containsExactly("postgres");
        // The app's own refusal rules (issuers, OAuth2 issuer, demo-only switches), no Spring context.
        SecurityStartupCheck check = new SecurityStartupCheck();
        check.setEnvironment(environment);
        check.postProcessBeanFactory(null);
        // Every crlm.* record binds (types: durations, sizes, booleans, lists).
        Binder binder = Binder.get(environment);
        List<Class<?>> records;
        try {
            records = propertiesRecords();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        for (Class<?> type : records) {
            assertThat(binder.bindOrCreate(prefix(type), Bindable.of(type)))
                    .as(where + " binds " + type.getSimpleName())
                    .isNotNull();
        }
        CdsClientProperties cdsClient =
                binder.bindOrCreate(prefix(CdsClientProperties.class), Bindable.of(CdsClientProperties.class));
        assertThat(cdsClient.issuers()).as(where + " trusted issuers").isNotEmpty();
        for (CdsClientProperties.Issuer issuer : cdsClient.issuers()) {
            assertThat(issuer.iss()).as(where + " issuer iss").isNotBlank();
            assertThat(Stream.of(issuer.jwksUrl(), issuer.jwksFile(), issuer.jwks())
                            .filter(Objects::nonNull)
                            .count())
                    .as(where + " exactly one of jwks-url, jwks-file, jwks for " + issuer.iss())
                    .isEqualTo(1);
        }
        KnowledgeProperties knowledge =
                binder.bindOrCreate(prefix(KnowledgeProperties.class), Bindable.of(KnowledgeProperties.class));
        assertThat(knowledge.loadDemoData()).as(where + " demo data").isFalse();
        assertThat(env.keySet())
                .as(where + " an OAuth2 issuer for the FHIR API")
                .containsAnyOf(
                        "SPRING_SECURITY_OAUTH2_RESOURCESERVER_JWT_ISSUERURI",
                        "SPRING_SECURITY_OAUTH2_RESOURCESERVER_JWT_JWKSETURI");
    }

    @Test
    void theStartUpCheckUsedAboveDoesRefuseAnIncompleteConfiguration() {
        Map<String, String> env = new LinkedHashMap<>(kubernetesEnvironment());
        env.keySet().removeIf(name -> name.startsWith("CRLM_SECURITY_CDSCLIENT_ISSUERS_"));
        SecurityStartupCheck check = new SecurityStartupCheck();
        check.setEnvironment(springEnvironment(env));
        assertThatThrownBy(() -> check.postProcessBeanFactory(null))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no trusted CDS client issuers");

        Map<String, String> noOauth = new LinkedHashMap<>(kubernetesEnvironment());
        noOauth.keySet().removeIf(name -> name.startsWith("SPRING_SECURITY_OAUTH2_"));
        SecurityStartupCheck check2 = new SecurityStartupCheck();
        check2.setEnvironment(springEnvironment(noOauth));
        assertThatThrownBy(() -> check2.postProcessBeanFactory(null))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("OAuth2");
    }

    /** A Spring environment made of these variables only, as Spring Boot sees them (relaxed binding). */
    static StandardEnvironment springEnvironment(Map<String, String> env) {
        StandardEnvironment environment = new StandardEnvironment();
        MutablePropertySources sources = environment.getPropertySources();
        sources.remove(StandardEnvironment.SYSTEM_PROPERTIES_PROPERTY_SOURCE_NAME);
        sources.replace(
                StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                new SystemEnvironmentPropertySource(
                        StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, new LinkedHashMap<>(env)));
        environment.setDefaultProfiles(SecurityStartupCheck.DEMO_PROFILE); // application.yaml: spring.profiles.default
        ConfigurationPropertySources.attach(environment);
        return environment;
    }

    /**
     * Every {@code @ConfigurationProperties} record of the app (source of truth for crlm.* names):
     * the *Properties.java records under src/main/java, loaded by class name.
     */
    static List<Class<?>> propertiesRecords() throws IOException {
        Pattern packageLine = Pattern.compile("^package\\s+([\\w.]+);", Pattern.MULTILINE);
        List<Class<?>> records = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root.resolve("src/main/java"))) {
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith("Properties.java"))
                    .sorted()
                    .toList()) {
                String source = Files.readString(file);
                Matcher pkg = packageLine.matcher(source);
                if (!source.contains("@ConfigurationProperties") || !pkg.find()) {
                    continue;
                }
                String simpleName = file.getFileName().toString().replace(".java", "");
                try {
                    Class<?> type = Class.forName(pkg.group(1) + "." + simpleName);
                    if (type.isRecord() && type.isAnnotationPresent(ConfigurationProperties.class)) {
                        records.add(type);
                    }
                } catch (ClassNotFoundException e) {
                    throw new IllegalStateException("not compiled: " + file, e);
                }
            }
        }
        assertThat(records).as("configuration records in src/main/java").containsAll(KNOWN_PROPERTIES_RECORDS);
        return records;
    }

    static String prefix(Class<?> type) {
        ConfigurationProperties annotation = type.getAnnotation(ConfigurationProperties.class);
        assertThat(annotation).as(type + " is @ConfigurationProperties").isNotNull();
        return annotation.prefix().isEmpty() ? annotation.value() : annotation.prefix();
    }

    // ------------------------------------------------------------------------------------------
    // The list of allowed variables itself
    // ------------------------------------------------------------------------------------------

    static Set<String> unknownEnvNames(Collection<String> names) {
        List<Pattern> allowed = ALLOWED_ENV.stream()
                .map(name -> Pattern.compile(Pattern.quote(name).replace("<n>", "\\E(0|[1-9][0-9]*)\\Q")))
                .toList();
        return names.stream()
                .filter(name -> allowed.stream().noneMatch(p -> p.matcher(name).matches()))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void allowedCrlmVariablesExistInThePropertiesRecords() throws IOException {
        Set<String> derived = new TreeSet<>();
        for (Class<?> type : propertiesRecords()) {
            addEnvNames(type, toEnvName(prefix(type)), derived);
        }
        List<String> crlm =
                ALLOWED_ENV.stream().filter(name -> name.startsWith("CRLM_")).toList();
        assertThat(derived).as("env names of the crlm.* records").containsAll(crlm);
        assertThat(unknownEnvNames(List.of("CRLM_SECURITY_CDSCLIENT_ISSUERS_12_JWKSURL")))
                .isEmpty();
        assertThat(unknownEnvNames(List.of("CRLM_SECURITY_CDSCLIENT_ISSUER_0_JWKSURL", "CRLM_KNOWLEDGE_CQL_DIR")))
                .hasSize(2);
    }

    /** Record components as Spring Boot relaxed-binding environment names (lists: {@code _<n>}). */
    static void addEnvNames(Class<?> record, String prefix, Set<String> names) {
        for (RecordComponent component : record.getRecordComponents()) {
            String name = prefix + "_" + component.getName().toUpperCase(java.util.Locale.ROOT);
            Class<?> type = component.getType();
            if (List.class.isAssignableFrom(type)) {
                Type element = ((ParameterizedType) component.getGenericType()).getActualTypeArguments()[0];
                if (element instanceof Class<?> elementClass && elementClass.isRecord()) {
                    addEnvNames(elementClass, name + "_<n>", names);
                } else {
                    names.add(name + "_<n>");
                }
            } else if (type.isRecord()) {
                addEnvNames(type, name, names);
            } else {
                names.add(name);
            }
        }
    }

    static String toEnvName(String property) {
        return property.replace("-", "").replace('.', '_').toUpperCase(java.util.Locale.ROOT);
    }

    @Test
    void allowedSpringVariablesAreSpringBootProperties() throws IOException {
        Set<String> known = new TreeSet<>();
        Enumeration<URL> metadata =
                getClass().getClassLoader().getResources("META-INF/spring-configuration-metadata.json");
        while (metadata.hasMoreElements()) {
            try (InputStream in = metadata.nextElement().openStream()) {
                TREES.readTree(in)
                        .path("properties")
                        .forEach(p -> known.add(toEnvName(p.path("name").asText())));
            }
        }
        assertThat(known)
                .as("Spring Boot configuration metadata on the classpath")
                .isNotEmpty();
        // A list property (..._AUDIENCES_<n>) is one property in the metadata.
        List<String> spring = ALLOWED_ENV.stream()
                .filter(n -> n.startsWith("SPRING_") || n.startsWith("SERVER_"))
                .map(n -> n.replace("_<n>", ""))
                .toList();
        assertThat(known).containsAll(spring);
    }

    // ------------------------------------------------------------------------------------------
    // docker/compose.yaml
    // ------------------------------------------------------------------------------------------

    static JsonNode compose() throws IOException {
        List<JsonNode> documents = yamlDocuments(Files.readString(docker.resolve("compose.yaml")));
        assertThat(documents).hasSize(1);
        return documents.get(0);
    }

    /** Compose variable interpolation with no variables set: ${VAR:-default} gives the default. */
    static String interpolate(String value) {
        Matcher m = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?}")
                .matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String operator = m.group(2);
            if (operator == null || operator.endsWith("?")) {
                throw new AssertionError("compose variable ${" + m.group(1) + "} has no default: " + value);
            }
            m.appendReplacement(out, Matcher.quoteReplacement(m.group(3)));
        }
        m.appendTail(out);
        return out.toString().replace("$$", "$");
    }

    /** A service's environment, map or list form, interpolated. */
    static Map<String, String> composeEnvironment(JsonNode service) {
        Map<String, String> env = new LinkedHashMap<>();
        JsonNode environment = service.path("environment");
        if (environment.isObject()) {
            environment.fields().forEachRemaining(e -> {
                assertThat(e.getValue().isTextual())
                        .as("compose env " + e.getKey() + " is a string (quote it)")
                        .isTrue();
                env.put(e.getKey(), interpolate(e.getValue().asText()));
            });
        } else if (environment.isArray()) {
            environment.forEach(item -> {
                String[] parts = item.asText().split("=", 2);
                env.put(parts[0], parts.length > 1 ? interpolate(parts[1]) : "");
            });
        }
        return env;
    }

    @Test
    void composeRunsPostgresTwoAppReplicasAndNginx() throws IOException {
        JsonNode compose = compose();
        Set<String> topLevel = new TreeSet<>();
        compose.fieldNames().forEachRemaining(topLevel::add);
        assertThat(Set.of("name", "services", "volumes", "networks", "configs", "secrets"))
                .containsAll(topLevel);
        JsonNode services = compose.path("services");
        Set<String> names = new TreeSet<>();
        services.fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactlyInAnyOrder("postgres", "app", "nginx");

        JsonNode postgres = services.path("postgres");
        assertThat(postgres.path("image").asText()).startsWith("postgres:15");
        assertThat(postgres.path("healthcheck").path("test").isMissingNode())
                .as("postgres healthcheck")
                .isFalse();
        String volume = postgres.path("volumes").path(0).asText().split(":")[0];
        assertThat(compose.path("volumes").has(volume))
                .as("postgres data in a named volume")
                .isTrue();
        Map<String, String> postgresEnv = composeEnvironment(postgres);

        JsonNode app = services.path("app");
        assertThat(app.path("deploy").path("replicas").asInt()).isEqualTo(2);
        assertThat(app.has("ports")).as("app publishes no host port").isFalse();
        assertThat(app.has("container_name"))
                .as("container_name prevents replicas")
                .isFalse();
        assertThat(app.path("depends_on").path("postgres").path("condition").asText())
                .isEqualTo("service_healthy");
        Path context =
                docker.resolve(app.path("build").path("context").asText()).normalize();
        assertThat(context).isEqualTo(root.normalize());
        assertThat(context.resolve(app.path("build").path("dockerfile").asText()))
                .isRegularFile();

        Map<String, String> env = composeEnvironment(app);
        assertThat(env).containsEntry("SPRING_PROFILES_ACTIVE", "postgres");
        URI jdbc = URI.create(env.get("SPRING_DATASOURCE_URL").substring("jdbc:".length()));
        assertThat(jdbc.getScheme()).isEqualTo("postgresql");
        assertThat(jdbc.getHost()).as("datasource host is the postgres service").isEqualTo("postgres");
        assertThat(jdbc.getPort()).isIn(-1, 5432);
        assertThat(jdbc.getPath()).isEqualTo("/" + postgresEnv.get("POSTGRES_DB"));
        assertThat(env.get("SPRING_DATASOURCE_USERNAME")).isEqualTo(postgresEnv.get("POSTGRES_USER"));
        assertThat(env.get("SPRING_DATASOURCE_PASSWORD")).isEqualTo(postgresEnv.get("POSTGRES_PASSWORD"));
        assertThat(unknownEnvNames(env.keySet()))
                .as("unknown environment variables in compose.yaml")
                .isEmpty();
        assertProductionEnvironment(env, "compose");

        JsonNode nginx = services.path("nginx");
        assertThat(nginx.path("image").asText()).isEqualTo("nginx:1.27-alpine");
        List<String> ports = new ArrayList<>();
        nginx.path("ports").forEach(p -> ports.add(p.asText()));
        assertThat(ports).contains("8080:8080");
        String mount = nginx.path("volumes").path(0).asText();
        assertThat(mount).endsWith(":/etc/nginx/nginx.conf:ro");
        assertThat(docker.resolve(mount.split(":")[0]).normalize()).isEqualTo(docker.resolve("nginx.conf"));
    }

    @Test
    void nginxBalancesOverTheAppServiceWithProxyHeaders() throws IOException {
        String conf = Files.readString(docker.resolve("nginx.conf"));
        String code = conf.lines().map(l -> l.replaceAll("#.*$", "")).collect(Collectors.joining("\n"));
        assertThat(code.chars().filter(c -> c == '{').count())
                .as("balanced braces")
                .isEqualTo(code.chars().filter(c -> c == '}').count());
        Matcher upstream = Pattern.compile("upstream\\s+(\\w+)\\s*\\{([^}]*)}").matcher(code);
        assertThat(upstream.find()).as("an upstream block").isTrue();
        assertThat(upstream.group(2)).containsPattern("server\\s+app:8080\\b");
        assertThat(code)
                .contains("proxy_pass http://" + upstream.group(1) + ";")
                .containsPattern("listen\\s+8080;")
                .containsPattern("client_max_body_size\\s+5m;")
                .containsPattern("proxy_set_header\\s+X-Forwarded-For\\s+\\$proxy_add_x_forwarded_for;")
                .containsPattern("proxy_set_header\\s+X-Forwarded-Proto\\s+\\$scheme;")
                .containsPattern("proxy_set_header\\s+X-Forwarded-Host\\s+\\$host;")
                .containsPattern("proxy_read_timeout\\s+\\d+s;")
                .containsPattern("proxy_connect_timeout\\s+\\d+s;");
    }

    // ------------------------------------------------------------------------------------------
    // docker/Dockerfile
    // ------------------------------------------------------------------------------------------

    @Test
    void dockerfileBuildsAndRunsAsNonRoot() throws IOException {
        String dockerfile = Files.readString(docker.resolve("Dockerfile"));
        List<String> instructions = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : dockerfile.lines().toList()) {
            String stripped = line.strip();
            if (current.isEmpty() && (stripped.isEmpty() || stripped.startsWith("#"))) {
                continue;
            }
            if (stripped.startsWith("#")) {
                continue; // comment line inside a continued instruction
            }
            if (stripped.endsWith("\\")) {
                current.append(stripped, 0, stripped.length() - 1).append(' ');
            } else {
                current.append(stripped);
                instructions.add(current.toString().replaceAll("\\s+", " "));
                current.setLength(0);
            }
        }
        assertThat(current.toString()).as("no dangling continuation").isEmpty();
        List<String> froms =
                instructions.stream().filter(i -> i.startsWith("FROM ")).toList();
        assertThat(froms).containsExactly("FROM maven:3.9-eclipse-temurin-17 AS build", "FROM eclipse-temurin:17-jre");
        int runtime = instructions.indexOf("FROM eclipse-temurin:17-jre");
        List<String> runtimeStage = instructions.subList(runtime, instructions.size());
        assertThat(runtimeStage).contains("USER 10001:10001", "EXPOSE 8080", "WORKDIR /app");
        assertThat(runtimeStage)
                .anyMatch(i -> i.startsWith("HEALTHCHECK ") && i.contains(READINESS) && i.contains(":8080"));
        assertThat(runtimeStage)
                .anyMatch(i -> i.startsWith("RUN ")
                        && i.contains("apt-get install")
                        && i.contains("curl")
                        && i.contains("rm -rf /var/lib/apt/lists/*"));
        assertThat(runtimeStage).anyMatch(i -> i.startsWith("ENTRYPOINT [\"java\", \"-jar\""));
        assertThat(runtimeStage)
                .anyMatch(i -> i.startsWith("ENV ")
                        && i.contains("CRLM_KNOWLEDGE_CQLDIR=/app/cql")
                        && i.contains("CRLM_KNOWLEDGE_RESOURCESDIR=/app/fhir-resources"));
        // The build context is the repository root: every COPY source of the build stage exists.
        for (String copy : instructions.subList(0, runtime)) {
            if (copy.startsWith("COPY ") && !copy.contains("--from")) {
                String[] words = copy.split(" ");
                for (int i = 1; i < words.length - 1; i++) {
                    assertThat(root.resolve(words[i]))
                            .as("COPY source " + words[i])
                            .exists();
                }
            }
        }
        // The build context is filtered by docker/Dockerfile.dockerignore: everything copied stays in.
        List<String> ignore = Files.readAllLines(docker.resolve("Dockerfile.dockerignore")).stream()
                .map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .toList();
        assertThat(ignore).first().as("allow-list").isEqualTo("*");
        for (String copy : instructions.subList(0, runtime)) {
            if (copy.startsWith("COPY ") && !copy.contains("--from")) {
                String[] words = copy.split(" ");
                for (int i = 1; i < words.length - 1; i++) {
                    assertThat(ignore)
                            .as("Dockerfile.dockerignore re-includes " + words[i])
                            .contains("!" + words[i]);
                }
            }
        }
        // ENV names are known configuration keys too.
        Set<String> envNames = new TreeSet<>();
        runtimeStage.stream().filter(i -> i.startsWith("ENV ")).forEach(i -> {
            Matcher m = Pattern.compile("(?<![\\w:+-])([A-Z][A-Z0-9_]*)=").matcher(i);
            while (m.find()) {
                envNames.add(m.group(1));
            }
        });
        assertThat(unknownEnvNames(envNames)).isEmpty();
    }

    // ------------------------------------------------------------------------------------------
    // docker/grafana/crlm-cds-dashboard.json
    // ------------------------------------------------------------------------------------------

    static final Set<String> PROMQL_KEYWORDS = Set.of(
            "by",
            "without",
            "on",
            "ignoring",
            "group_left",
            "group_right",
            "bool",
            "and",
            "or",
            "unless",
            "offset",
            "inf",
            "nan",
            "sum",
            "min",
            "max",
            "avg",
            "group",
            "stddev",
            "stdvar",
            "count",
            "count_values",
            "bottomk",
            "topk",
            "quantile",
            "limitk",
            "limit_ratio");

    /** Metric names an expression selects (label matchers, ranges, grouping labels, strings, variables removed). */
    static Set<String> metricNames(String expression) {
        String s = expression;
        s = s.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`", "\"\"");
        s = s.replaceAll("label_values\\(\\s*([A-Za-z_:][A-Za-z0-9_:]*)\\s*(\\{[^}]*})?\\s*,[^)]*\\)", " $1 ");
        s = s.replaceAll("label_values\\([^)]*\\)", " ");
        s = s.replaceAll("\\{[^}]*}", " ");
        s = s.replaceAll("\\[[^\\]]*\\]", " ");
        s = s.replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " $1 ");
        s = s.replaceAll("\\$\\{[^}]*}|\\$[A-Za-z_][A-Za-z0-9_]*", " ");
        Set<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*+)(?!\\s*\\()")
                .matcher(s);
        while (m.find()) {
            String name = m.group(1);
            if (!PROMQL_KEYWORDS.contains(name.toLowerCase(java.util.Locale.ROOT))) {
                names.add(name);
            }
        }
        return names;
    }

    /** The exact series names each metric is exported as. */
    static Set<String> knownSeries() {
        Set<String> series = new TreeSet<>();
        for (Metric metric : METRICS) {
            String n = metric.name();
            switch (metric.type()) {
                case HISTOGRAM -> series.addAll(List.of(n + "_bucket", n + "_count", n + "_sum", n + "_max"));
                case TIMER -> series.addAll(List.of(n + "_count", n + "_sum", n + "_max"));
                case COUNTER -> {
                    assertThat(n).as("Prometheus counter name").endsWith("_total");
                    series.add(n);
                }
                case GAUGE -> series.add(n);
            }
        }
        return series;
    }

    @Test
    void metricNameExtractionHandlesPromQl() {
        assertThat(
                        metricNames(
                                "histogram_quantile(0.99, sum by (service, le) "
                                        + "(rate(cds_hook_duration_seconds_bucket{service=~\"$service\", status!~\"2..\"}[$__rate_interval])))"))
                .containsExactly("cds_hook_duration_seconds_bucket");
        assertThat(metricNames(
                        "sum by (rule, version) (increase(cds_feedback_total{outcome=\"overridden\"}[$__range])) "
                                + "/ on (rule) group_left sum without (le) (rate(cds_cards_total[5m])) > bool 0.5"))
                .containsExactlyInAnyOrder("cds_feedback_total", "cds_cards_total");
        assertThat(metricNames("label_values(cds_hook_duration_seconds_count{job=\"x\"}, service)"))
                .containsExactly("cds_hook_duration_seconds_count");
        assertThat(metricNames("max by (instance) (process_cpu_usage) * 1e2")).containsExactly("process_cpu_usage");
        // suffixes are exact: a counter without _total, or a bucket of a non-histogram, is unknown
        assertThat(knownSeries())
                .contains("cds_cards_total", "cds_hook_duration_seconds_bucket", "http_server_requests_seconds_count")
                .doesNotContain(
                        "cds_cards",
                        "cds_cards_total_total",
                        "http_server_requests_seconds_bucket",
                        "cds_hook_duration_seconds",
                        "jvm_memory_used_bytes_total");
    }

    @Test
    void customMetricsExistInTheSource() throws IOException {
        String sources;
        try (Stream<Path> files = Files.walk(root.resolve("src/main/java"))) {
            sources = files.filter(f -> f.toString().endsWith(".java"))
                    .map(f -> {
                        try {
                            return Files.readString(f);
                        } catch (IOException e) {
                            throw new IllegalStateException(e);
                        }
                    })
                    .collect(Collectors.joining("\n"));
        }
        for (Metric metric : METRICS) {
            if (metric.micrometerName() != null) {
                assertThat(sources)
                        .as("meter " + metric.micrometerName() + " registered in src/main/java")
                        .contains("\"" + metric.micrometerName() + "\"");
            }
        }
    }

    @Test
    void grafanaDashboardUsesOnlyExportedMetrics() throws IOException {
        JsonNode dashboard =
                TREES.readTree(docker.resolve("grafana/crlm-cds-dashboard.json").toFile());
        assertThat(dashboard.path("schemaVersion").asInt()).isBetween(36, 41);
        assertThat(dashboard.path("title").asText()).isNotBlank();
        assertThat(dashboard.path("uid").asText()).isNotBlank();
        JsonNode input = null;
        for (JsonNode i : dashboard.path("__inputs")) {
            if ("DS_PROMETHEUS".equals(i.path("name").asText())) {
                input = i;
            }
        }
        assertThat(input).as("__inputs DS_PROMETHEUS").isNotNull();
        assertThat(input.path("type").asText()).isEqualTo("datasource");
        assertThat(input.path("pluginId").asText()).isEqualTo("prometheus");

        List<JsonNode> panels = new ArrayList<>();
        dashboard.path("panels").forEach(p -> {
            panels.add(p);
            p.path("panels").forEach(panels::add); // collapsed rows
        });
        Set<Integer> ids = new LinkedHashSet<>();
        Map<String, Set<String>> used = new LinkedHashMap<>();
        for (JsonNode panel : panels) {
            String title = panel.path("title").asText();
            assertThat(ids.add(panel.path("id").asInt()))
                    .as("unique panel id " + panel.path("id"))
                    .isTrue();
            JsonNode grid = panel.path("gridPos");
            assertThat(grid.path("x").asInt() + grid.path("w").asInt())
                    .as(title + " fits 24 columns")
                    .isLessThanOrEqualTo(24);
            assertThat(grid.path("h").asInt()).as(title + " height").isPositive();
            if ("row".equals(panel.path("type").asText())) {
                continue;
            }
            assertThat(panel.path("datasource").path("uid").asText())
                    .as(title + " datasource")
                    .isEqualTo("${DS_PROMETHEUS}");
            assertThat(panel.path("targets").size()).as(title + " targets").isPositive();
            for (JsonNode target : panel.path("targets")) {
                assertThat(target.path("datasource").path("uid").asText())
                        .as(title + " target datasource")
                        .isEqualTo("${DS_PROMETHEUS}");
                String expr = target.path("expr").asText();
                assertThat(expr).as(title + " expr").isNotBlank();
                assertBalanced(expr, title);
                used.put(title + " / " + target.path("refId").asText(), metricNames(expr));
            }
        }
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            if ("query".equals(variable.path("type").asText())) {
                assertThat(variable.path("datasource").path("uid").asText()).isEqualTo("${DS_PROMETHEUS}");
                String query = variable.path("query").isObject()
                        ? variable.path("query").path("query").asText()
                        : variable.path("query").asText();
                used.put("variable " + variable.path("name").asText(), metricNames(query));
            }
        }
        Set<String> known = knownSeries();
        Map<String, Set<String>> unknown = new LinkedHashMap<>();
        used.forEach((where, names) -> {
            assertThat(names).as(where + " selects a metric").isNotEmpty();
            Set<String> bad =
                    names.stream().filter(n -> !known.contains(n)).collect(Collectors.toCollection(TreeSet::new));
            if (!bad.isEmpty()) {
                unknown.put(where, bad);
            }
        });
        assertThat(unknown).as("metric names the app does not export").isEmpty();
        Set<String> all = used.values().stream().flatMap(Set::stream).collect(Collectors.toSet());
        assertThat(all).as("the dashboard covers").containsAll(DASHBOARD_MUST_USE);
    }

    static void assertBalanced(String expr, String title) {
        int depth = 0;
        for (char c : expr.toCharArray()) {
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
            if (depth < 0) {
                fail(title + ": unbalanced parentheses in " + expr);
            }
        }
        assertThat(depth).as(title + ": balanced parentheses in " + expr).isZero();
    }
}
