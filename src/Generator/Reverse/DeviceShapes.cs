using System;
using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Analysis;
using DiffGen.Generator.Ir;

namespace DiffGen.Generator.Reverse
{
    /// <summary>
    /// One call of a composite device method: the callee's index, per argument the array variable passed (-1 for a
    /// scalar), and whether it is inside an <c>if</c>/<c>else</c> branch (such a callee may lack ILGPU forms: the
    /// composite's device form then throws NotSupportedException when that branch is taken).
    /// </summary>
    internal sealed record DeviceCall(int Callee, EquatableArray<int> ArrayArgs, bool InBranch = false);

    /// <summary>
    /// Which [DataParallel] methods get ILGPU forms, decided from each method's own IR so that callers know it
    /// from the capability table before anything is rendered (docs/generated-code.md, "ILGPU kernels"):
    /// a method in kernel form (<see cref="ReverseTransformer.BuildDevice"/> succeeds on it), or a composite whose
    /// body is host-side control flow over scalar set-up, local arrays and calls (<see cref="CompositeCalls"/>);
    /// the table then requires every callee to have ILGPU forms (generated or hand-written).
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
        /// The calls of a composite body (null with the reason otherwise). The body runs on the host with the arrays
        /// as device views: scalar set-up on numbers and inactive values (no array element reads), local 1D arrays
        /// (not inside loops), <c>if</c>/<c>else</c> and counted <c>for</c> loops on such values, and statement calls
        /// whose array arguments are array variables (each at most once per call). A float/double argument either
        /// carries no derivative (integers, [NoDiff] parameters, literals, members of inactive values), or its
        /// derivative with respect to each differentiable scalar parameter is an expression <see cref="Partial"/> can
        /// write (sums, products, quotients, negation and casts of parameters and of real locals assigned once at the
        /// top of the body).
        /// </summary>
        public static List<DeviceCall>? CompositeCalls(MethodModel m, out string? whyNot)
        {
            whyNot = null;
            var vars = m.Vars;
            if (vars.Any(v => v.IsContainer || v.Aggregate || v.IsMultiDim || v.Modifier != null || v.Role == VarRole.This))
            {
                whyNot = "it uses a struct, an object, a multi-dimensional array or a ref parameter";
                return null;
            }
            if (m.ReturnType != Ty.Void || vars.Any(v => v.Role == VarRole.Result))
            {
                whyNot = "it returns a value";
                return null;
            }
            if (vars.Any(v => v.Elem == Ty.Other && v.TypeName == null || v.Elem == Ty.Void))
            {
                whyNot = "it uses a value of a type the device form cannot declare";
                return null;
            }
            if (vars.Any(v => !v.IsScalar && !(v.Elem == Ty.Float || v.Elem == Ty.Double || v.Elem == Ty.Int)))
            {
                whyNot = "it uses an array that is not of float, double or int";
                return null;
            }
            var calls = new List<DeviceCall>();
            var defs = Definitions(m);
            string? why = null;
            bool HostScalar(Expr e) => !Walk.Descendants(e).Any(x => x is ElemRef || x is ErrorExpr);
            bool Walk_(Block b, bool inBranch, bool inLoop)
            {
                foreach (var s in b.Stmts)
                {
                    switch (s)
                    {
                        case Block inner:
                            if (!Walk_(inner, inBranch, inLoop)) return false;
                            continue;
                        case Assign a when a.Target is VarRef t && vars[t.Var].IsScalar && HostScalar(a.Value) && vars[t.Var].Role != VarRole.Param:
                            {
                                var v = vars[t.Var];
                                if (v.Elem == Ty.Other && !a.Declares) { why = "it re-assigns a value of an inactive type"; return false; }
                                if (v.IsReal && !defs.ContainsKey(v.Id) && !NoDerivative(m, a.Value)) { why = "it assigns a float/double local that carries a derivative more than once or inside a branch or loop"; return false; }
                                continue;
                            }
                        case Alloc al when !vars[al.Var].IsScalar && HostScalar(al.Length):
                            if (inLoop) { why = "it allocates an array inside a loop"; return false; }
                            continue;
                        case If f when HostScalar(f.Condition):
                            if (!Walk_(f.Then, true, inLoop) || !Walk_(f.Else, true, inLoop)) return false;
                            continue;
                        case ForLoop f when HostScalar(f.Start) && HostScalar(f.Condition) && vars[f.Counter].Elem == Ty.Int:
                            if (!Walk_(f.Init, inBranch, true) || !Walk_(f.Body, inBranch, true)) return false;
                            continue;
                        case Call c when c.ResultVar < 0 && c.Receiver < 0 && c.Callee >= 0 && c.Callee < m.Callees.Count:
                            {
                                var callee = m.Callees[c.Callee];
                                if (callee.IsInstance || callee.Params.Count != c.Args.Count) { why = "it calls an instance method"; return false; }
                                var arrays = new List<int>();
                                for (int k = 0; k < c.Args.Count; k++)
                                {
                                    var p = callee.Params[k];
                                    var arg = c.Args[k];
                                    if (p.Storage == Storage.Scalar)
                                    {
                                        if (p.Aggregate || p.Modifier != null || p.Elem == Ty.Void) { why = "it passes a struct or a ref argument to '" + callee.Name + "'"; return false; }
                                        if (!HostScalar(arg)) { why = "a scalar argument of '" + callee.Name + "' reads an array element"; return false; }
                                        if (p.HasAdjoint && !Chainable(m, arg, p.Elem, defs)) { why = "a float/double argument of '" + callee.Name + "' is an expression whose derivative the device composite cannot chain (sums, products, quotients and casts of parameters only)"; return false; }
                                        arrays.Add(-1);
                                        continue;
                                    }
                                    if (!(p.Storage == Storage.Span || p.Storage == Storage.ReadOnlySpan || p.Storage == Storage.Array) || p.Rank != 1 || p.Aggregate
                                        || !(arg is VarRef av) || vars[av.Var].IsScalar || vars[av.Var].IsMultiDim)
                                    {
                                        why = "an array argument of '" + callee.Name + "' is not an array variable";
                                        return false;
                                    }
                                    arrays.Add(av.Var);
                                }
                                // The same array at two places: only where the callee reads it at both (the table's span use
                                // is not known here, so the emitter checks writes; a writable parameter counts as written).
                                for (int k = 0; k < c.Args.Count; k++)
                                {
                                    if (arrays[k] < 0) continue;
                                    for (int j = 0; j < k; j++)
                                        if (arrays[j] == arrays[k] && (callee.Params[j].Storage != Storage.ReadOnlySpan || callee.Params[k].Storage != Storage.ReadOnlySpan))
                                        {
                                            why = "an array is passed to '" + callee.Name + "' twice, and written";
                                            return false;
                                        }
                                }
                                calls.Add(new DeviceCall(c.Callee, arrays.ToEquatableArray(), inBranch));
                                continue;
                            }
                        default:
                            why = "its body is not host control flow over scalar set-up, local arrays and calls";
                            return false;
                    }
                }
                return true;
            }
            if (!Walk_(m.Body, false, false)) { whyNot = why; return null; }
            if (calls.Count == 0) { whyNot = "it calls nothing"; return null; }
            return calls;
        }

