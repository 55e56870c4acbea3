using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using DiffGen.Generator.Analysis;
using DiffGen.Generator.Emit;
using DiffGen.Generator.Ir;
using static DiffGen.Generator.Emit.Cs;

namespace DiffGen.Generator.Reverse
{
    // ILGPU kernels of a [DataParallel] method in kernel form (docs/generated-code.md, "ILGPU kernels").
    //
    // Kernel form: the body is scalar set-up (no element reads) and parallel counted loops whose bodies
    // record nothing, call nothing and allocate nothing. Each loop becomes a kernel of one thread per
    // iteration (per (row, column) for a row-major 2D nest), and its reverse becomes the same passes as on
    // CPU threads, one thread per element: a gather per array where the interior reads arrays at fixed
    // offsets (each element written by one thread), the interior's own work, and the boundary iterations,
    // whose scatters (and those of arrays read at computed indices) are Atomic.Add. Scalar parameters get no
    // adjoint on the device. The kernels take one struct of views and values; launchers compute the scalar
    // set-up and the ranges on the host and never copy array data.
    internal sealed partial class ReverseTransformer
    {
        private const string IlgpuAtomic = "global::ILGPU.Atomic";

        private static CsType ViewOf(CsType element) => new CsType("global::ILGPU.ArrayView", Element: element, Generic: "global::ILGPU.ArrayView");

        /// <summary>The ILGPU kernels and launchers of a [DataParallel] method in kernel form (null otherwise, with the reason).</summary>
        internal static CsNestedType? BuildDevice(MethodModel m, IReadOnlyList<Callee> callees, MethodAnalysis analysis, out string? whyNot)
        {
            whyNot = null;
            if (!m.DataParallel || !m.Ilgpu) return null;
            var t = new ReverseTransformer(m, callees, analysis, dual: false);
            return m.Callees.Count > 0 ? t.CompositeDevice(out whyNot) : t.Device(out whyNot);
        }

        private sealed class DeviceLoop
        {
            public DeviceLoop(ForLoop loop, int index) { Loop = loop; Index = index; }

            public ForLoop Loop { get; }

            public int Index { get; }

            /// <summary>The inner loop of a row-major nest run as one thread per (row, column).</summary>
            public ForLoop? Inner;

            public string From = "", To = "", From2 = "", To2 = "";
        }

