package org.crlm.cds.fhirserver;

import java.nio.file.Path;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Makes {@code crlm.data-dir} absolute before the datasource URL is built from it: H2 refuses
 * a file path like {@code data/crlm} that is implicitly relative to the working directory, so
 * {@code --crlm.data-dir=target/run1} would otherwise fail at start-up with an H2 error.
 */
public class DataDirectoryResolver implements EnvironmentPostProcessor {

    static final String KEY = "crlm.data-dir";

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        String dir = environment.getProperty(KEY);
        if (dir == null || dir.isBlank() || dir.contains("${")) {
            return;
        }
        String absolute = Path.of(dir).toAbsolutePath().normalize().toString();
        if (!absolute.equals(dir)) {
            environment
                    .getPropertySources()
                    .addFirst(new MapPropertySource("crlm-data-dir-absolute", Map.of(KEY, absolute)));
        }
    }
}
