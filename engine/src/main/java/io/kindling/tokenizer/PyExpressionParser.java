package io.kindling.tokenizer;

import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.ext.AstNamedParameter;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import java.util.ArrayList;
import java.util.List;
import jinjava.de.odysseus.el.tree.impl.Builder;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.Scanner.ScanException;
import jinjava.de.odysseus.el.tree.impl.Scanner.Symbol;
import jinjava.de.odysseus.el.tree.impl.ast.AstBracket;
import jinjava.de.odysseus.el.tree.impl.ast.AstDot;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstParameters;

/**
 * Jinjava's expression parser with two Jinja2 forms it lacks: slices with a step ({@code messages[::-1]}, parsed
 * into {@link AstPySlice}) and keyword arguments whose value is a whole expression
 * ({@code namespace(last=messages|length - 1)}: Jinjava binds {@code =} tighter than {@code -}). Requires
 * Jinjava's natural operator precedence, under which filters and tests are parsed above this level.
 */
final class PyExpressionParser extends ExtendedParser {

    PyExpressionParser(Builder context, String input) {
        super(context, input);
    }

    /** The tree builder handing out this parser; features as Jinjava's default (JEE6) profile. */
    static final class SyntaxBuilder extends ExtendedSyntaxBuilder {
        private static final long serialVersionUID = 1L;

        SyntaxBuilder() {
            super(Feature.METHOD_INVOCATIONS, Feature.VARARGS);
        }

        @Override
        protected Parser createParser(String expression) {
            return new PyExpressionParser(this, expression);
        }
    }

    @Override
    protected AstNode value() throws ScanException, ParseException {
        boolean lvalue = true;
        AstNode v = nonliteral();
        if (v == null) {
            v = literal();
            if (v == null) {
                return null;
            }
            lvalue = false;
        }
        while (true) {
            switch (getToken().getSymbol()) {
                case DOT -> {
                    consumeToken();
                    AstDot dot = createAstDot(v, consumeToken(Symbol.IDENTIFIER).getImage(), lvalue);
                    v = getToken().getSymbol() == Symbol.LPAREN ? createAstMethod(dot, params()) : dot;
                }
                case LBRACK -> v = subscript(v, lvalue);
                default -> {
                    return v;
                }
            }
        }
    }

    /** {@code [key]}, or a slice {@code [start:stop]} / {@code [start:stop:step]} with every part optional. */
    private AstNode subscript(AstNode base, boolean lvalue) throws ScanException, ParseException {
        consumeToken(Symbol.LBRACK);
        AstNode start = expr(false);
        if (getToken().getSymbol() == Symbol.RBRACK) {
            consumeToken();
            AstBracket bracket = createAstBracket(base, start, lvalue, true);
            return getToken().getSymbol() == Symbol.LPAREN ? createAstMethod(bracket, params()) : bracket;
        }
        consumeToken(Symbol.COLON);
        AstNode stop = expr(false);
        AstNode step = null;
        if (getToken().getSymbol() == Symbol.COLON) {
            consumeToken();
            step = expr(false);
        }
        consumeToken(Symbol.RBRACK);
        return new AstPySlice(base, start, stop, step);
    }

    @Override
    protected AstParameters params(Symbol left, Symbol right) throws ScanException, ParseException {
        consumeToken(left);
        List<AstNode> nodes = new ArrayList<>();
        if (getToken().getSymbol() != right) {
            nodes.add(parameter());
            while (getToken().getSymbol() == Symbol.COMMA) {
                consumeToken();
                nodes.add(parameter());
            }
        }
        consumeToken(right);
        return createAstParameters(nodes);
    }

    private AstNode parameter() throws ScanException, ParseException {
        if (getToken().getSymbol() == Symbol.IDENTIFIER && lookahead(0).getSymbol() == Symbol.EXTENSION
                && "=".equals(lookahead(0).getImage())) {
            String name = consumeToken().getImage();
            consumeToken();
            return new AstNamedParameter(identifier(name), expr(true));
        }
        return expr(true);
    }
}