        private CsNestedType? Device(out string? whyNot)
        {
            whyNot = null;
            var prelude = new List<Assign>();
            var loops = new List<DeviceLoop>();
            foreach (var s in Flatten(_body))
            {
                if (s is Assign a && a.Target is VarRef tv && _vars[tv.Var].IsScalar && _vars[tv.Var].Elem != Ty.Other
                    && !Walk.Descendants(a.Value).Any(x => x is ElemRef || x is Opaque o && o.IsCall))
                {
                    prelude.Add(a);
                    continue;
                }
                if (s is ForLoop f && f.Parallel && Range(f) != null && KernelLoop(f, out whyNot))
                {
                    loops.Add(new DeviceLoop(f, loops.Count));
                    continue;
                }
                whyNot ??= "its body is not scalar set-up and data-parallel loops";
                return null;
            }
            if (loops.Count == 0) { whyNot = "it has no data-parallel loop"; return null; }
            if (_vars.Any(v => v.Elem == Ty.Other)) { whyNot = "it uses a value of an inactive type"; return null; }
            if (prelude.GroupBy(a => ((VarRef)a.Target).Var).Any(g => g.Count() > 1)) { whyNot = "its set-up assigns a local twice"; return null; }

            // Adjoint names as the pullback has them (array parameters and active locals; scalar parameters get none here).
            foreach (var v in _vars.Where(v => v.Role == VarRole.Param).OrderBy(v => v.ParamIndex))
                if (v.IsReal && !v.NoDiff) _bar[v.Id] = Fresh(v.Name + (v.IsScalar ? "Adj" : "Bar"));
            foreach (var v in _vars)
                if (v.Role != VarRole.Param && _a.Active[v.Id]) _bar[v.Id] = Fresh(v.Name.TrimStart('_') + "Bar");

            // Scalar adjoints (of scalar parameters and of the set-up's locals) are per-thread partial sums on the
            // device, reduced in a fixed order into one-element sums; a one-thread kernel then runs the set-up's
            // reverse and adds the parameters' sums to the caller's one-element views.
            _devReduced = new Dictionary<string, DeviceSum>(StringComparer.Ordinal);
            _devKernelSums = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (var v in _vars.Where(v => v.Role == VarRole.Param && v.IsScalar).OrderBy(v => v.ParamIndex))
                if (_bar.TryGetValue(v.Id, out var sb)) _devReduced[sb] = new DeviceSum(T(v.Elem), Fresh("_" + sb + "Partials"), Fresh("_" + sb + "Sum"), Fresh(v.Name + "Bar"));
            foreach (var a in prelude)
                if (_bar.TryGetValue(((VarRef)a.Target).Var, out var pb)) _devReduced[pb] = new DeviceSum(T(_vars[((VarRef)a.Target).Var].Elem), Fresh("_" + pb + "Partials"), Fresh("_" + pb + "Sum"), null);

            var views = new HashSet<string>(StringComparer.Ordinal);
            foreach (var v in _vars.Where(v => v.Role == VarRole.Param && !v.IsScalar))
            {
                views.Add(v.Name);
                if (_bar.TryGetValue(v.Id, out var b)) views.Add(b);
            }
            var fields = new Dictionary<string, CsType>(StringComparer.Ordinal);
            foreach (var v in _vars.Where(v => v.Role == VarRole.Param).OrderBy(v => v.ParamIndex))
            {
                fields[v.Name] = v.IsScalar ? T(v.Elem) : ViewOf(T(v.Elem));
                if (!v.IsScalar && _bar.TryGetValue(v.Id, out var b)) fields[b] = ViewOf(T(v.Elem));
            }
            foreach (var a in prelude) fields[_vars[((VarRef)a.Target).Var].Name] = T(_vars[((VarRef)a.Target).Var].Elem);
            foreach (var sum in _devReduced.Values)
            {
                fields[sum.Partials] = ViewOf(sum.Type);
                fields[sum.Sum] = ViewOf(sum.Type);
                if (sum.Output != null) { fields[sum.Output] = ViewOf(sum.Type); views.Add(sum.Output); }
                views.Add(sum.Partials); views.Add(sum.Sum);
            }
            string scratch = Fresh("_scratch");
            _devScratch = scratch;

            var kernels = new List<CsMethod>();
            var caches = new List<CsField>();
            var run = new List<CsStmt>();
            var reverse = new List<CsStmt>();
            string args = Fresh("_a"), accelerator = Fresh("accelerator");
            foreach (var dl in loops)
            {
                var f = dl.Loop;
                dl.Inner = FlatInner(f);
                string tag = "Loop" + dl.Index.ToString(CultureInfo.InvariantCulture);
                dl.From = Fresh("_from"); dl.To = Fresh("_to");
                fields[dl.From] = CsType.Int; fields[dl.To] = CsType.Int;
                if (dl.Inner != null) { dl.From2 = Fresh("_from"); dl.To2 = Fresh("_to"); fields[dl.From2] = CsType.Int; fields[dl.To2] = CsType.Int; }

                // The primal: one thread per iteration.
                var body = new List<CsStmt>();
                _parallelDepth++;
                try
                {
                    if (dl.Inner != null) { foreach (var s in f.Body.Stmts) if (s != dl.Inner) Primal(s, body); Primal(dl.Inner.Body, body); }
                    else Primal(f.Body, body);
                }
                finally { _parallelDepth--; }
                var primal = Kernel(tag, dl, false, null, null, null, null, body, PrivateNames(f), fields, views);
                if (primal == null) { whyNot = "a loop body uses a value a kernel cannot take"; return null; }
                kernels.Add(primal);
                run.Add(new CsComment("kernel: " + Describe(f).Trim('\'')));
                run.Add(new CsScope(Block(Ranges(dl, args, views).Concat(Launch(tag, accelerator, args, Count(dl, N(dl.From).With(args), N(dl.To).With(args), dl.Inner != null ? N(dl.From2).With(args) : null, dl.Inner != null ? N(dl.To2).With(args) : null), caches)))));

                // The reverse.
                var rev = DeviceReverse(dl, tag, args, accelerator, fields, views, kernels, caches);
                if (rev == null) { whyNot = "the reverse of a loop needs values a kernel cannot recompute"; return null; }
                reverse.Insert(0, new CsScope(Block(rev)));
            }

            // Launchers: the scalar set-up on the host, then the kernels.
            var parms = _vars.Where(v => v.Role == VarRole.Param).OrderBy(v => v.ParamIndex).ToList();
            var runParams = new List<CsParam> { new CsParam(new CsType("global::ILGPU.Runtime.Accelerator"), accelerator) };
            runParams.AddRange(parms.Select(v => new CsParam(fields[v.Name], v.Name)));
            var setup = new List<CsStmt> { new CsLocal(new CsType("Args"), args, new CsVerbatim("default")) };
            foreach (var v in parms) setup.Add(Set(Member(args, v.Name), ToArg(fields[v.Name], N(v.Name))));
            foreach (var a in prelude)
            {
                var v = _vars[((VarRef)a.Target).Var];
                setup.Add(new CsLocal(T(v.Elem), v.Name, Device(P(a.Value), views)));
                setup.Add(Set(Member(args, v.Name), ToArg(T(v.Elem), N(v.Name))));
            }
            var runBody = setup.Concat(run).ToList();
            var pullParams = new List<CsParam>(runParams);
            foreach (var v in parms.Where(v => !v.IsScalar && _bar.ContainsKey(v.Id))) pullParams.Add(new CsParam(fields[_bar[v.Id]], _bar[v.Id]));
            var outputs = _devReduced.Values.Where(x => x.Output != null).ToList();
            foreach (var o in outputs) pullParams.Add(new CsParam(ViewOf(o.Type), o.Output!));
            var pullBody = new List<CsStmt> { Do(Call(N("Run"), runParams.Select(p => (CsArg)N(p.Name)).ToArray())) };
            pullBody.AddRange(setup);
            foreach (var v in parms.Where(v => !v.IsScalar && _bar.ContainsKey(v.Id))) pullBody.Add(Set(Member(args, _bar[v.Id]), N(_bar[v.Id])));
            var finish = _devReduced.Count > 0 ? FinishKernel(prelude, fields, views) : null;
            if (_devReduced.Count > 0 && finish == null) { whyNot = "the reverse of its set-up cannot run in a kernel"; return null; }
            if (_devReduced.Count > 0)
            {
                pullBody.Add(new CsComment("scalar adjoints: per-thread partial sums, reduced in a fixed order into these one-element sums"));
                pullBody.Add(new CsLocal(new CsType("var"), scratch, new CsVerbatim("new global::System.Collections.Generic.List<global::System.IDisposable>()")));
                foreach (var o in outputs)
                    pullBody.Add(new CsRawStmt("if (" + o.Output + ".Length < 1) throw new global::System.ArgumentException(\"" + o.Output + " must hold one element (the adjoint is added to it).\", nameof(" + o.Output + "));"));
                foreach (var o in outputs) pullBody.Add(Set(Member(args, o.Output!), N(o.Output!)));
                foreach (var sum in _devReduced.Values)
                {
                    string buf = Fresh("_buffer");
                    pullBody.Add(new CsLocal(new CsType("var"), buf, new CsVerbatim(accelerator + ".Allocate1D<" + sum.Type.Name + ">(1)")));
                    pullBody.Add(Do(Call(Member(scratch, "Add"), N(buf))));
                    pullBody.Add(Do(Call(Member("global::ILGPU.Runtime.ArrayViewExtensions", "MemSetToZero"), Member(buf, "View"))));
                    pullBody.Add(Set(Member(args, sum.Sum), Member(buf, "View")));
                }
            }
            pullBody.AddRange(reverse);
            if (finish != null)
            {
                kernels.Add(finish);
                pullBody.Add(new CsComment("kernel: the reverse of the set-up on the reduced sums; the parameters' adjoints are added to their views"));
                pullBody.AddRange(Launch("Finish", accelerator, args, CsLiteral.Int(1), caches));
                pullBody.Add(new CsComment("the scratch buffers are freed once the queued kernels are done"));
                pullBody.Add(Do(Call(Member(accelerator, "Synchronize"))));
                pullBody.Add(new CsRawStmt("foreach (var _b in " + scratch + ") _b.Dispose();"));
            }
            var launchers = new List<CsMethod>
            {
                new CsMethod("Runs <see cref=\"" + ContainingType() + "." + _m.Name + "\"/> on <paramref name=\"" + accelerator + "\"/> (arrays as views in its memory); the kernels are queued on its default stream.",
                    EquatableArray<string>.Empty, "public static", CsType.Void, "Run", runParams.ToEquatableArray(), Block(runBody)),
                new CsMethod("The pullback of <see cref=\"" + ContainingType() + "." + _m.Name + "\"/> on <paramref name=\"" + accelerator + "\"/>: runs it, then adds the adjoints of the array inputs (seeds in the outputs' adjoints are consumed)" + (outputs.Count > 0 ? " and those of the scalar parameters, to element 0 of their one-element views (deterministic sums; the call waits for the device before it returns)" : "") + ". Gathered adjoints are deterministic; atomic scatters add in any order.",
                    EquatableArray<string>.Empty, "public static", CsType.Void, "Pullback", pullParams.ToEquatableArray(), Block(pullBody)),
            };

            if (_devReduced.Count > 0)
                foreach (var ty in _devReduced.Values.Select(x => x.Type.Scalar).Distinct().OrderBy(x => x.ToString(), StringComparer.Ordinal))
                {
                    var (rc, rm) = ReduceHelpers(T(ty));
                    caches.AddRange(rc);
                    kernels.AddRange(rm);
                }
            var argsType = new CsNestedType("The views and values every kernel of this method reads.", "public struct Args",
                fields.Select(kv => new CsField(ArgType(kv.Value), kv.Key, Summary: "<c>" + kv.Key + "</c> as the kernels read it" + (kv.Value == CsType.Bool ? " (1 for true: ILGPU takes only blittable kernel arguments, and bool is not)." : "."))).ToEquatableArray(), EquatableArray<CsMethod>.Empty);
            string name = _m.Name + "Device" + OverloadSuffix();
            return new CsNestedType("<see cref=\"" + _m.Name + "\"/> as ILGPU kernels: <c>Run</c> and <c>Pullback</c> on views in an accelerator's memory (see docs/generated-code.md).",
                "public static class " + name, caches.ToEquatableArray(), launchers.Concat(kernels).ToEquatableArray(), new[] { argsType }.ToEquatableArray());
        }

