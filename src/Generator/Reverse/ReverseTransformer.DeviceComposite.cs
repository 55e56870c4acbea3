using System;
using System.Collections.Generic;
using System.Linq;
using DiffGen.Generator.Emit;
using DiffGen.Generator.Ir;
using static DiffGen.Generator.Emit.Cs;

namespace DiffGen.Generator.Reverse
{
    // ILGPU forms of a composite [DataParallel] method (docs/generated-code.md, "ILGPU kernels"): scalar set-up,
    // local arrays and calls of methods that have ILGPU forms themselves (DeviceShapes). Run allocates the
    // local arrays on the accelerator and runs the callees' device forms in order; Pullback runs the whole
    // forward, then the callees' device pullbacks in reverse order. Each callee's pullback re-runs its own
    // forward, which is exact because DeviceShapes.CompositeValid admits only bodies where every array holds,
    // after the forward, the value each reader saw (written once, never before it is read, never in place).
    internal sealed partial class ReverseTransformer
    {
        private CsNestedType? CompositeDevice(out string? whyNot)
        {
            var calls = DeviceShapes.CompositeCalls(_m, out whyNot);
            if (calls == null) return null;
            foreach (var c in calls)
                if (_callees[c.Callee].DeviceClass == null) { whyNot = "it calls '" + _callees[c.Callee].Name + "', which has no ILGPU kernels"; return null; }
            if (!DeviceShapes.CompositeValid(calls, (c, p) => (_callees[c].Params[p].Reads, _callees[c].Params[p].Writes), out whyNot)) return null;

            string accelerator = Fresh("accelerator"), buffers = Fresh("_buffers");
            var parms = _vars.Where(v => v.Role == VarRole.Param).OrderBy(v => v.ParamIndex).ToList();
            var views = new HashSet<string>(StringComparer.Ordinal);
            foreach (var v in _vars.Where(v => !v.IsScalar)) views.Add(v.Name);
            CsType ParamType(Var v) => v.IsScalar ? T(v.Elem) : ViewOf(T(v.Elem));
            var runParams = new List<CsParam> { new CsParam(new CsType("global::ILGPU.Runtime.Accelerator"), accelerator) };
            runParams.AddRange(parms.Select(v => new CsParam(ParamType(v), v.Name)));
            var arrayBars = parms.Where(v => !v.IsScalar && v.IsReal && !v.NoDiff).ToDictionary(v => v.Id, v => Fresh(v.Name + "Bar"));
            var scalarBars = parms.Where(v => v.IsScalar && v.IsReal && !v.NoDiff).ToDictionary(v => v.Id, v => Fresh(v.Name + "Bar"));
            var pullParams = new List<CsParam>(runParams);
            foreach (var v in parms.Where(v => arrayBars.ContainsKey(v.Id))) pullParams.Add(new CsParam(ViewOf(T(v.Elem)), arrayBars[v.Id]));
            foreach (var v in parms.Where(v => scalarBars.ContainsKey(v.Id))) pullParams.Add(new CsParam(ViewOf(T(v.Elem)), scalarBars[v.Id]));

            CsExpr Host(Expr e) => Device(P(e), views);
            var setup = new List<CsStmt> { new CsLocal(new CsType("var"), buffers, new CsVerbatim("new global::System.Collections.Generic.List<global::System.IDisposable>()")) };
            // A zeroed buffer on the accelerator, freed at the end; its view under the given name.
            void Buffer(List<CsStmt> into, string view, Ty elem, CsExpr length)
            {
                // At least one element allocated (an empty array stays a view of length 0).
                string buf = Fresh(view + "Buffer"), n = Fresh(view + "Length");
                into.Add(new CsLocal(CsType.Int, n, length));
                into.Add(new CsLocal(new CsType("var"), buf, Call(new CsVerbatim(accelerator + ".Allocate1D<" + T(elem).Name + ">"), Call(Member(Names.Math, "Max"), N(n), CsLiteral.Int(1)))));
                into.Add(Do(Call(Member(buffers, "Add"), N(buf))));
                into.Add(Do(Call(Member("global::ILGPU.Runtime.ArrayViewExtensions", "MemSetToZero"), Member(buf, "View"))));
                into.Add(new CsLocal(ViewOf(T(elem)), view, Call(Member(Member(buf, "View"), "SubView"), CsLiteral.Int(0), N(n))));
            }
            var localBars = new Dictionary<int, string>();
            var pullSetup = new List<CsStmt>();
            foreach (var s in FlatStmts(_m.Body))
            {
                if (s is Assign a)
                {
                    var v = _vars[((VarRef)a.Target).Var];
                    setup.Add(new CsLocal(T(v.Elem), v.Name, Host(a.Value)));
                }
                else if (s is Alloc al)
                {
                    var v = _vars[al.Var];
                    Buffer(setup, v.Name, v.Elem, Host(al.Length));
                    string bar = Fresh(v.Name + "Bar");
                    localBars[v.Id] = bar;
                    Buffer(pullSetup, bar, v.Elem, Member(v.Name, "IntLength"));
                }
            }

            string DeviceOf(int c) => _callees[c].TypeName + "." + _callees[c].DeviceClass;
            var stmtCalls = FlatStmts(_m.Body).OfType<Call>().ToList();
            List<CsArg> Args(Call c) => new List<CsArg> { N(accelerator) }.Concat(c.Args.Select((x, k) => (CsArg)(_callees[c.Callee].Params[k].Storage == Storage.Scalar ? Host(x) : N(_vars[((VarRef)x).Var].Name)))).ToList();
            var run = new List<CsStmt>(setup);
            foreach (var c in stmtCalls) run.Add(Do(Call(Member(new CsName(DeviceOf(c.Callee)), "Run"), Args(c).ToArray())));
            var finish = new List<CsStmt>
            {
                new CsComment("the buffers are freed once the queued kernels are done"),
                Do(Call(Member(accelerator, "Synchronize"))),
                new CsRawStmt("foreach (var _b in " + buffers + ") _b.Dispose();"),
            };
            run.AddRange(finish);

            var pull = new List<CsStmt>(setup);
            pull.AddRange(pullSetup);
            foreach (var c in stmtCalls) pull.Add(Do(Call(Member(new CsName(DeviceOf(c.Callee)), "Run"), Args(c).ToArray())));
            var scratch = new Dictionary<Ty, string>();
            string Scratch(Ty elem, CsExpr length, string hint)
            {
                string name = Fresh(hint);
                Buffer(pull, name, elem, length);
                return name;
            }
            pull.Add(new CsComment("the reverse: the callees' device pullbacks in reverse order (each re-runs its forward on the values above)"));
            for (int k = stmtCalls.Count - 1; k >= 0; k--)
            {
                var c = stmtCalls[k];
                var callee = _callees[c.Callee];
                var args = Args(c);
                var extra = new List<CsArg>();
                for (int p = 0; p < callee.Params.Count; p++)
                {
                    var cp = callee.Params[p];
                    if (cp.Storage == Storage.Scalar || !cp.HasAdjoint) continue;
                    int v = ((VarRef)c.Args[p]).Var;
                    string bar = arrayBars.TryGetValue(v, out var b) ? b : localBars.TryGetValue(v, out var lb) ? lb
                        : Scratch(cp.Elem, Member(_vars[v].Name, "IntLength"), "_discarded"); // a [NoDiff] array: its adjoint is not wanted
                    extra.Add(N(bar));
                }
                for (int p = 0; p < callee.Params.Count; p++)
                {
                    var cp = callee.Params[p];
                    if (cp.Storage != Storage.Scalar || !cp.HasAdjoint) continue;
                    if (c.Args[p] is VarRef r && scalarBars.TryGetValue(r.Var, out var sb)) { extra.Add(N(sb)); continue; }
                    // An argument that carries no derivative (DeviceShapes): its adjoint goes to a discarded element.
                    if (!scratch.TryGetValue(cp.Elem, out var sc)) scratch[cp.Elem] = sc = Scratch(cp.Elem, CsLiteral.Int(1), "_discarded");
                    extra.Add(N(sc));
                }
                pull.Add(Do(Call(Member(new CsName(DeviceOf(c.Callee)), "Pullback"), args.Concat(extra).ToArray())));
            }
            pull.AddRange(finish);

            string self = ContainingType() + "." + _m.Name;
            var launchers = new List<CsMethod>
            {
                new CsMethod("Runs <see cref=\"" + self + "\"/> on <paramref name=\"" + accelerator + "\"/> (arrays as views in its memory): its local arrays allocated there, its callees' device forms in order; returns when the device is done.",
                    EquatableArray<string>.Empty, "public static", CsType.Void, "Run", runParams.ToEquatableArray(), Block(run)),
                new CsMethod("The pullback of <see cref=\"" + self + "\"/> on <paramref name=\"" + accelerator + "\"/>: the forward, then its callees' device pullbacks in reverse order; adds the array inputs' adjoints and the scalar parameters' (element 0 of their one-element views), consumes the seeds in the outputs' adjoints; returns when the device is done.",
                    EquatableArray<string>.Empty, "public static", CsType.Void, "Pullback", pullParams.ToEquatableArray(), Block(pull)),
            };
            return new CsNestedType("<see cref=\"" + _m.Name + "\"/> on an ILGPU accelerator: <c>Run</c> and <c>Pullback</c> through its callees' device forms (see docs/generated-code.md).",
                "public static class " + DeviceShapes.ClassName(_m), EquatableArray<CsField>.Empty, launchers.ToEquatableArray());
        }

        private static IEnumerable<Stmt> FlatStmts(Block b)
        {
            foreach (var s in b.Stmts)
            {
                if (s is Block inner) { foreach (var x in FlatStmts(inner)) yield return x; }
                else yield return s;
            }
        }
    }
}
