package org.crlm.cds.rules;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.cqframework.cql.elm.visiting.BaseElmLibraryVisitor;
import org.hl7.elm.r1.Element;
import org.hl7.elm.r1.Expression;
import org.hl7.elm.r1.ExpressionDef;
import org.hl7.elm.r1.ExpressionRef;
import org.hl7.elm.r1.IncludeDef;
import org.hl7.elm.r1.Library;
import org.hl7.elm.r1.Literal;
import org.hl7.elm.r1.Matches;
import org.hl7.elm.r1.ParameterDef;
import org.hl7.elm.r1.ParameterRef;
import org.hl7.elm.r1.ReplaceMatches;
import org.hl7.elm.r1.SplitOnMatches;

/**
 * The regular expressions of a library's Matches, ReplaceMatches and SplitOnMatches, checked
 * before it is published: each must be known then (a string literal, or a parameter default or
 * definition that is one), valid, not too long, and free of the shapes that backtrack
 * exponentially on a long enough text (a repeated group that itself repeats or has alternatives,
 * as in {@code (a+)+$} or {@code (a|aa)*}). The engine matches with java.util.regex on the
 * record's text and cannot be stopped mid-match; what a check cannot foresee (polynomial
 * backtracking) is left to the evaluation deadline.
 */
final class RegexLimits {

    private RegexLimits() {}

    /**
     * @param library   the library to check
     * @param libraries every compiled library by name, to follow references into included ones
     */
    static List<CqlMessage> check(Library library, Map<String, Library> libraries, int maxLength) {
        List<CqlMessage> problems = new ArrayList<>();
        new Visitor(library, libraries, maxLength).visitLibrary(library, problems);
        return problems;
    }

    /** Why a pattern would backtrack catastrophically, or empty when it cannot. */
    static Optional<String> catastrophic(String pattern) {
        Deque<Group> open = new ArrayDeque<>();
        open.push(new Group());
        int i = 0;
        while (i < pattern.length()) {
            char c = pattern.charAt(i);
            if (c == '\\') {
                if (i + 1 < pattern.length() && pattern.charAt(i + 1) == 'Q') {
                    int end = pattern.indexOf("\\E", i + 2);
                    i = end < 0 ? pattern.length() : end + 2;
                } else {
                    i += 2;
                }
                i = quantifier(pattern, i, open.peek(), null);
            } else if (c == '[') {
                i = quantifier(pattern, endOfClass(pattern, i), open.peek(), null);
            } else if (c == '(') {
                open.push(new Group());
                i++;
            } else if (c == ')') {
                Group closed = open.size() > 1 ? open.pop() : new Group();
                Group parent = open.peek();
                int after = quantifier(pattern, i + 1, parent, closed);
                if (closed.repeatedGroup) {
                    return Optional.of("the repeated group ending at character " + (i + 1)
                            + " contains a repetition or alternatives, which backtracks exponentially");
                }
                parent.repeats |= closed.repeats;
                i = after;
            } else if (c == '|') {
                open.peek().alternatives = true;
                i++;
            } else {
                i = quantifier(pattern, i + 1, open.peek(), null);
            }
        }
        return Optional.empty();
    }

    private static final class Group {
        boolean repeats;
        boolean alternatives;
        boolean repeatedGroup;
    }

    /**
     * Reads a quantifier at {@code i}, if any, applying it to the atom just read (a group when
     * {@code group} is not null); returns the index after it.
     */
    private static int quantifier(String pattern, int i, Group enclosing, Group group) {
        if (i >= pattern.length()) {
            return i;
        }
        char q = pattern.charAt(i);
        boolean repeat;
        int next;
        if (q == '*' || q == '+') {
            repeat = true;
            next = i + 1;
        } else if (q == '?') {
            repeat = false;
            next = i + 1;
        } else if (q == '{' && pattern.indexOf('}', i) > i) {
            String bounds = pattern.substring(i + 1, pattern.indexOf('}', i));
            repeat = !bounds.matches("[01]?(,[01])?|0*1");
            next = pattern.indexOf('}', i) + 1;
        } else {
            return i;
        }
        if (next < pattern.length() && (pattern.charAt(next) == '?' || pattern.charAt(next) == '+')) {
            next++; // lazy or possessive
        }
        if (repeat) {
            enclosing.repeats = true;
            if (group != null && (group.repeats || group.alternatives)) {
                group.repeatedGroup = true;
            }
        }
        return next;
    }