        /// <summary>A scalar adjoint summed on the device: its per-thread partials, its one-element sum, the caller's view (parameters only).</summary>
        private sealed class DeviceSum
        {
            public DeviceSum(CsType type, string partials, string sum, string? output) { Type = type; Partials = partials; Sum = sum; Output = output; }

            public CsType Type { get; }

            public string Partials { get; }

            public string Sum { get; }

            public string? Output { get; }
        }

        private Dictionary<string, DeviceSum>? _devReduced;
        private Dictionary<string, List<string>>? _devKernelSums;
        private string? _devScratch;

        // ILGPU loads a kernel only if its argument struct is blittable, which bool is not: a bool parameter or set-up
        // local travels in Args as an int (1 for true) and each kernel turns it back into a bool local.
        private static CsType ArgType(CsType t) => t == CsType.Bool ? CsType.Int : t;

        private static CsExpr ToArg(CsType t, CsExpr value) => t == CsType.Bool ? new CsConditional(value, CsLiteral.Int(1), CsLiteral.Int(0)) : value;

        private static CsExpr FromArg(CsType t, CsExpr field) => t == CsType.Bool ? Bin("!=", field, CsLiteral.Int(0)) : field;

        private static bool HasReturn(CsStmt s) => s switch
        {
            CsReturn _ => true,
            CsBlock b => b.Stmts.Any(HasReturn),
            CsScope sc => sc.Body.Stmts.Any(HasReturn),
            CsIf i => HasReturn(i.Then) || i.Else != null && HasReturn(i.Else),
            CsFor f => HasReturn(f.Body),
            CsWhile w => HasReturn(w.Body),
            _ => false,
        };

