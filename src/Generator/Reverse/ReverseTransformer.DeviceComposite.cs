using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using DiffGen.Generator.Emit;
using DiffGen.Generator.Ir;
using static DiffGen.Generator.Emit.Cs;

namespace DiffGen.Generator.Reverse
{
    // ILGPU forms of a composite [DataParallel] method (docs/generated-code.md, "ILGPU kernels"): host control flow
    // (if/else, counted loops) over scalar set-up, local arrays and calls of methods that have ILGPU forms
    // (generated or hand-written; DeviceShapes). Run runs the body on the host with the arrays as device views,
    // each call being the callee's device Run. Pullback runs the same forward and records, for each call it
    // executes, a reverse action in a host list: the callee's device Pullback on snapshots (fresh device buffers,
    // device-to-device copies) of the array arguments the callee writes or that any call of the body writes, so
    // that the callee's pullback, which re-runs its forward, sees its inputs as they were and never overwrites the
    // composite's results; then it runs the list backwards. Array adjoints are one buffer per array variable
    // (the callees add into their inputs' adjoints and consume their outputs' seeds, so sharing them is reverse
    // accumulation); a float/double argument that is an expression of differentiable scalars gets its own
    // one-element adjoint, which a one-thread kernel chains into the parameters' adjoints by the partial
    // derivatives computed on the host (DeviceShapes.Partial). Record is Pullback's forward half, appending to a
    // caller's list: a composite records its composite callees through it (on snapshots, results copied back),
    // so each kernel's forward runs twice in a pullback at any depth of nesting.
    internal sealed partial class ReverseTransformer
    {
        private CsNestedType? CompositeDevice(out string? whyNot)
        {
            var calls = DeviceShapes.CompositeCalls(_m, out whyNot);
            if (calls == null) return null;
            foreach (var c in calls)
                if (!c.InBranch && _callees[c.Callee].DeviceClass == null) { whyNot = "it calls '" + _callees[c.Callee].Name + "', which has no ILGPU kernels"; return null; }
            if (calls.All(c => _callees[c.Callee].DeviceClass == null)) { whyNot = "it calls '" + _callees[calls[0].Callee].Name + "', which has no ILGPU kernels"; return null; }
            // Callees without ILGPU forms inside branches: the device form throws when such a branch is taken (said in the summary).
            var missing = calls.Where(c => _callees[c.Callee].DeviceClass == null).Select(c => _callees[c.Callee].Name).Distinct().ToList();
            string? caveat = missing.Count == 0 ? null
                : "throw NotSupportedException in the branch that calls " + string.Join(", ", missing.Select(n => "'" + n + "'")) + " (no ILGPU kernels)";
            var defs = DeviceShapes.Definitions(_m);

            string accelerator = Fresh("accelerator"), buffers = Fresh("buffers"), rev = Fresh("reverse");
            var parms = _vars.Where(v => v.Role == VarRole.Param).OrderBy(v => v.ParamIndex).ToList();
            var views = new HashSet<string>(StringComparer.Ordinal);
            foreach (var v in _vars.Where(v => !v.IsScalar)) views.Add(v.Name);
            CsType TypeOf(Var v) => v.Elem == Ty.Other ? new CsType(v.TypeName!) : T(v.Elem);
            CsType ParamType(Var v) => v.IsScalar ? TypeOf(v) : ViewOf(T(v.Elem));
            var runParams = new List<CsParam> { new CsParam(new CsType("global::ILGPU.Runtime.Accelerator"), accelerator) };
            runParams.AddRange(parms.Select(v => new CsParam(ParamType(v), v.Name)));
            var arrayBars = parms.Where(v => !v.IsScalar && v.IsReal && !v.NoDiff).ToDictionary(v => v.Id, v => Fresh(v.Name + "Bar"));
            var scalarBars = parms.Where(v => v.IsScalar && v.IsReal && !v.NoDiff).ToDictionary(v => v.Id, v => Fresh(v.Name + "Bar"));
            var pullParams = new List<CsParam>(runParams);
            foreach (var v in parms.Where(v => arrayBars.ContainsKey(v.Id))) pullParams.Add(new CsParam(ViewOf(T(v.Elem)), arrayBars[v.Id]));
            foreach (var v in parms.Where(v => scalarBars.ContainsKey(v.Id))) pullParams.Add(new CsParam(ViewOf(T(v.Elem)), scalarBars[v.Id]));

            string Host(Expr e) => CsPrinter.Expr(Device(P(e), views));
            string ElemName(Ty t) => T(t).Name;
            // Each call's position in program order and its enclosing loops, and which arrays each call writes: a call's
            // reverse action reads a snapshot of an array it reads when a call after it, or any call of a loop around it,
            // writes that array (otherwise the array still holds, when the reverse runs, the value the call saw).
            var order = new Dictionary<int, int>();
            var loopsOf = new Dictionary<int, HashSet<int>>();
            var writers = new List<(int Order, HashSet<int> Loops, int Var)>();
            void Index(Stmt st, HashSet<int> loops)
            {
                if (st is Call c)
                {
                    order[c.Id] = order.Count;
                    loopsOf[c.Id] = loops;
                    for (int k = 0; k < c.Args.Count; k++)
                        if (_callees[c.Callee].Params[k].Storage != Storage.Scalar && _callees[c.Callee].Params[k].Writes && c.Args[k] is VarRef r) writers.Add((order[c.Id], loops, r.Var));
                    return;
                }
                var inner = st is Loop l ? new HashSet<int>(loops) { l.Id } : loops;
                foreach (var child in Walk.Children(st)) Index(child, inner);
            }
            Index(_m.Body, new HashSet<int>());
            bool WrittenLater(Call c, int var) => writers.Any(w => w.Var == var && (w.Order > order[c.Id] || w.Loops.Overlaps(loopsOf[c.Id])));

            // A zeroed buffer on the accelerator, freed at the end: "var view = ...;"
            string Alloc(string view, Ty elem, string length, bool zero = true)
            {
                string buf = Fresh(view + "Buffer");
                return "var " + buf + " = " + accelerator + ".Allocate1D<" + ElemName(elem) + ">(global::System.Math.Max(" + length + ", 1));\n"
                    + buffers + ".Add(" + buf + ");\n"
                    + (zero ? "global::ILGPU.Runtime.ArrayViewExtensions.MemSetToZero(" + buf + ".View);\n" : "")
                    + "var " + view + " = " + buf + ".View.SubView(0, " + length + ");";
            }
            IEnumerable<CsStmt> Raw(string text) => text.Split('\n').Select(line => (CsStmt)new CsRawStmt(line));
            var chainTypes = new SortedSet<string>(StringComparer.Ordinal);
            var accumulateTypes = new SortedSet<string>(StringComparer.Ordinal);
            var localBars = new Dictionary<int, string>();

            // The body on the host; with record, each call also appends its reverse action to the list.
            CsBlock Body(Block b, bool record)
            {
                var list = new List<CsStmt>();
                foreach (var s in b.Stmts)
                {
                    switch (s)
                    {
                        case Block inner:
                            list.AddRange(Body(inner, record).Stmts);
                            break;
                        case Assign a:
                            {
                                var v = _vars[((VarRef)a.Target).Var];
                                list.Add(new CsRawStmt((a.Declares ? TypeOf(v).Name + " " : "") + v.Name + " = " + Host(a.Value) + ";"));
                                break;
                            }
                        case Alloc al:
                            {
                                var v = _vars[al.Var];
                                string n = Fresh(v.Name + "Length");
                                list.Add(new CsRawStmt("int " + n + " = " + Host(al.Length) + ";"));
                                list.AddRange(Raw(Alloc(v.Name, v.Elem, n)));
                                if (record && v.IsReal)
                                {
                                    if (!localBars.TryGetValue(v.Id, out var bar)) localBars[v.Id] = bar = Fresh(v.Name + "Bar");
                                    list.AddRange(Raw(Alloc(bar, v.Elem, n)));
                                }
                                break;
                            }
                        case If f:
                            {
                                var then = Body(f.Then, record);
                                var els = Body(f.Else, record);
                                list.Add(new CsIf(new CsVerbatim(Host(f.Condition)), then, els.Stmts.Count == 0 ? null : els));
                                break;
                            }
                        case ForLoop f:
                            {
                                list.AddRange(Body(f.Init, record).Stmts);
                                var counter = _vars[f.Counter].Name;
                                list.Add(new CsFor(new CsLocal(CsType.Int, counter, new CsVerbatim(Host(f.Start))), new CsVerbatim(Host(f.Condition)),
                                    new CsAssign(new CsName(counter), "+=", CsLiteral.Int(f.Step)), Body(f.Body, record)));
                                break;
                            }
                        case Call c:
                            list.Add(new CsScope(CallStmts(c, record)));
                            break;
                        default:
                            throw new InvalidOperationException("unexpected statement in a device composite");
                    }
                }
                return Block(list);
            }

            CsBlock CallStmts(Call c, bool record)
            {
                var callee = _callees[c.Callee];
                if (callee.DeviceClass == null)
                    return Block(new CsStmt[] { new CsRawStmt("throw new global::System.NotSupportedException(\"" + _m.Name + " on an ILGPU accelerator: this branch calls '" + callee.Name + "', which has no ILGPU kernels.\");") });
                string cls = callee.TypeName + "." + callee.DeviceClass;
                var list = new List<CsStmt>();
                var runArgs = new List<string> { accelerator };
                var pullArgs = new List<string> { accelerator };
                var arrayAdj = new List<string>();
                var scalarAdj = new List<string>();
                var chains = new List<string>();
                var seen = new HashSet<int>();
                var copyBack = new List<string>();
                for (int k = 0; k < c.Args.Count; k++)
                {
                    var p = callee.Params[k];
                    var arg = c.Args[k];
                    if (p.Storage == Storage.Scalar)
                    {
                        // Evaluated once, into a local of this call's scope (the reverse action captures its value).
                        string a = Fresh("_arg");
                        string type = p.Elem == Ty.Other || p.Elem == Ty.Void ? "var" : ElemName(p.Elem);
                        list.Add(new CsRawStmt(type + " " + a + " = " + Host(arg) + ";"));
                        runArgs.Add(a);
                        pullArgs.Add(a);
                        if (!record || !p.HasAdjoint) continue;
                        if (arg is VarRef pr && scalarBars.TryGetValue(pr.Var, out var sb) && _vars[pr.Var].Elem == p.Elem) { scalarAdj.Add(sb); continue; }
                        string g = Fresh("_argBar");
                        list.AddRange(Raw(Alloc(g, p.Elem, "1")));
                        scalarAdj.Add(g);
                        // The argument's adjoint, chained into each differentiable scalar parameter's by its partial derivative.
                        foreach (var root in scalarBars)
                        {
                            string? d = DeviceShapes.Partial(_m, arg, root.Key, defs, Host);
                            if (d == null) continue;
                            string dv = Fresh("_partial");
                            var rootElem = _vars[root.Key].Elem;
                            list.Add(new CsRawStmt(ElemName(rootElem) + " " + dv + " = (" + ElemName(rootElem) + ")(" + d + ");"));
                            if (rootElem != p.Elem) throw new InvalidOperationException("mixed float/double scalar chain");
                            chainTypes.Add(ElemName(rootElem));
                            chains.Add("Chain(" + accelerator + ", " + root.Value + ", " + g + ", " + dv + ");");
                        }
                        continue;
                    }
                    var v = _vars[((VarRef)arg).Var];
                    runArgs.Add(v.Name);
                    if (!record) continue;
                    string view = v.Name;
                    if (p.Writes || p.Reads && WrittenLater(c, v.Id))
                    {
                        // A snapshot: the values this call sees (a device-to-device copy; a buffer the callee's pullback may overwrite).
                        // Copied even when the callee only writes the array: it may write some elements only (walls, an
                        // obstacle's faces), and a composite callee's results are copied back over the whole array.
                        string snap = Fresh("_" + v.Name + "Seen");
                        list.AddRange(Raw(Alloc(snap, v.Elem, v.Name + ".IntLength", zero: false)));
                        list.Add(new CsRawStmt("if (" + v.Name + ".Length > 0) global::ILGPU.Runtime.ArrayViewExtensions.CopyTo(" + v.Name + ", " + snap + ");"));
                        view = snap;
                        if (p.Writes) copyBack.Add("if (" + v.Name + ".Length > 0) global::ILGPU.Runtime.ArrayViewExtensions.CopyTo(" + snap + ", " + v.Name + ");");
                    }
                    pullArgs.Add(view);
                    if (!p.HasAdjoint) continue;
                    if (seen.Contains(v.Id) && (arrayBars.ContainsKey(v.Id) || localBars.ContainsKey(v.Id)))
                    {
                        // The same array passed again (read only at both places): this place's adjoint goes to a buffer of
                        // its own, added afterwards (two of the callee's reverse kernels must not add to one buffer at once).
                        string again = Fresh("_" + v.Name + "BarAgain");
                        list.AddRange(Raw(Alloc(again, p.Elem, v.Name + ".IntLength")));
                        arrayAdj.Add(again);
                        accumulateTypes.Add(ElemName(p.Elem));
                        chains.Add("Accumulate(" + accelerator + ", " + (arrayBars.TryGetValue(v.Id, out var ab0) ? ab0 : localBars[v.Id]) + ", " + again + ");");
                        continue;
                    }
                    seen.Add(v.Id);
                    if (arrayBars.TryGetValue(v.Id, out var ab)) arrayAdj.Add(ab);
                    else if (localBars.TryGetValue(v.Id, out var lb)) arrayAdj.Add(lb);
                    else
                    {
                        // A [NoDiff] array: its adjoint is not wanted.
                        string d = Fresh("_discarded");
                        list.AddRange(Raw(Alloc(d, p.Elem, v.Name + ".IntLength")));
                        arrayAdj.Add(d);
                    }
                }
                if (record && callee.DeviceRecord)
                {
                    // A composite callee records its own calls' reverse actions into this list, on the snapshots (so its
                    // forward runs once here); what it adds after them (chains, a second place's adjoint) runs before
                    // them in the reverse, so it goes first. Its results are copied to the arrays it writes.
                    if (chains.Count > 0) list.Add(new CsRawStmt(rev + ".Add(() => { " + string.Join(" ", chains) + " });"));
                    list.Add(new CsRawStmt(cls + ".Record(" + string.Join(", ", pullArgs.Concat(arrayAdj).Concat(scalarAdj).Concat(new[] { rev, buffers })) + ");"));
                    list.AddRange(copyBack.Select(x => (CsStmt)new CsRawStmt(x)));
                    return Block(list);
                }
                list.Add(new CsRawStmt(cls + ".Run(" + string.Join(", ", runArgs) + ");"));
                if (record)
                {
                    string pull = cls + ".Pullback(" + string.Join(", ", pullArgs.Concat(arrayAdj).Concat(scalarAdj)) + ");";
                    list.Add(new CsRawStmt(rev + ".Add(() => { " + pull + (chains.Count > 0 ? " " + string.Join(" ", chains) : "") + " });"));
                }
                return Block(list);
            }

            var bufferList = new CsRawStmt("var " + buffers + " = new global::System.Collections.Generic.List<global::System.IDisposable>();");
            var finish = new List<CsStmt>
            {
                new CsComment("the buffers are freed once the queued kernels are done"),
                new CsRawStmt(accelerator + ".Synchronize();"),
                new CsRawStmt("foreach (var _b in " + buffers + ") _b.Dispose();"),
            };
            var run = new List<CsStmt> { bufferList };
            run.AddRange(Body(_m.Body, false).Stmts);
            run.AddRange(finish);

            var recordBody = new List<CsStmt> { new CsComment("the forward on the host, recording each executed call's reverse action") };
            recordBody.AddRange(Body(_m.Body, true).Stmts);
            var recordParams = new List<CsParam>(pullParams)
            {
                new CsParam(new CsType("global::System.Collections.Generic.List<global::System.Action>"), rev),
                new CsParam(new CsType("global::System.Collections.Generic.List<global::System.IDisposable>"), buffers),
            };
            var pullBody = new List<CsStmt> { bufferList, new CsRawStmt("var " + rev + " = new global::System.Collections.Generic.List<global::System.Action>();") };
            pullBody.Add(new CsRawStmt("Record(" + string.Join(", ", pullParams.Select(x => x.Name).Concat(new[] { rev, buffers })) + ");"));
            pullBody.Add(new CsComment("the reverse: the recorded actions, last first"));
            pullBody.Add(new CsRawStmt("for (int _k = " + rev + ".Count - 1; _k >= 0; _k--) " + rev + "[_k]();"));
            pullBody.AddRange(finish);

            string self = ContainingType() + "." + _m.Name;
            var fields = new List<CsField>();
            var launchers = new List<CsMethod>
            {
                new CsMethod("Runs <see cref=\"" + self + "\"/> on <paramref name=\"" + accelerator + "\"/> (arrays as views in its memory; control flow and scalars on the host): its local arrays allocated there, its callees' device forms in order; returns when the device is done.",
                    EquatableArray<string>.Empty, "public static", CsType.Void, "Run", runParams.ToEquatableArray(), Block(run)),
                new CsMethod("The pullback of <see cref=\"" + self + "\"/> on <paramref name=\"" + accelerator + "\"/>: the forward, recording the calls it makes, then their device pullbacks last first (on device snapshots of the arrays they saw); adds the array inputs' adjoints and the scalar parameters' (element 0 of their one-element views), consumes the seeds in the outputs' adjoints; returns when the device is done.",
                    EquatableArray<string>.Empty, "public static", CsType.Void, "Pullback", pullParams.ToEquatableArray(), Block(pullBody)),
                new CsMethod("The forward half of <see cref=\"Pullback\"/>: runs <see cref=\"" + self + "\"/> on <paramref name=\"" + accelerator + "\"/> and appends to <paramref name=\"" + rev + "\"/> the reverse actions that, run last first, add the adjoints as <c>Pullback</c> does (with the same adjoint views, which they capture); its buffers go to <paramref name=\"" + buffers + "\"/>, to be freed after the reverse and <c>Synchronize</c>. A composite caller records its composite callees through this, so each forward runs once.",
                    EquatableArray<string>.Empty, "public static", CsType.Void, "Record", recordParams.ToEquatableArray(), Block(recordBody)),
            };
            foreach (var e in chainTypes)
            {
                string view = "global::ILGPU.ArrayView<" + e + ">", cache = Fresh("_chain" + char.ToUpperInvariant(e[0]) + e.Substring(1));
                fields.Add(new CsField(new CsType("global::System.Runtime.CompilerServices.ConditionalWeakTable<global::ILGPU.Runtime.Accelerator, global::System.Action<global::ILGPU.Index1D, " + view + ", " + view + ", " + e + ">>"), cache, "private static readonly", new CsVerbatim("new()")));
                var index = new CsParam(new CsType("global::ILGPU.Index1D"), "_index");
                launchers.Add(new CsMethod(null, EquatableArray<string>.Empty, "private static", CsType.Void, "ChainKernel",
                    new[] { index, new CsParam(new CsType(view), "to"), new CsParam(new CsType(view), "from"), new CsParam(new CsType(e), "factor") }.ToEquatableArray(),
                    Block(new CsStmt[] { new CsRawStmt("to[0] += factor * from[0];") })));
                launchers.Add(new CsMethod("Adds <c>factor * from[0]</c> to <c>to[0]</c> on the device (one thread, queued on the default stream).", EquatableArray<string>.Empty, "private static", CsType.Void, "Chain",
                    new[] { new CsParam(new CsType("global::ILGPU.Runtime.Accelerator"), "accelerator"), new CsParam(new CsType(view), "to"), new CsParam(new CsType(view), "from"), new CsParam(new CsType(e), "factor") }.ToEquatableArray(),
                    Block(new CsStmt[] { new CsRawStmt(cache + ".GetValue(accelerator, static a => global::ILGPU.Runtime.KernelLoaders.LoadAutoGroupedStreamKernel<global::ILGPU.Index1D, " + view + ", " + view + ", " + e + ">(a, ChainKernel))(1, to, from, factor);") })));
            }
            foreach (var e in accumulateTypes)
            {
                string view = "global::ILGPU.ArrayView<" + e + ">", cache = Fresh("_accumulate" + char.ToUpperInvariant(e[0]) + e.Substring(1));
                fields.Add(new CsField(new CsType("global::System.Runtime.CompilerServices.ConditionalWeakTable<global::ILGPU.Runtime.Accelerator, global::System.Action<global::ILGPU.Index1D, " + view + ", " + view + ">>"), cache, "private static readonly", new CsVerbatim("new()")));
                var index = new CsParam(new CsType("global::ILGPU.Index1D"), "_index");
                launchers.Add(new CsMethod(null, EquatableArray<string>.Empty, "private static", CsType.Void, "AccumulateKernel",
                    new[] { index, new CsParam(new CsType(view), "to"), new CsParam(new CsType(view), "from") }.ToEquatableArray(),
                    Block(new CsStmt[] { new CsRawStmt("to[_index] += from[_index];") })));
                launchers.Add(new CsMethod("Adds <c>from</c> to <c>to</c> elementwise on the device (one thread per element, queued on the default stream).", EquatableArray<string>.Empty, "private static", CsType.Void, "Accumulate",
                    new[] { new CsParam(new CsType("global::ILGPU.Runtime.Accelerator"), "accelerator"), new CsParam(new CsType(view), "to"), new CsParam(new CsType(view), "from") }.ToEquatableArray(),
                    Block(new CsStmt[] { new CsRawStmt("if (to.IntLength > 0) " + cache + ".GetValue(accelerator, static a => global::ILGPU.Runtime.KernelLoaders.LoadAutoGroupedStreamKernel<global::ILGPU.Index1D, " + view + ", " + view + ">(a, AccumulateKernel))(to.IntLength, to, from);") })));
            }
            whyNot = caveat;
            return new CsNestedType("<see cref=\"" + _m.Name + "\"/> on an ILGPU accelerator: <c>Run</c> and <c>Pullback</c> through its callees' device forms (see docs/generated-code.md).",
                "public static class " + DeviceShapes.ClassName(_m), fields.ToEquatableArray(), launchers.ToEquatableArray());
        }
    }
}