    private static int endOfClass(String pattern, int start) {
        int i = start + 1;
        if (i < pattern.length() && pattern.charAt(i) == '^') {
            i++;
        }
        if (i < pattern.length() && pattern.charAt(i) == ']') {
            i++;
        }
        int depth = 1;
        while (i < pattern.length() && depth > 0) {
            char c = pattern.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '[') {
                depth++;
            } else if (c == ']') {
                depth--;
            }
            i++;
        }
        return i;
    }

    private static final class Visitor extends BaseElmLibraryVisitor<Void, List<CqlMessage>> {
        private final Library library;
        private final Map<String, Library> libraries;
        private final int maxLength;

        Visitor(Library library, Map<String, Library> libraries, int maxLength) {
            this.library = library;
            this.libraries = libraries;
            this.maxLength = maxLength;
        }

        @Override
        protected Void defaultResult(Element element, List<CqlMessage> problems) {
            return null;
        }

        @Override
        public Void visitMatches(Matches matches, List<CqlMessage> problems) {
            pattern(matches, matches.getOperand().get(1), "Matches", problems);
            return super.visitMatches(matches, problems);
        }

        @Override
        public Void visitReplaceMatches(ReplaceMatches replace, List<CqlMessage> problems) {
            pattern(replace, replace.getOperand().get(1), "ReplaceMatches", problems);
            return super.visitReplaceMatches(replace, problems);
        }

        @Override
        public Void visitSplitOnMatches(SplitOnMatches split, List<CqlMessage> problems) {
            pattern(split, split.getSeparatorPattern(), "SplitOnMatches", problems);
            return super.visitSplitOnMatches(split, problems);
        }

        private void pattern(Element call, Expression operand, String function, List<CqlMessage> problems) {
            Optional<String> text = literal(operand, library, 0);
            String why;
            if (text.isEmpty()) {
                why = "its regular expression is not known before evaluation; use a string literal, or a parameter"
                        + " default or definition that is one, so it can be checked";
            } else if (text.get().length() > maxLength) {
                why = "its regular expression is " + text.get().length() + " characters long, more than " + maxLength
                        + " (crlm.rules.budget.max-regex-length)";
            } else {
                why = invalid(text.get()).or(() -> catastrophic(text.get())).orElse(null);
            }
            if (why != null) {
                int[] where = where(call);
                problems.add(new CqlMessage(
                        CqlMessage.Severity.ERROR,
                        library.getIdentifier().getId(),
                        where == null ? null : where[0],
                        where == null ? null : where[1],
                        function + ": " + why));
            }
        }

        /** The pattern's text when it is fixed before evaluation: a literal, or a reference to one. */
        private Optional<String> literal(Expression e, Library in, int hops) {
            if (e == null || hops > 8) {
                return Optional.empty();
            }
            if (e instanceof Literal lit) {
                return Optional.ofNullable(lit.getValue());
            }
            if (e instanceof ParameterRef ref) {
                Library target = target(in, ref.getLibraryName());
                if (target != null && target.getParameters() != null) {
                    for (ParameterDef def : target.getParameters().getDef()) {
                        if (def.getName().equals(ref.getName())) {
                            return literal(def.getDefault(), target, hops + 1);
                        }
                    }
                }
            }
            if (e instanceof ExpressionRef ref && !(e instanceof org.hl7.elm.r1.FunctionRef)) {
                Library target = target(in, ref.getLibraryName());
                if (target != null && target.getStatements() != null) {
                    for (ExpressionDef def : target.getStatements().getDef()) {
                        if (def.getName().equals(ref.getName())) {
                            return literal(def.getExpression(), target, hops + 1);
                        }
                    }
                }
            }
            return Optional.empty();
        }

        private Library target(Library in, String alias) {
            if (alias == null) {
                return in;
            }
            if (in.getIncludes() != null) {
                for (IncludeDef include : in.getIncludes().getDef()) {
                    if (alias.equals(include.getLocalIdentifier())) {
                        return libraries.get(include.getPath());
                    }
                }
            }
            return null;
        }
    }

    private static Optional<String> invalid(String pattern) {
        try {
            Pattern.compile(pattern);
            return Optional.empty();
        } catch (PatternSyntaxException e) {
            return Optional.of(
                    "its regular expression is invalid: " + e.getDescription() + " at character " + (e.getIndex() + 1));
        }
    }

    /** Line and column of an ELM element's locator ("line:column-line:column"), or null. */
    private static int[] where(Element element) {
        String locator = element.getLocator();
        if (locator == null) {
            return null;
        }
        String[] start = locator.split("-")[0].split(":");
        try {
            return new int[] {Integer.parseInt(start[0].trim()), Integer.parseInt(start[1].trim())};
        } catch (RuntimeException e) {
            return null;
        }
    }
}