        /// <summary>
        /// The one-thread kernel run after the reverse kernels: loads the reduced sums, runs the reverse of the
        /// scalar set-up (its locals' adjoints into the parameters'), and adds the parameters' adjoints to the caller's views.
        /// </summary>
        private CsMethod? FinishKernel(List<Assign> prelude, Dictionary<string, CsType> fields, HashSet<string> views)
        {
            var body = new List<CsStmt>();
            for (int k = prelude.Count - 1; k >= 0; k--) Reverse(prelude[k], body);
            foreach (var kv in _devReduced!.Where(kv => kv.Value.Output != null))
                body.Add(new CsAssign(new CsIndex(N(kv.Value.Output!), CsLiteral.Int(0)), "+=", N(kv.Key)));
            string index = Fresh("_index"), a = Fresh("_a");
            var use = new NameUse();
            foreach (var s in body) use.Stmt(s);
            if (use.Raw) return null;
            var stmts = new List<CsStmt>();
            foreach (var name in use.Reads.Concat(use.Writes).Distinct().OrderBy(x => x, StringComparer.Ordinal))
            {
                if (use.Declared.Contains(name) || name.IndexOf('.') >= 0 || name.IndexOf(':') >= 0) continue;
                if (_devReduced!.TryGetValue(name, out var sum))
                {
                    stmts.Add(new CsLocal(sum.Type, name, new CsIndex(Member(a, sum.Sum), CsLiteral.Int(0))));
                    continue;
                }
                if (use.Writes.Contains(name) || !fields.TryGetValue(name, out var ft)) return null;
                stmts.Add(new CsLocal(ft, name, FromArg(ft, Member(a, name))));
            }
            stmts.AddRange(body.Select(s => Device(s, views)));
            _devKernelSums!["Finish"] = new List<string>();
            return new CsMethod(null, EquatableArray<string>.Empty, "private static", CsType.Void, "Finish",
                new[] { new CsParam(new CsType("global::ILGPU.Index1D"), index), new CsParam(new CsType("Args"), a) }.ToEquatableArray(), Block(stmts));
        }

        /// <summary>
        /// The deterministic sum of per-thread partials of element type <paramref name="t"/>: passes of one thread
        /// per block of 256 consecutive partials (each summed in index order) until one value is left, then one
        /// thread adds it to the sum. The order of additions depends only on the count, never on scheduling.
        /// </summary>
        private static (List<CsField>, List<CsMethod>) ReduceHelpers(CsType t)
        {
            string e = t.Name, view = "global::ILGPU.ArrayView<" + e + ">", suffix = char.ToUpperInvariant(e[0]) + e.Substring(1);
            string pass = "_reducePass" + suffix, add = "_reduceAdd" + suffix;
            var caches = new List<CsField>
            {
                new CsField(new CsType("global::System.Runtime.CompilerServices.ConditionalWeakTable<global::ILGPU.Runtime.Accelerator, global::System.Action<global::ILGPU.Index1D, " + view + ", " + view + ", int>>"), pass, "private static readonly", new CsVerbatim("new()")),
                new CsField(new CsType("global::System.Runtime.CompilerServices.ConditionalWeakTable<global::ILGPU.Runtime.Accelerator, global::System.Action<global::ILGPU.Index1D, " + view + ", " + view + ">>"), add, "private static readonly", new CsVerbatim("new()")),
            };
            var index = new CsParam(new CsType("global::ILGPU.Index1D"), "_index");
            var methods = new List<CsMethod>
            {
                new CsMethod(null, EquatableArray<string>.Empty, "private static", CsType.Void, "ReducePass",
                    new[] { index, new CsParam(new CsType(view), "from"), new CsParam(new CsType(view), "to"), new CsParam(CsType.Int, "n") }.ToEquatableArray(),
                    Block(new CsStmt[]
                    {
                        new CsRawStmt("int start = _index * 256;"),
                        new CsRawStmt("int end = global::System.Math.Min(start + 256, n);"),
                        new CsRawStmt(e + " s = 0;"),
                        new CsRawStmt("for (int k = start; k < end; k++) s += from[k];"),
                        new CsRawStmt("to[_index] = s;"),
                    })),
                new CsMethod(null, EquatableArray<string>.Empty, "private static", CsType.Void, "ReduceAdd",
                    new[] { index, new CsParam(new CsType(view), "from"), new CsParam(new CsType(view), "sum") }.ToEquatableArray(),
                    Block(new CsStmt[] { new CsRawStmt("sum[0] += from[0];") })),
                new CsMethod("Adds the first <paramref name=\"n\"/> partials to <c>sum[0]</c> in a fixed order (kernels queued on the default stream; the pass buffers go to <paramref name=\"scratch\"/>).",
                    EquatableArray<string>.Empty, "private static", CsType.Void, "Reduce",
                    new[] { new CsParam(new CsType("global::ILGPU.Runtime.Accelerator"), "accelerator"), new CsParam(new CsType(view), "partials"), new CsParam(CsType.Int, "n"),
                        new CsParam(new CsType(view), "sum"), new CsParam(new CsType("global::System.Collections.Generic.List<global::System.IDisposable>"), "scratch") }.ToEquatableArray(),
                    Block(new CsStmt[]
                    {
                        new CsRawStmt("while (n > 1)"),
                        new CsRawStmt("{"),
                        new CsRawStmt("    int m = (n + 255) / 256;"),
                        new CsRawStmt("    var next = accelerator.Allocate1D<" + e + ">(m);"),
                        new CsRawStmt("    scratch.Add(next);"),
                        new CsRawStmt("    " + pass + ".GetValue(accelerator, static a => global::ILGPU.Runtime.KernelLoaders.LoadAutoGroupedStreamKernel<global::ILGPU.Index1D, " + view + ", " + view + ", int>(a, ReducePass))(m, partials, next.View, n);"),
                        new CsRawStmt("    partials = next.View;"),
                        new CsRawStmt("    n = m;"),
                        new CsRawStmt("}"),
                        new CsRawStmt(add + ".GetValue(accelerator, static a => global::ILGPU.Runtime.KernelLoaders.LoadAutoGroupedStreamKernel<global::ILGPU.Index1D, " + view + ", " + view + ">(a, ReduceAdd))(1, partials, sum);"),
                    })),
            };
            return (caches, methods);
        }

        private string ContainingType() => string.Join(".", _m.ContainingTypes.Select(t => t.Name));

        private static IEnumerable<Stmt> Flatten(Block b)
        {
            foreach (var s in b.Stmts)
            {
                if (s is Block inner) { foreach (var x in Flatten(inner)) yield return x; }
                else yield return s;
            }
        }

