package io.keymeter.platform.config;

import java.util.List;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

class OnRoleCondition implements Condition {

    @Override
    public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
        Role role = (Role) metadata.getAnnotationAttributes(ConditionalOnRole.class.getName()).get("value");
        List<String> names = Binder.get(context.getEnvironment())
                .bind("keymeter.roles", Bindable.listOf(String.class)).orElse(List.of("all"));
        try {
            return Role.parse(names).contains(role);
        } catch (IllegalArgumentException e) {
            return false; // KeymeterProperties validation reports the bad value
        }
    }
}
