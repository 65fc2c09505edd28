package io.kindling.tokenizer;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;
import java.time.ZonedDateTime;
import java.util.Map;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.TreeStore;
import jinjava.de.odysseus.el.tree.impl.Cache;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ExpressionFactory;

/**
 * A Hugging Face chat template rendered by Jinjava as transformers renders it with Jinja2
 * ({@code ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)} plus {@code raise_exception},
 * {@code strftime_now} and a json.dumps {@code tojson}). Where Jinjava 2.8.2 differs from Jinja2 it is bridged:
 * Python string methods ({@link PyStringMethods}), stepped slices and keyword-argument expressions
 * ({@link PyExpressionParser}), {@code tojson} and {@code trim} filters with Python semantics, and the template
 * source normalised as Jinja2's lexer does (see {@link #jinja2Source}).
 */
final class ChatTemplate {

    private static final Jinjava JINJAVA = createEnvironment();

    private final String source;

    ChatTemplate(String template) {
        this.source = jinja2Source(template);
    }

    /** Renders with the given variables; a template error or {@code raise_exception} becomes a TokenizerException. */
    String render(Map<String, Object> variables) {
        RenderResult result = JINJAVA.renderForResult(source, variables);
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                for (Throwable t = error.getException(); t != null; t = t.getCause()) {
                    if (t instanceof TemplateRaised raised) {
                        throw new TokenizerException(raised.getMessage());
                    }
                }
                throw new TokenizerException("chat template failed at line " + error.getLineno() + ": "
                        + error.getMessage());
            }
        }
        return result.getOutput();
    }

    /**
     * Jinja2's lexer turns every line break into {@code \n} and, without keep_trailing_newline, drops one
     * trailing newline; Jinjava 2.8.2 has neither (a later release adds the option), so the source is adjusted
     * here. This is a text-level pass because it concerns the template's bytes, not its syntax.
     */
    static String jinja2Source(String template) {
        String s = template.replace("\r\n", "\n").replace('\r', '\n');
        return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
    }

    /** raise_exception(message) in a template. */
    public static String raiseException(Object message) {
        throw new TemplateRaised(String.valueOf(message));
    }

    /** strftime_now(format): the local time, as Python's {@code datetime.now().strftime(format)}. */
    public static String strftimeNow(String format) {
        return StrftimeFormatter.format(ZonedDateTime.now(), format);
    }

    private static final class TemplateRaised extends RuntimeException {
        private static final long serialVersionUID = 1L;

        TemplateRaised(String message) {
            super(message);
        }
    }

    private static Jinjava createEnvironment() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PyStringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withElResolver(resolver)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseNaturalOperatorPrecedence(true)
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withKeepNullableLoopValues(true)
                        .build())
                .build();
        ExpressionFactory expressions = new ExpressionFactoryImpl(
                new TreeStore(new PyExpressionParser.SyntaxBuilder(), new Cache(1000)), new TruthyTypeConverter());
        Jinjava jinjava = new Jinjava(config) {
            @Override
            public ExpressionFactory getExpressionFactory() {
                return expressions;
            }
        };
        var context = jinjava.getGlobalContext();
        context.registerFunction(new ELFunctionDefinition("", "raise_exception", ChatTemplate.class,
                "raiseException", Object.class));
        context.registerFunction(new ELFunctionDefinition("", "strftime_now", ChatTemplate.class,
                "strftimeNow", String.class));
        context.registerFilter(new ToJsonFilter());
        context.registerFilter(new TrimFilter());
        return jinjava;
    }

    /** {@code tojson(indent=None, separators=None, sort_keys=False)} as transformers defines it. */
    private static final class ToJsonFilter implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, (Object[]) args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = args.length > 0 ? args[0] : kwargs.get("indent");
            Object separators = kwargs.get("separators");
            String item = null;
            String key = null;
            if (separators instanceof java.util.List<?> pair && pair.size() == 2) {
                item = String.valueOf(pair.get(0));
                key = String.valueOf(pair.get(1));
            }
            Object sortKeys = kwargs.get("sort_keys");
            return new PyJson(indent instanceof Number n ? n.intValue() : null, item, key,
                    Boolean.TRUE.equals(sortKeys)).dumps(var);
        }
    }

    /** {@code trim(chars=None)}: Python's {@code str.strip}, which also strips Unicode spaces Java's trim keeps. */
    private static final class TrimFilter implements Filter {
        @Override
        public String getName() {
            return "trim";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            String chars = args.length > 0 ? args[0] : null;
            return var == null ? "" : PyStrings.strip(var.toString(), chars, true, true);
        }
    }
}