        /// <summary>A loop a kernel can run: nothing recorded, called, allocated, thrown or checked; inner loops counted.</summary>
        private bool KernelLoop(ForLoop f, out string? whyNot)
        {
            whyNot = null;
            var inside = new HashSet<int>(Walk.Descendants(f).Select(s => s.Id));
            if (_a.Pushes.Any(p => inside.Contains(p.Stmt)) || _a.TapedConditions.Any(inside.Contains)) { whyNot = "a loop records values for its reverse"; return false; }
            foreach (var s in Walk.Descendants(f.Body))
            {
                switch (s)
                {
                    case Call _: whyNot = "a loop calls another method"; return false;
                    case Alloc _: whyNot = "a loop allocates an array"; return false;
                    case ForwardOnly _: whyNot = "a loop holds a throw, a guard or another forward-only statement"; return false;
                    case WhileLoop _: whyNot = "a loop holds a while loop"; return false;
                    case ForLoop inner when !_a.ComputedTrips.ContainsKey(inner.Id): whyNot = "an inner loop's bounds change in the loop"; return false;
                }
            }
            return true;
        }

        /// <summary>The inner loop of a row-major nest (the body otherwise only recomputed inactive locals, bounds fixed by the outer loop).</summary>
        private ForLoop? FlatInner(ForLoop f)
        {
            var loops = f.Body.Stmts.OfType<ForLoop>().ToList();
            if (loops.Count != 1 || Walk.Descendants(f.Body).OfType<Loop>().Count() != 1 || Range(loops[0]) == null) return null;
            var m = loops[0];
            var written = Gather.WrittenIn(f, _callees);
            if (Analyzer.AllVars(m.Start).Concat(Analyzer.AllVars(_a.ComputedTrips[m.Id].Bound)).Any(written.Contains)) return null;
            foreach (var s in f.Body.Stmts)
                if (s != m && !(s is Assign d && d.Declares && d.Target is VarRef dv && _a.Recomputed.Contains(dv.Var) && !_a.Active[dv.Var])) return null;
            return m;
        }

        /// <summary>The host statements that put a loop's ranges into the kernel arguments (a view's length is its IntLength).</summary>
        private List<CsStmt> Ranges(DeviceLoop dl, string args, HashSet<string> views)
        {
            var (from, to) = Range(dl.Loop)!.Value;
            var list = new List<CsStmt> { Set(Member(args, dl.From), Device(from, views)), Set(Member(args, dl.To), Device(to, views)) };
            if (dl.Inner != null)
            {
                var (f2, t2) = Range(dl.Inner)!.Value;
                list.Add(Set(Member(args, dl.From2), Device(f2, views)));
                list.Add(Set(Member(args, dl.To2), Device(t2, views)));
            }
            return list;
        }

        /// <summary>The number of threads for [from, to) (times [from2, to2) in 2D), zero when empty.</summary>
        private static CsExpr Count(DeviceLoop dl, CsExpr from, CsExpr to, CsExpr? from2, CsExpr? to2)
        {
            CsExpr n = Call(Member(Names.Math, "Max"), Bin("-", to, from), CsLiteral.Int(0));
            if (from2 != null) n = Bin("*", n, Call(Member(Names.Math, "Max"), Bin("-", to2!, from2), CsLiteral.Int(0)));
            return n;
        }

        /// <summary>Launches kernel <paramref name="tag"/> over <paramref name="count"/> threads (compiled once per accelerator).</summary>
        private List<CsStmt> Launch(string tag, string accelerator, string args, CsExpr count, List<CsField> caches)
        {
            string cache = "_" + char.ToLowerInvariant(tag[0]) + tag.Substring(1);
            if (!caches.Any(c => c.Name == cache))
                caches.Add(new CsField(new CsType("global::System.Runtime.CompilerServices.ConditionalWeakTable<global::ILGPU.Runtime.Accelerator, global::System.Action<global::ILGPU.Index1D, Args>>"),
                    cache, "private static readonly", new CsVerbatim("new()")));
            string n = Fresh("_count");
            var load = Call(Member(cache, "GetValue"), N(accelerator), new CsVerbatim("static a => global::ILGPU.Runtime.KernelLoaders.LoadAutoGroupedStreamKernel<global::ILGPU.Index1D, Args>(a, " + tag + ")"));
            var then = new List<CsStmt>();
            var sums = _devKernelSums != null && _devKernelSums.TryGetValue(tag, out var used) ? used : new List<string>();
            var partials = new List<string>();
            foreach (var name in sums)
            {
                // One slot per thread; every thread writes its slot (zero when it has nothing to add).
                var sum = _devReduced![name];
                string buf = Fresh("_partials");
                partials.Add(buf);
                then.Add(new CsLocal(new CsType("var"), buf, new CsVerbatim(accelerator + ".Allocate1D<" + sum.Type.Name + ">(" + n + ")")));
                then.Add(Do(Call(Member(_devScratch!, "Add"), N(buf))));
                then.Add(Set(Member(args, sum.Partials), Member(buf, "View")));
            }
            then.Add(Do(Call(load, N(n), N(args))));
            for (int k = 0; k < sums.Count; k++)
                then.Add(Do(Call(N("Reduce"), N(accelerator), Member(partials[k], "View"), N(n), Member(args, _devReduced![sums[k]].Sum), N(_devScratch!))));
            return new List<CsStmt>
            {
                new CsLocal(CsType.Int, n, count),
                new CsIf(Bin(">", N(n), CsLiteral.Int(0)), Block(then), null),
            };
        }

