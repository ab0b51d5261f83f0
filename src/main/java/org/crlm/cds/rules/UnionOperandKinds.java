package org.crlm.cds.rules;

import java.util.ArrayList;
import java.util.List;
import javax.xml.namespace.QName;
import org.cqframework.cql.cql2elm.tracking.Trackable;
import org.cqframework.cql.elm.visiting.BaseElmLibraryVisitor;
import org.hl7.cql.model.DataType;
import org.hl7.cql.model.IntervalType;
import org.hl7.cql.model.ListType;
import org.hl7.elm.r1.Element;
import org.hl7.elm.r1.IntervalTypeSpecifier;
import org.hl7.elm.r1.Library;
import org.hl7.elm.r1.ListTypeSpecifier;
import org.hl7.elm.r1.NamedTypeSpecifier;
import org.hl7.elm.r1.TypeSpecifier;
import org.hl7.elm.r1.Union;

/**
 * What the CQL engine reads of the translator's in-memory types, carried through stored ELM.
 * ELM JSON does not hold the translator's types (only with the EnableResultTypes option, which
 * would change the ELM in service), and the engine (4.4) reads them in one place: a Union
 * whose operands are null is a list or an interval union by its operands' types. So the stored
 * ELM marks each Union and its operands as list or interval, and reading it back turns the
 * marks into those types again and removes them, leaving the ELM as the translator made it.
 * {@code TranslatedElmRestartTest} runs every scenario on ELM read back.
 */
final class UnionOperandKinds {

    private static final QName ANY = new QName("urn:hl7-org:elm-types:r1", "Any");

    private UnionOperandKinds() {}

    /** Marks the kinds on the library for writing; returns the elements marked, for {@link #unmark}. */
    static List<Element> mark(Library library) {
        List<Element> marked = new ArrayList<>();
        for (Union union : unions(library)) {
            for (Element e : withOperands(union)) {
                TypeSpecifier kind = specifier(Trackable.INSTANCE.getResultType(e));
                if (kind != null && e.getResultTypeSpecifier() == null) {
                    e.setResultTypeSpecifier(kind);
                    marked.add(e);
                }
            }
        }
        return marked;
    }

    static void unmark(List<Element> marked) {
        marked.forEach(e -> e.setResultTypeSpecifier(null));
    }

    /** On ELM read back: the marks become the types the engine reads, and are removed. */
    static void restore(Library library) {
        for (Union union : unions(library)) {
            for (Element e : withOperands(union)) {
                DataType type = type(e.getResultTypeSpecifier());
                if (type != null) {
                    Trackable.INSTANCE.setResultType(e, type);
                    e.setResultTypeSpecifier(null);
                }
            }
        }
    }

    private static List<Element> withOperands(Union union) {
        List<Element> all = new ArrayList<>();
        all.add(union);
        all.addAll(union.getOperand());
        return all;
    }

    private static TypeSpecifier specifier(DataType type) {
        NamedTypeSpecifier any = new NamedTypeSpecifier();
        any.setName(ANY);
        if (type instanceof ListType) {
            ListTypeSpecifier list = new ListTypeSpecifier();
            list.setElementType(any);
            return list;
        }
        if (type instanceof IntervalType) {
            IntervalTypeSpecifier interval = new IntervalTypeSpecifier();
            interval.setPointType(any);
            return interval;
        }
        return null;
    }

    private static DataType type(TypeSpecifier specifier) {
        if (specifier instanceof ListTypeSpecifier) {
            return new ListType(DataType.Companion.getANY());
        }
        if (specifier instanceof IntervalTypeSpecifier) {
            return new IntervalType(DataType.Companion.getANY());
        }
        return null;
    }

    private static List<Union> unions(Library library) {
        List<Union> found = new ArrayList<>();
        new BaseElmLibraryVisitor<Void, List<Union>>() {
            @Override
            protected Void defaultResult(Element elm, List<Union> context) {
                return null;
            }

            @Override
            public Void visitUnion(Union elm, List<Union> context) {
                context.add(elm);
                return super.visitUnion(elm, context);
            }
        }.visitLibrary(library, found);
        return found;
    }
}