        /// <summary>Whether an expression carries no derivative: it reads no float/double variable other than [NoDiff] parameters (members of inactive values are inactive).</summary>
        public static bool NoDerivative(MethodModel m, Expr e) => Walk.Descendants(e).All(x =>
            !(x is VarRef r) || !m.Vars[r.Var].IsReal || m.Vars[r.Var].NoDiff && m.Vars[r.Var].Role == VarRole.Param);

        /// <summary>
        /// The real scalar locals whose value the partials can expand: declared once, at the top level of the body
        /// (never inside a branch or loop, never re-assigned), from set-up that reads no array element and no variable
        /// assigned twice (so the definition has the same value wherever a call reads the local).
        /// </summary>
        public static Dictionary<int, Expr> Definitions(MethodModel m)
        {
            var count = new Dictionary<int, int>();
            foreach (var s in Walk.Descendants(m.Body))
                if (s is Assign a && a.Target is VarRef t) count[t.Var] = count.TryGetValue(t.Var, out int n) ? n + 1 : 1;
            var defs = new Dictionary<int, Expr>();
            IEnumerable<Stmt> Top(Block b) => b.Stmts.SelectMany(s => s is Block inner ? Top(inner) : new[] { s });
            foreach (var s in Top(m.Body))
                if (s is Assign a && a.Declares && a.Target is VarRef t && m.Vars[t.Var].IsScalar && m.Vars[t.Var].IsReal && m.Vars[t.Var].Role != VarRole.Param && count[t.Var] == 1
                    && !Walk.Descendants(a.Value).Any(x => x is ElemRef)
                    && Walk.Descendants(a.Value).All(x => !(x is VarRef r) || !count.TryGetValue(r.Var, out int c) || c <= 1))
                    defs[t.Var] = a.Value;
            return defs;
        }