        /// <summary>
        /// A kernel: thread <c>_index</c> takes iteration (p, q) of [from, to) x [from2, to2) (or element (jj, ii)
        /// of a gather box), reads what the body needs from the arguments, and runs the body.
        /// </summary>
        private CsMethod? Kernel(string tag, DeviceLoop dl, bool skipInterior, string? loP, string? hiP, string? loQ, string? hiQ, List<CsStmt> body,
            HashSet<string> privates, Dictionary<string, CsType> fields, HashSet<string> views,
            (string Jj, string Ii, CsExpr JFrom, CsExpr IFrom, CsExpr IWidth)? box = null)
        {
            string index = Fresh("_index"), a = Fresh("_a");
            CsExpr Arg(string f) => Member(a, f);
            var stmts = new List<CsStmt>();
            var declared = new HashSet<string>(StringComparer.Ordinal);
            string p = _vars[dl.Loop.Counter].Name;
            string? q = dl.Inner != null ? _vars[dl.Inner.Counter].Name : null;
            if (box is var (jj, ii, jFrom, iFrom, iWidth))
            {
                if (ii.Length > 0)
                {
                    stmts.Add(new CsLocal(CsType.Int, jj, Bin("+", MapArgs(jFrom, a, fields), Bin("/", N(index), MapArgs(iWidth, a, fields)))));
                    stmts.Add(new CsLocal(CsType.Int, ii, Bin("+", MapArgs(iFrom, a, fields), Bin("%", N(index), MapArgs(iWidth, a, fields)))));
                    declared.Add(ii);
                }
                else stmts.Add(new CsLocal(CsType.Int, jj, Bin("+", MapArgs(jFrom, a, fields), N(index))));
                declared.Add(jj);
            }
            else if (q != null)
            {
                var width = Bin("-", Arg(dl.To2), Arg(dl.From2));
                stmts.Add(new CsLocal(CsType.Int, p, Bin("+", Arg(dl.From), Bin("/", N(index), width))));
                stmts.Add(new CsLocal(CsType.Int, q, Bin("+", Arg(dl.From2), Bin("%", N(index), width))));
                declared.Add(p); declared.Add(q);
            }
            else
            {
                stmts.Add(new CsLocal(CsType.Int, p, Bin("+", Arg(dl.From), N(index))));
                declared.Add(p);
            }
            var use = new NameUse();
            foreach (var s in body) use.Stmt(s);
            if (use.Raw) return null;
            // Scalar adjoints this kernel adds to: a per-thread sum, stored in the thread's slot of the partial sums.
            var sums = _devReduced == null ? new List<string>()
                : _devReduced.Keys.Where(x => use.Uses(x) && !use.Declared.Contains(x)).OrderBy(x => x, StringComparer.Ordinal).ToList();
            if (sums.Any(x => !use.CompoundOnly(x)) || sums.Count > 0 && body.Any(HasReturn)) return null;
            var stores = sums.Select(x => (CsStmt)Set(new CsIndex(Arg(_devReduced![x].Partials), N(index)), N(x))).ToList();
            if (skipInterior)
            {
                // The boundary kernel runs over the whole range and leaves the interior to the other kernels.
                CsExpr inside = Bin("&&", Bin(">=", N(p), Arg(loP!)), Bin("<", N(p), Arg(hiP!)));
                if (q != null) inside = Bin("&&", inside, Bin("&&", Bin(">=", N(q), Arg(loQ!)), Bin("<", N(q), Arg(hiQ!))));
                var skip = sums.Select(x => (CsStmt)Set(new CsIndex(Arg(_devReduced![x].Partials), N(index)), Zero(_devReduced[x].Type.Scalar))).ToList();
                skip.Add(new CsReturn(null));
                stmts.Add(new CsIf(inside, Block(skip), null));
            }
            foreach (var x in sums)
            {
                stmts.Add(new CsLocal(_devReduced![x].Type, x, Zero(_devReduced[x].Type.Scalar)));
                declared.Add(x);
            }
            _devKernelSums![tag] = sums;
            var types = NameTypes();
            foreach (var name in use.Reads.Concat(use.Writes).Distinct().OrderBy(x => x, StringComparer.Ordinal))
            {
                if (use.Declared.Contains(name) || declared.Contains(name) || name.IndexOf('.') >= 0 || name.IndexOf(':') >= 0) continue;
                if (privates.Contains(name))
                {
                    if (!types.TryGetValue(name, out var pt) || !pt.IsReal && pt != CsType.Int && pt != CsType.Long && pt != CsType.Bool) return null;
                    stmts.Add(new CsLocal(pt, name, DefaultOf(pt)));
                    continue;
                }
                if (use.Writes.Contains(name) || !fields.TryGetValue(name, out var ft)) return null;
                stmts.Add(new CsLocal(ft, name, FromArg(ft, Arg(name))));
            }
            stmts.AddRange(body.Select(s => Device(s, views)));
            stmts.AddRange(stores);
            return new CsMethod(null, EquatableArray<string>.Empty, "private static", CsType.Void, tag,
                new[] { new CsParam(new CsType("global::ILGPU.Index1D"), index), new CsParam(new CsType("Args"), a) }.ToEquatableArray(), Block(stmts));
        }

        /// <summary>Host expressions of the launchers read the argument struct's fields where they name them.</summary>
        private static CsExpr MapArgs(CsExpr e, string a, Dictionary<string, CsType> fields) =>
            MapExpr(e, x => x is CsName n && fields.ContainsKey(n.Name) ? Member(a, n.Name) : null);

