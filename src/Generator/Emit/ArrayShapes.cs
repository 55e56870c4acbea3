using System;
using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Analysis;
using DiffGen.Generator.Ir;
using static DiffGen.Generator.Emit.Cs;

namespace DiffGen.Generator.Emit
{
    /// <summary>
    /// Arrays of any shape in generated code: flat (spans, <c>T[]</c>), rectangular (<c>T[,]</c>, whose
    /// elements are contiguous and are handled as one span through <c>ArrayHelpers.AsSpan</c>) and jagged
    /// (<c>T[][]</c>, handled row by row). The transformers ask here instead of assuming <c>T[]</c>.
    /// </summary>
    internal static class ArrayShapes
    {
        public static bool IsRectangular(Var v) => v.Storage == Storage.Array && v.Rank > 1 && !v.Jagged;

        private static CsType Elem(Var v) => CsType.ElementOf(v);

        /// <summary>An empty array of v's type, the initial value of a hoisted declaration.</summary>
        public static CsExpr Empty(Var v)
        {
            if (v.IsList) return new CsNew(CsType.ListOf(Elem(v)), EquatableArray<CsArg>.Empty);
            if (IsRectangular(v)) return new CsNewArray(Elem(v), new CsIndices(Enumerable.Repeat((CsExpr)CsLiteral.Int(0), v.Rank).ToEquatableArray(), false));
            var element = v.Jagged ? CsType.ArrayOf(Elem(v)) : Elem(v);
            return Call(new CsMember(N("global::System.Array"), "Empty", element));
        }

        /// <summary>A new array of zeros with the shape of <paramref name="array"/> (a value of v's shape).</summary>
        public static CsExpr ZerosLike(Var v, CsExpr array)
        {
            if (v.Jagged || v.IsList) return Call(new CsMember(N(Names.ArrayHelpers), "ZerosLike", Elem(v)), array);
            if (IsRectangular(v))
                return new CsNewArray(Elem(v), new CsIndices(Enumerable.Range(0, v.Rank)
                    .Select(d => (CsExpr)new CsInvoke(new CsMember(array, "GetLength"), new[] { new CsArg(CsLiteral.Int(d)) })).ToEquatableArray(), false));
            return new CsNewArray(Elem(v), new CsMember(array, "Length"));
        }

        /// <summary>The elements of a flat or rectangular array as one span (not for jagged arrays).</summary>
        public static CsExpr Contents(Var v, CsExpr array) =>
            IsRectangular(v) ? Call(new CsMember(N(Names.ArrayHelpers), "AsSpan", Elem(v)), array)
            : v.IsList ? Call(new CsMember(N("global::System.Runtime.InteropServices.CollectionsMarshal"), "AsSpan", Elem(v)), array) : array;

        /// <summary>The element count of a flat array, span or list of v's kind (<c>Length</c>; a list's <c>Count</c>).</summary>
        public static CsExpr Length(Var v, CsExpr array) => new CsMember(array, v.IsList ? "Count" : "Length");

        /// <summary>A copy of an array of v's shape, of the same type (for an argument a callee's pullback may overwrite).</summary>
        public static CsExpr Copy(Var v, CsExpr array)
        {
            if (v.Jagged || v.IsList) return Call(new CsMember(N(Names.ArrayHelpers), "Copy", Elem(v)), array);
            if (IsRectangular(v)) return new CsCast(CsType.OfVar(v), Call(new CsMember(array, "Clone")));
            return Call(Member(new CsCast(CsType.ReadOnlySpanOf(Elem(v)), array), "ToArray"));
        }

        /// <summary>Pushes an array's elements on a value stack (row by row for a jagged array).</summary>
        public static CsStmt Push(Var v, CsExpr stack, CsExpr array) =>
            v.Jagged ? Do(Call(Member(N(Names.ArrayHelpers), "PushRows"), stack, array))
                : Do(Call(Member(stack, "PushSpan"), Contents(v, array)));

        /// <summary>Pops what <see cref="Push"/> pushed back into the array.</summary>
        public static CsStmt Pop(Var v, CsExpr stack, CsExpr array) =>
            v.Jagged ? Do(Call(Member(N(Names.ArrayHelpers), "PopRows"), stack, array))
                : Do(Call(Member(stack, "PopSpan"), Contents(v, array)));

        /// <summary>Whether s writes the contents of span or array var (an element assignment, or a callee that writes it).</summary>
        public static bool Writes(Stmt s, int var, IReadOnlyList<Callee> callees) => Walk.Descendants(s).Any(x =>
            x is Assign a && Analyzer.TargetVar(a.Target) == var
            || x is Call c && c.Args.Select((arg, k) => (arg, k)).Any(p => p.arg is VarRef v && v.Var == var && callees[c.Callee].Params[p.k].Writes && callees[c.Callee].Params[p.k].Storage != Storage.Scalar));

        /// <summary>
        /// The run-time aliasing checks at the top of a public pullback or pushforward: every pair of float/double
        /// span or array parameters of which the method writes one must not overlap, and a written jagged array
        /// must not hold the same row twice. Each failure is an ArgumentException naming both.
        /// </summary>
        public static List<CsStmt> OverlapChecks(IReadOnlyList<Var> parameters, Func<Var, bool> writes, string method)
        {
            var checks = new List<CsStmt>();
            var arrays = parameters.Where(v => !v.IsScalar && !v.IsContainer && v.IsReal && !v.NoDiff).ToList();
            var written = arrays.Where(writes).ToList();
            foreach (var v in written.Where(v => v.Jagged))
                checks.Add(Do(Call(Member(N(Names.ArrayHelpers), "RequireDistinctRows"), N(v.Name), new CsVerbatim("nameof(" + v.Name + ")"))));
            for (int i = 0; i < arrays.Count; i++)
            {
                for (int j = i + 1; j < arrays.Count; j++)
                {
                    Var a = arrays[i], b = arrays[j];
                    if (a.Elem != b.Elem || a.Aggregate != b.Aggregate || a.Aggregate && a.TypeName != b.TypeName || !written.Contains(a) && !written.Contains(b)) continue;
                    // A jagged array goes first: its overloads take (rows, rows) and (rows, span).
                    if (b.Jagged && !a.Jagged) (a, b) = (b, a);
                    var w = written.Contains(b) ? b : a;
                    checks.Add(Do(Call(new CsMember(N(Names.ArrayHelpers), "RequireDisjoint", Elem(a)),
                        a.Jagged ? N(a.Name) : Contents(a, N(a.Name)), b.Jagged ? N(b.Name) : Contents(b, N(b.Name)),
                        new CsVerbatim("nameof(" + a.Name + ")"), new CsVerbatim("nameof(" + b.Name + ")"), new CsVerbatim("nameof(" + w.Name + ")"),
                        new CsLiteral("\"" + method + "\"", Ty.Other))));
                }
            }
            return checks;
        }

        /// <summary>The check that an adjoint or tangent argument has the shape of its array, at the top of a generated method.</summary>
        public static CsStmt RequireSameShape(Var v, string other) =>
            Do(Call(Member(N(Names.ArrayHelpers), "RequireSameShape"), N(v.Name), N(other), new CsVerbatim("nameof(" + v.Name + ")"), new CsVerbatim("nameof(" + other + ")")));
    }
}
