package io.kindling.tokenizer;

import java.beans.FeatureDescriptor;
import java.util.Collection;
import java.util.Iterator;
import java.util.Locale;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Resolves Python string methods ({@code s.startswith('x')}, {@code s.split('</think>')}, ...) on Java strings.
 * Jinjava would otherwise call Java's methods of the same object: most are missing, and {@code split} and
 * {@code strip} exist with other meanings (regex separator, ASCII-only whitespace).
 */
final class PyStringMethods extends ELResolver {

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof String) || method == null) {
            return null;
        }
        String s = (String) base;
        Object[] args = params == null ? new Object[0] : params;
        Object result;
        switch (method.toString()) {
            case "startswith" -> result = affixMatch(s, args, true);
            case "endswith" -> result = affixMatch(s, args, false);
            case "strip" -> result = PyStrings.strip(s, optString(args, 0), true, true);
            case "lstrip" -> result = PyStrings.strip(s, optString(args, 0), true, false);
            case "rstrip" -> result = PyStrings.strip(s, optString(args, 0), false, true);
            case "split" -> result = PyStrings.split(s, optString(args, 0), optInt(args, 1, -1));
            case "upper" -> result = s.toUpperCase(Locale.ROOT);
            case "lower" -> result = s.toLowerCase(Locale.ROOT);
            case "replace" -> result = PyStrings.replace(s, arg(args, 0), arg(args, 1), optInt(args, 2, -1));
            default -> {
                return null;
            }
        }
        context.setPropertyResolved(true);
        return result;
    }

    /** {@code startswith}/{@code endswith}: the argument may be one affix or a tuple/list of them. */
    private static boolean affixMatch(String s, Object[] args, boolean prefix) {
        Object affixes = args.length > 0 ? args[0] : null;
        Iterator<?> candidates = affixes instanceof Collection<?> c ? c.iterator()
                : java.util.List.of(String.valueOf(affixes)).iterator();
        while (candidates.hasNext()) {
            String affix = String.valueOf(candidates.next());
            if (prefix ? s.startsWith(affix) : s.endsWith(affix)) {
                return true;
            }
        }
        return false;
    }

    private static String arg(Object[] args, int i) {
        if (args.length <= i || args[i] == null) {
            throw new IllegalArgumentException("missing string argument " + (i + 1));
        }
        return args[i].toString();
    }

    private static String optString(Object[] args, int i) {
        return args.length > i && args[i] != null ? args[i].toString() : null;
    }

    private static int optInt(Object[] args, int i, int absent) {
        return args.length > i && args[i] instanceof Number n ? n.intValue() : absent;
    }

    // Property access is left to Jinjava's own resolvers.

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
