using System;
using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Analysis;
using DiffGen.Generator.Ir;

namespace DiffGen.Generator.Reverse
{
    /// <summary>One call of a composite device method: the callee's index and, per argument, the array variable passed (-1 for a scalar).</summary>
    internal sealed record DeviceCall(int Callee, EquatableArray<int> ArrayArgs);

    /// <summary>
    /// Which [DataParallel] methods get ILGPU forms, decided from each method's own IR so that callers know it
    /// from the capability table before anything is rendered (docs/generated-code.md, "ILGPU kernels"):
    /// a method in kernel form (<see cref="ReverseTransformer.BuildDevice"/> succeeds on it), or a composite whose
    /// body is scalar set-up, local arrays and calls of kernel-form methods (<see cref="Composite"/>), valid when
    /// <see cref="CompositeValid"/> holds with its callees' span use.
    /// </summary>
    internal static class DeviceShapes
    {
        public const int None = 0, Kernel = 1, Composite = 2;

        /// <summary>The nested class name of a method's ILGPU forms (<c>{Name}Device</c>, with the overload suffix the parallel forms use).</summary>
        public static string ClassName(MethodModel m) => m.Name + "Device" + ReverseTransformer.OverloadSuffixOf(m);

        /// <summary>Kernel, Composite (a candidate; the table checks its callees) or None.</summary>
        public static int FormOf(MethodModel m, out EquatableArray<DeviceCall> calls)
        {
            calls = EquatableArray<DeviceCall>.Empty;
            if (!m.DataParallel || !m.Ilgpu || m.HasErrors) return None;
            try
            {
                if (m.Callees.Count == 0)
                {
                    var analysis = MethodAnalysis.Of(m, Array.Empty<Callee>());
                    return ReverseTransformer.BuildDevice(m, Array.Empty<Callee>(), analysis, out _) != null ? Kernel : None;
                }
                var shape = CompositeCalls(m, out _);
                if (shape == null) return None;
                calls = shape.ToEquatableArray();
                return Composite;
            }
            catch (Exception ex) when (!(ex is OperationCanceledException))
            {
                return None;
            }
        }

        /// <summary>
        /// The calls of a composite body (null with the reason otherwise): scalar set-up that reads no array
        /// element and calls nothing, local 1D arrays of float/double, and statement calls whose array arguments
        /// are array variables (each at most once per call) and whose float/double arguments are a scalar
        /// parameter or carry no derivative (only integer variables, [NoDiff] parameters and literals).
        /// </summary>
        public static List<DeviceCall>? CompositeCalls(MethodModel m, out string? whyNot)
        {
            whyNot = null;
            var vars = m.Vars;
            var calls = new List<DeviceCall>();
            if (vars.Any(v => v.Elem == Ty.Other || v.IsContainer || v.Aggregate || v.IsMultiDim)) { whyNot = "it uses a value of an inactive type, a struct or a multi-dimensional array"; return null; }
            bool NoDerivative(Expr e) => Walk.Descendants(e).All(x =>
                x is Lit || x is VarRef r && (!vars[r.Var].IsReal || vars[r.Var].NoDiff && vars[r.Var].Role == VarRole.Param)
                || x is LenRef || x is Binary || x is Unary || x is Cast || x is Conditional || x is MathCall);
            bool HostScalar(Expr e) => !Walk.Descendants(e).Any(x => x is ElemRef || x is Opaque || x is ErrorExpr);
            foreach (var s in Flat(m.Body))
            {
                switch (s)
                {
                    case Assign a when a.Declares && a.Target is VarRef t && vars[t.Var].IsScalar && !vars[t.Var].IsContainer && HostScalar(a.Value):
                        continue;
                    case Alloc al when vars[al.Var].IsReal && !vars[al.Var].Aggregate && !vars[al.Var].IsMultiDim && HostScalar(al.Length):
                        continue;
                    case Call c when c.ResultVar < 0 && c.Receiver < 0 && c.Callee >= 0 && c.Callee < m.Callees.Count:
                        {
                            var callee = m.Callees[c.Callee];
                            if (callee.IsInstance || callee.Params.Count != c.Args.Count) { whyNot = "it calls an instance method"; return null; }
                            var arrays = new List<int>();
                            for (int k = 0; k < c.Args.Count; k++)
                            {
                                var p = callee.Params[k];
                                var arg = c.Args[k];
                                if (p.Storage == Storage.Scalar)
                                {
                                    if (p.Aggregate || p.TypeName != null && p.Elem == Ty.Other) { whyNot = "it passes a value of an inactive type to '" + callee.Name + "'"; return null; }
                                    if (!HostScalar(arg)) { whyNot = "a scalar argument of '" + callee.Name + "' reads an array element"; return null; }
                                    bool bareParam = arg is VarRef pr && vars[pr.Var].Role == VarRole.Param && vars[pr.Var].IsScalar;
                                    if (p.HasAdjoint && !bareParam && !NoDerivative(arg)) { whyNot = "a float/double argument of '" + callee.Name + "' is an expression of a differentiable value (pass a parameter)"; return null; }
                                    arrays.Add(-1);
                                    continue;
                                }
                                if (!(p.Storage == Storage.Span || p.Storage == Storage.ReadOnlySpan || p.Storage == Storage.Array) || p.Rank != 1 || p.Aggregate
                                    || !(arg is VarRef av) || vars[av.Var].IsScalar || vars[av.Var].IsMultiDim || arrays.Contains(av.Var))
                                {
                                    whyNot = "an array argument of '" + callee.Name + "' is not a distinct array variable";
                                    return null;
                                }
                                arrays.Add(av.Var);
                            }
                            calls.Add(new DeviceCall(c.Callee, arrays.ToEquatableArray()));
                            continue;
                        }
                    default:
                        whyNot = "its body is not scalar set-up, local arrays and calls";
                        return null;
                }
            }
            if (calls.Count == 0) { whyNot = "it calls nothing"; return null; }
            return calls;
        }

        /// <summary>
        /// Whether a composite's calls can be reversed by re-running each callee's device pullback after the whole
        /// forward: no callee reads and writes the same array (in place), and every array is written by one call
        /// at most, never read by an earlier call (so its final value is the one each reader saw).
        /// <paramref name="use"/> gives a callee's (Reads, Writes) of one parameter.
        /// </summary>
        public static bool CompositeValid(IReadOnlyList<DeviceCall> calls, Func<int, int, (bool Reads, bool Writes)> use, out string? whyNot)
        {
            whyNot = null;
            var written = new HashSet<int>();
            var read = new HashSet<int>();
            foreach (var c in calls)
            {
                for (int p = 0; p < c.ArrayArgs.Count; p++)
                {
                    int v = c.ArrayArgs[p];
                    if (v < 0) continue;
                    var (r, w) = use(c.Callee, p);
                    if (r && w) { whyNot = "a callee updates an array in place"; return false; }
                    if (w && (written.Contains(v) || read.Contains(v))) { whyNot = "an array is written after another call wrote or read it"; return false; }
                }
                for (int p = 0; p < c.ArrayArgs.Count; p++)
                {
                    int v = c.ArrayArgs[p];
                    if (v < 0) continue;
                    var (r, w) = use(c.Callee, p);
                    if (w) written.Add(v);
                    if (r) read.Add(v);
                }
            }
            return true;
        }

        private static IEnumerable<Stmt> Flat(Block b)
        {
            foreach (var s in b.Stmts)
            {
                if (s is Block inner) { foreach (var x in Flat(inner)) yield return x; }
                else yield return s;
            }
        }
    }
}