        /// <summary>The reverse of one loop: its kernels (added to <paramref name="kernels"/>) and the host statements that launch them.</summary>
        private List<CsStmt>? DeviceReverse(DeviceLoop dl, string tag, string args, string accelerator, Dictionary<string, CsType> fields, HashSet<string> views,
            List<CsMethod> kernels, List<CsField> caches)
        {
            var f = dl.Loop;
            var host = new List<CsStmt>(Ranges(dl, args, views));
            var privates = PrivateNames(f);
            var plan = Gather.Plan(f, _vars, _callees, _a);
            GatherParts? gp = plan != null && (plan.Inner != null) == (dl.Inner != null) && (plan.Inner == null || plan.Inner == dl.Inner) ? PrepareGather(f, plan) : null;
            var readOnly = new HashSet<string>(Scattered(f).Select(v => _bar[v]), StringComparer.Ordinal);
            if (gp == null)
            {
                // One thread per iteration, scattering with atomics.
                var body = new List<CsStmt>();
                _parallelDepth++;
                try
                {
                    if (dl.Inner != null) { body.AddRange(OuterDeclarations(f.Body, dl.Inner)); Reverse(dl.Inner.Body, body); }
                    else Reverse(f.Body, body);
                }
                finally { _parallelDepth--; }
                var sliced = Slice(body, DeviceEffect(readOnly, privates), privates.Contains, new HashSet<string>(StringComparer.Ordinal));
                if (sliced == null) return null;
                var k = Kernel(tag + "Reverse", dl, false, null, null, null, null, sliced, privates, fields, views);
                if (k == null) return null;
                kernels.Add(k);
                host.Add(new CsComment("kernel: the reverse of " + Describe(f).Trim('\'') + " (atomic scatters)"));
                host.AddRange(Launch(tag + "Reverse", accelerator, args, Count(dl, N(dl.From).With(args), N(dl.To).With(args), dl.Inner != null ? N(dl.From2).With(args) : null, dl.Inner != null ? N(dl.To2).With(args) : null), caches));
                return host;
            }

            // Gather form: the interior bounds on the host, then the kernels.
            var inner = plan!.Inner;
            string loP = Fresh("_lo"), hiP = Fresh("_hi");
            fields[loP] = CsType.Int; fields[hiP] = CsType.Int;
            host.Add(Interior(Member(args, dl.From), Member(args, dl.To), plan.OuterFacts, loP, hiP));
            host.Add(Set(Member(args, loP), N(loP)));
            host.Add(Set(Member(args, hiP), N(hiP)));
            string? loQ = null, hiQ = null;
            if (inner != null)
            {
                loQ = Fresh("_lo"); hiQ = Fresh("_hi");
                fields[loQ] = CsType.Int; fields[hiQ] = CsType.Int;
                host.Add(Interior(Member(args, dl.From2), Member(args, dl.To2), plan.InnerFacts!, loQ, hiQ));
                host.Add(Set(Member(args, loQ), N(loQ)));
                host.Add(Set(Member(args, hiQ), N(hiQ)));
            }
            int n = 0;
            foreach (var g in plan.Arrays)
            {
                var distinct = g.Reads.Select(r => (r.Dj, r.Di)).Distinct().ToList();
                int minJ = distinct.Min(o => o.Dj), maxJ = distinct.Max(o => o.Dj), minI = distinct.Min(o => o.Di), maxI = distinct.Max(o => o.Di);
                string jj = Fresh("_e"), ii = inner != null ? Fresh("_e") : "";
                var element = GatherElement(gp, g, guarded: true, Fresh("_acc"), Fresh("_hit"), jj, ii, loP, hiP, loQ, hiQ);
                CsExpr jFrom = Shift(N(loP), minJ), jTo = Shift(N(hiP), maxJ);
                CsExpr iFrom = inner != null ? Shift(N(loQ!), minI) : CsLiteral.Int(0), iTo = inner != null ? Shift(N(hiQ!), maxI) : CsLiteral.Int(0);
                CsExpr width = Bin("-", iTo, iFrom);
                string gtag = tag + "Gather" + (n++).ToString(CultureInfo.InvariantCulture);
                var k = Kernel(gtag, dl, false, loP, hiP, loQ, hiQ, element, gp.Privates, fields, views, (jj, ii, jFrom, iFrom, width));
                if (k == null) return null;
                kernels.Add(k);
                host.Add(new CsComment("kernel: gather " + _bar[g.Var] + " from the neighbouring iterations"));
                var count = Bin("*", Call(Member(Names.Math, "Max"), Bin("-", jTo, jFrom), CsLiteral.Int(0)), inner != null ? Call(Member(Names.Math, "Max"), width, CsLiteral.Int(0)) : (CsExpr)CsLiteral.Int(1));
                host.AddRange(Launch(gtag, accelerator, args, Simplifier.Simplify(count), caches));
            }
            // The interior's other contributions (scalar adjoints dropped, computed-index scatters atomic).
            {
                var needed = new HashSet<string>(StringComparer.Ordinal);
                var own = Slice(gp.Interior, s => gp.IsGathered(s) ? null : DeviceEffect(readOnly, gp.Privates)(s), gp.Privates.Contains, needed);
                if (own == null || gp.ReadsStale(needed)) return null;
                var body = new List<CsStmt>();
                foreach (var b in gp.PrivateBars.OrderBy(x => x, StringComparer.Ordinal))
                    if (needed.Contains(b)) body.Add(Set(N(b), Zero(TypeOfBar(b).Scalar)));
                body.AddRange(gp.OuterDecls);
                body.AddRange(own);
                var interior = new DeviceLoop(f, dl.Index) { Inner = dl.Inner, From = loP, To = hiP, From2 = loQ ?? "", To2 = hiQ ?? "" };
                var k = Kernel(tag + "Interior", interior, false, null, null, null, null, body, gp.Privates, fields, views);
                if (k == null) return null;
                kernels.Add(k);
                host.Add(new CsComment("kernel: the interior iterations' other contributions"));
                host.AddRange(Launch(tag + "Interior", accelerator, args, Count(interior, N(loP), N(hiP), loQ != null ? N(loQ) : null, hiQ != null ? N(hiQ) : null), caches));
            }
            // The boundary iterations as written, scattering with atomics into every array they read.
            if (plan.OuterFacts.HasInterior || plan.InnerFacts?.HasInterior == true)
            {
                var all = new HashSet<string>(readOnly, StringComparer.Ordinal);
                foreach (var g in plan.Arrays) all.Add(_bar[g.Var]);
                var sliced = Slice(gp.OriginalOuterDecls.Concat(gp.Original).ToList(), DeviceEffect(all, gp.Privates), gp.Privates.Contains, new HashSet<string>(StringComparer.Ordinal));
                if (sliced == null) return null;
                var k = Kernel(tag + "Boundary", dl, true, loP, hiP, loQ, hiQ, sliced, gp.Privates, fields, views);
                if (k == null) return null;
                kernels.Add(k);
                host.Add(new CsComment("kernel: the boundary iterations (atomic scatters)"));
                host.AddRange(Launch(tag + "Boundary", accelerator, args, Count(dl, Member(args, dl.From), Member(args, dl.To), inner != null ? Member(args, dl.From2) : null, inner != null ? Member(args, dl.To2) : null), caches));
            }
            return host;
        }

