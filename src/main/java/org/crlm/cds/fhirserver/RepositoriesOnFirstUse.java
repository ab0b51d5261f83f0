package org.crlm.cds.fhirserver;

import java.util.HashSet;
import java.util.Set;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.config.ConstructorArgumentValues.ValueHolder;
import org.springframework.beans.factory.config.DependencyDescriptor;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.context.annotation.ContextAnnotationAutowireCandidateResolver;
import org.springframework.data.jpa.repository.support.JpaRepositoryFactoryBean;

/**
 * Creates each Spring Data JPA repository (HAPI declares 56) when it is first used instead of at
 * start-up: creating one parses and checks every query it declares, which was a seventh of the
 * start (BENCHMARKS.md, "Start-up"). What Spring Data's {@code bootstrapMode = LAZY} does, applied
 * to HAPI's {@code @EnableJpaRepositories}, which leaves the mode at its default: the repository
 * beans are lazy, and every injection point of a repository type gets a proxy that resolves the
 * repository on its first call. The repositories a hook call uses are created before readiness
 * by the knowledge load and the warm-up.
 */
final class RepositoriesOnFirstUse implements BeanFactoryPostProcessor {

    @Override
    public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {
        if (!(beanFactory instanceof DefaultListableBeanFactory factory)
                || !(factory.getAutowireCandidateResolver() instanceof ContextAnnotationAutowireCandidateResolver)) {
            return;
        }
        Set<String> repositoryTypes = new HashSet<>();
        for (String name : factory.getBeanDefinitionNames()) {
            BeanDefinition definition = factory.getBeanDefinition(name);
            if (!JpaRepositoryFactoryBean.class.getName().equals(definition.getBeanClassName())) {
                continue;
            }
            ValueHolder repositoryInterface =
                    definition.getConstructorArgumentValues().getIndexedArgumentValue(0, null);
            if (repositoryInterface != null && repositoryInterface.getValue() != null) {
                Object value = repositoryInterface.getValue();
                repositoryTypes.add(value instanceof Class<?> type ? type.getName() : value.toString());
                definition.setLazyInit(true);
            }
        }
        if (!repositoryTypes.isEmpty()) {
            factory.setAutowireCandidateResolver(new LazyRepositoryInjection(repositoryTypes));
        }
    }

    private static final class LazyRepositoryInjection extends ContextAnnotationAutowireCandidateResolver {

        private final Set<String> repositoryTypes;

        LazyRepositoryInjection(Set<String> repositoryTypes) {
            this.repositoryTypes = Set.copyOf(repositoryTypes);
        }

        @Override
        protected boolean isLazy(DependencyDescriptor descriptor) {
            return super.isLazy(descriptor)
                    || repositoryTypes.contains(descriptor.getDependencyType().getName());
        }
    }
}
