package org.crlm.cds.rules;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import org.antlr.v4.kotlinruntime.CharStreams;
import org.antlr.v4.kotlinruntime.CommonTokenStream;
import org.antlr.v4.kotlinruntime.ParserRuleContext;
import org.antlr.v4.kotlinruntime.Token;
import org.antlr.v4.kotlinruntime.tree.ParseTree;
import org.antlr.v4.kotlinruntime.tree.TerminalNode;
import org.cqframework.cql.gen.cqlLexer;
import org.cqframework.cql.gen.cqlParser;

/**
 * The size and nesting bounds of {@link CqlBudget}, checked before the translator sees a
 * source: the translator recurses once per level of nesting, so a deep enough expression
 * overflows its stack after minutes of CPU. Each refusal names the line and column where the
 * bound is crossed.
 */
final class CqlSourceLimits {

    private CqlSourceLimits() {}

    /** The first bound the source crosses, if any. */
    static Optional<CqlMessage> check(CqlSource source, CqlBudget budget) {
        if (source.text().length() > budget.maxSourceCharacters()) {
            return Optional.of(error(
                    source,
                    1,
                    1,
                    "The library is " + source.text().length() + " characters long; at most "
                            + budget.maxSourceCharacters()
                            + " are accepted (crlm.rules.budget.max-source-characters)"));
        }
        cqlLexer lexer = new cqlLexer(CharStreams.INSTANCE.fromString(source.text()));
        lexer.removeErrorListeners();
        CommonTokenStream tokens = new CommonTokenStream(lexer);
        tokens.fill();
        Optional<CqlMessage> brackets = bracketDepth(source, tokens.getTokens(), budget.maxNestingDepth());
        if (brackets.isPresent()) {
            return brackets;
        }
        cqlParser parser = new cqlParser(tokens);
        parser.removeErrorListeners();
        // Syntax errors are the translator's to report; only the depth is measured here.
        return treeDepth(source, parser.library(), budget.maxExpressionDepth());
    }

    /** Brackets nest without any grammar rule in between: counted on the tokens, before parsing. */
    private static Optional<CqlMessage> bracketDepth(CqlSource source, List<Token> tokens, int max) {
        int depth = 0;
        for (Token token : tokens) {
            String text = token.getText();
            if (text == null || text.length() != 1) {
                continue;
            }
            switch (text.charAt(0)) {
                case '(', '[', '{' -> {
                    depth++;
                    if (depth > max) {
                        return Optional.of(error(
                                source,
                                token.getLine(),
                                token.getCharPositionInLine() + 1,
                                "Brackets are nested more than " + max
                                        + " deep here; split the expression into named definitions"
                                        + " (crlm.rules.budget.max-nesting-depth)"));
                    }
                }
                case ')', ']', '}' -> depth = Math.max(0, depth - 1);
                default -> {}
            }
        }
        return Optional.empty();
    }

    /** The parse tree's depth, walked without recursion; the deepest point past the bound is reported. */
    private static Optional<CqlMessage> treeDepth(CqlSource source, ParseTree root, int max) {
        Deepest deepest = deepest(root);
        if (deepest.depth() <= max) {
            return Optional.empty();
        }
        Token start = deepest.node() instanceof TerminalNode leaf
                ? leaf.getSymbol()
                : deepest.node() instanceof ParserRuleContext rule ? rule.getStart() : null;
        return Optional.of(error(
                source,
                start == null ? null : start.getLine(),
                start == null ? null : start.getCharPositionInLine() + 1,
                "The expression is nested " + deepest.depth() + " levels deep here, more than " + max
                        + " (long chains of operators, else-ifs or prefixes nest too);"
                        + " split it into named definitions (crlm.rules.budget.max-expression-depth)"));
    }

    /** The depth of a library's parse tree (how the bound was chosen: see the test). */
    static int depthOf(String text) {
        cqlLexer lexer = new cqlLexer(CharStreams.INSTANCE.fromString(text));
        lexer.removeErrorListeners();
        cqlParser parser = new cqlParser(new CommonTokenStream(lexer));
        parser.removeErrorListeners();
        return deepest(parser.library()).depth();
    }

    private record Deepest(ParseTree node, int depth) {}

    private static Deepest deepest(ParseTree root) {
        Deque<Deepest> pending = new ArrayDeque<>();
        pending.push(new Deepest(root, 1));
        Deepest deepest = pending.peek();
        while (!pending.isEmpty()) {
            Deepest at = pending.pop();
            if (at.depth() > deepest.depth()) {
                deepest = at;
            }
            for (int i = 0; i < at.node().getChildCount(); i++) {
                pending.push(new Deepest(at.node().getChild(i), at.depth() + 1));
            }
        }
        return deepest;
    }

    private static CqlMessage error(CqlSource source, Integer line, Integer column, String message) {
        return new CqlMessage(CqlMessage.Severity.ERROR, source.name(), line, column, message);
    }
}