        /// <summary>
        /// Effects on the device: writes to names from outside dropped except the scalar adjoints summed on the
        /// device, accumulations into the arrays other threads may also add to made atomic.
        /// </summary>
        private Func<CsStmt, CsStmt?> DeviceEffect(HashSet<string> atomic, HashSet<string> privates) => s =>
        {
            if (s is CsAssign a)
            {
                if (a.Target is CsName n && !privates.Contains(n.Name)) return _devReduced != null && _devReduced.ContainsKey(n.Name) ? s : null;
                if (a.Target is CsIndex ix && ix.Target is CsName arr && atomic.Contains(arr.Name) && (a.Op == "+=" || a.Op == "-="))
                    return Do(Call(Member(IlgpuAtomic, "Add"), Ref(ix), a.Op == "-=" ? Neg(a.Value) : a.Value));
            }
            return s;
        };

        /// <summary>
        /// Code on views: <c>x.Length</c> of a span parameter is the view's <c>IntLength</c>, and <c>Math.Clamp</c>
        /// is <c>Math.Min(Math.Max(x, lo), hi)</c> (the same value when lo &lt;= hi; ILGPU cannot compile the
        /// exception Clamp throws otherwise).
        /// </summary>
        private static CsStmt Device(CsStmt s, HashSet<string> views) => MapExprs(s, x => Device(x, views));

        private static CsExpr Device(CsExpr e, HashSet<string> views) =>
            MapExpr(e, x => x switch
            {
                CsMember m when m.Name == "Length" && m.Target is CsName n && views.Contains(n.Name) => new CsMember(m.Target, "IntLength"),
                CsMath m when m.Function == "Clamp" && m.Args.Count == 3 =>
                    m with { Function = "Min", Args = new[] { m with { Function = "Max", Args = new[] { m.Args[0], m.Args[1] }.ToEquatableArray() }, m.Args[2] }.ToEquatableArray() },
                CsInvoke c when c.Target is CsMember t && t.Name == "Clamp" && t.Target is CsName mt && mt.Name == Names.Math && c.Args.Count == 3 =>
                    Call(Member(Names.Math, "Min"), Call(Member(Names.Math, "Max"), c.Args[0], c.Args[1]), c.Args[2]),
                _ => null,
            });

        // ------------------------------------------------------------------ tree mapping

        /// <summary>Rewrites every expression of a statement bottom-up (null keeps a node).</summary>
        private static CsStmt MapExprs(CsStmt s, Func<CsExpr, CsExpr?> f)
        {
            CsExpr E(CsExpr e) => MapExpr(e, f);
            CsBlock B(CsBlock b) => Block(b.Stmts.Select(x => MapExprs(x, f)));
            switch (s)
            {
                case CsBlock b: return B(b);
                case CsScope sc: return new CsScope(B(sc.Body));
                case CsLocal l: return l.Init == null ? l : l with { Init = E(l.Init) };
                case CsAssign a: return new CsAssign(E(a.Target), a.Op, E(a.Value));
                case CsExprStmt e: return new CsExprStmt(E(e.Expr));
                case CsIf i: return new CsIf(E(i.Condition), B(i.Then), i.Else == null ? null : B(i.Else));
                case CsFor fo: return new CsFor(fo.Init == null ? null : MapExprs(fo.Init, f), fo.Condition == null ? null : E(fo.Condition), fo.Step == null ? null : MapExprs(fo.Step, f), B(fo.Body));
                case CsWhile w: return new CsWhile(E(w.Condition), B(w.Body));
                case CsReturn r: return r.Value == null ? r : new CsReturn(E(r.Value));
                default: return s;
            }
        }

        private static CsExpr MapExpr(CsExpr e, Func<CsExpr, CsExpr?> f)
        {
            CsExpr E(CsExpr x) => MapExpr(x, f);
            CsArg A(CsArg a) => a with { Value = E(a.Value) };
            CsExpr rebuilt;
            switch (e)
            {
                case CsMember m: rebuilt = m with { Target = E(m.Target) }; break;
                case CsNew n: rebuilt = n with { Args = n.Args.Select(A).ToEquatableArray() }; break;
                case CsIndex ix: rebuilt = new CsIndex(E(ix.Target), E(ix.Index)); break;
                case CsInvoke inv: rebuilt = new CsInvoke(E(inv.Target), inv.Args.Select(A)); break;
                case CsMath m: rebuilt = m with { Args = m.Args.Select(E).ToEquatableArray() }; break;
                case CsUnary u: rebuilt = u with { Operand = E(u.Operand) }; break;
                case CsBinary b: rebuilt = new CsBinary(b.Op, E(b.Left), E(b.Right)); break;
                case CsConditional c: rebuilt = new CsConditional(E(c.Condition), E(c.WhenTrue), E(c.WhenFalse)); break;
                case CsCast c: rebuilt = c with { Operand = E(c.Operand) }; break;
                case CsNewArray na: rebuilt = na with { Length = E(na.Length) }; break;
                default: rebuilt = e; break;
            }
            return f(rebuilt) ?? rebuilt;
        }
    }

    internal static class DeviceExtensions
    {
        /// <summary>A name read from the argument struct <paramref name="args"/> (host code of the launchers).</summary>
        public static CsExpr With(this CsName n, string args) => new CsMember(new CsName(args), n.Name);
    }
}