        /// <summary>Whether <see cref="Partial"/> can write the derivative of an argument (of type <paramref name="elem"/>) with respect to every differentiable scalar parameter, each of the argument's type where it is not zero.</summary>
        public static bool Chainable(MethodModel m, Expr e, Ty elem, Dictionary<int, Expr> defs)
        {
            if (m.Vars.Any(v => v.Role == VarRole.Param && v.IsScalar && v.IsReal && !v.NoDiff && IsAssigned(m, v.Id))) return NoDerivative(m, e);
            try
            {
                // The chaining kernel adds into the parameter's adjoint in the argument's type: a float argument of a double parameter is not chained.
                foreach (var v in m.Vars.Where(v => v.Role == VarRole.Param && v.IsScalar && v.IsReal && !v.NoDiff))
                    if (Partial(m, e, v.Id, defs, _ => "x") != null && v.Elem != elem) return false;
                return true;
            }
            catch (NotSupportedException)
            {
                return false;
            }
        }

        private static bool IsAssigned(MethodModel m, int var) => Walk.Descendants(m.Body).Any(s => s is Assign a && a.Target is VarRef t && t.Var == var);

        /// <summary>
        /// The derivative of <paramref name="e"/> with respect to scalar parameter <paramref name="root"/> as host C#
        /// (<paramref name="print"/> writes a sub-expression), or null where it is zero. Real locals in
        /// <paramref name="defs"/> are expanded through their definitions. Throws NotSupportedException for a
        /// differentiable value under a function the composite does not chain.
        /// </summary>
        public static string? Partial(MethodModel m, Expr e, int root, Dictionary<int, Expr> defs, Func<Expr, string> print)
        {
            string? D(Expr x)
            {
                switch (x)
                {
                    case VarRef r:
                        {
                            if (r.Var == root) return "1.0";
                            var v = m.Vars[r.Var];
                            if (!v.IsReal || v.Role == VarRole.Param) return null;
                            if (defs.TryGetValue(r.Var, out var def)) return D(def);
                            if (v.NoDiff) return null;
                            throw new NotSupportedException();
                        }
                    case Lit _:
                    case LenRef _:
                    case Opaque _:
                        return null;
                    case Unary u:
                        {
                            if (u.Op == UnOp.Not) return null;
                            var d = D(u.Operand);
                            return d == null ? null : "(-" + d + ")";
                        }
                    case Cast c:
                        return c.Type == Ty.Double || c.Type == Ty.Float ? D(c.Operand) : null;
                    case Conditional c:
                        {
                            var a = D(c.WhenTrue);
                            var b = D(c.WhenFalse);
                            if (a == null && b == null) return null;
                            return "(" + print(c.Condition) + " ? " + (a ?? "0.0") + " : " + (b ?? "0.0") + ")";
                        }
                    case Binary b:
                        {
                            if (!(b.Type == Ty.Double || b.Type == Ty.Float)) return null; // comparisons, integer arithmetic
                            var dl = D(b.Left);
                            var dr = D(b.Right);
                            if (dl == null && dr == null) return null;
                            string l = "(double)(" + print(b.Left) + ")", rr = "(double)(" + print(b.Right) + ")";
                            switch (b.Op)
                            {
                                case BinOp.Add: return dl == null ? dr : dr == null ? dl : "(" + dl + " + " + dr + ")";
                                case BinOp.Sub: return dr == null ? dl : dl == null ? "(-" + dr + ")" : "(" + dl + " - " + dr + ")";
                                case BinOp.Mul:
                                    return dl == null ? "(" + l + " * " + dr + ")" : dr == null ? "(" + dl + " * " + rr + ")" : "(" + dl + " * " + rr + " + " + l + " * " + dr + ")";
                                case BinOp.Div:
                                    return dr == null ? "(" + dl + " / " + rr + ")"
                                        : "(" + (dl == null ? "0.0" : dl + " / " + rr) + " - " + l + " * " + dr + " / (" + rr + " * " + rr + "))";
                                default:
                                    throw new NotSupportedException();
                            }
                        }
                    default:
                        if (Walk.Descendants(x).Any(y => y is VarRef r2 && (r2.Var == root || defs.ContainsKey(r2.Var)))) throw new NotSupportedException();
                        return null;
                }
            }
            return D(e);
        }
    }
}
