using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using DiffGen.Generator.Analysis;
using DiffGen.Generator.Emit;
using DiffGen.Generator.Ir;
using DiffGen.Generator.Rules;
using static DiffGen.Generator.Emit.Cs;

namespace DiffGen.Generator.Forward
{
    /// <summary>
    /// Builds <c>{Name}Pushforward</c> as an output tree: the primal code with a tangent beside every
    /// active value, in one pass and without a tape, each tangent the sum of the rule table's partials
    /// times the operands' tangents. Tangent code is written for one direction (<see cref="CsTangent"/>,
    /// <see cref="CsLanes"/>); <see cref="LaneRewrite"/> makes it the one-direction pushforward or the
    /// K-direction <c>{Name}PushforwardVector</c>, whose signature and calls differ here.
    /// </summary>
    internal sealed class ForwardTransformer
    {
        private readonly MethodModel _m;
        private readonly IReadOnlyList<Var> _vars;
        private readonly IReadOnlyList<Callee> _callees;
        private readonly Block _body;
        private readonly Analyzer _a;
        private readonly IrToCs _ir;
        private readonly Dictionary<int, string> _dot = new Dictionary<int, string>();
        private readonly NameSet _names;
        private readonly List<CsStmt> _decls = new List<CsStmt>();
        private readonly HashSet<int> _counters = new HashSet<int>();
        private readonly bool _vector;
        private string _k = "";
        private int _temp;

        private ForwardTransformer(MethodModel m, IReadOnlyList<Callee> callees, MethodAnalysis analysis, bool vector)
        {
            _vector = vector;
            _m = m;
            _callees = callees;
            _body = analysis.Body;
            _vars = analysis.Vars;
            _a = analysis.JointAnalyzer;
            _ir = new IrToCs(_vars);
            _names = new NameSet(_vars.Select(v => v.Name));
            foreach (var f in Walk.Descendants(_body).OfType<ForLoop>()) _counters.Add(f.Counter);
        }

        /// <summary><c>{Name}Pushforward</c>.</summary>
        public static CsMethod Build(MethodModel m, IReadOnlyList<Callee> callees, MethodAnalysis analysis)
        {
            var t = new ForwardTransformer(m, callees, analysis, vector: false);
            return LaneRewrite.OneDirection(t.BuildMethod());
        }

        /// <summary>
        /// <c>{Name}PushforwardVector</c>: one pass carries K tangent directions (element i of a span,
        /// direction q at index i*K + q), or null when a callee has no vector pushforward.
        /// </summary>
        public static CsMethod? BuildVector(MethodModel m, IReadOnlyList<Callee> callees, MethodAnalysis analysis, out string? whyNot)
        {
            var c = callees.FirstOrDefault(x => !x.VectorCapable);
            whyNot = c == null ? null : "it calls '" + c.Name + "', which has no vector pushforward (a hand-written derivative or a method of another assembly)";
            if (whyNot == null && analysis.Vars.Any(v => v.IsContainer || v.Aggregate))
                whyNot = "it uses structs or instance state (K tangents per field are not a value of the field's type)";
            if (whyNot == null && m.ReturnsArray)
                whyNot = CapabilityTable.ReturnsArrayReason;
            if (whyNot == null && analysis.Vars.Any(v => v.IsMultiDim))
                whyNot = "it uses multi-dimensional or jagged arrays (K directions are laid out along flat spans only)";
            if (whyNot != null) return null;
            var t = new ForwardTransformer(m, callees, analysis, vector: true);
            var method = t.BuildMethod();
            return LaneRewrite.Directions(method, t._k, t._names.Fresh("_q"));
        }

        private string Fresh(string hint) => _names.Fresh(Reverse.ReverseTransformer.Identifier(hint));

        private string Temp() => Fresh("_d" + (_temp++).ToString(CultureInfo.InvariantCulture));

        private static CsType T(Ty t) => CsType.Of(t);

        private static CsExpr Zero(Ty t) => CsLiteral.Zero(t);

        private CsExpr P(Expr e) => _ir.Convert(e);

        private CsTangent DotRef(int var) => new CsTangent(_dot[var], null);

        private Dictionary<int, string> _containerDot = new Dictionary<int, string>();
        private string? _thisDot;

        private static CsExpr Target(Callee callee, string? type, string name) =>
            callee.IsInstance ? Member(N("this"), name) : Member(type!, name);

        private static CsExpr PrimalCall(Callee callee, CsArg[] args)
        {
            if (callee.Operator != null)
                return args.Length == 2 ? Bin(callee.Operator, args[0].Value, args[1].Value) : callee.Operator == "-" ? Neg(args[0].Value) : args[0].Value;
            return Call(Target(callee, callee.TypeName, callee.Name), args);
        }

        private CsTangent DotElem(int var, Expr index, string? path = null) => new CsTangent(_dot[var], P(index), path);

        private static CsStmt Lanes(params CsStmt[] stmts) => new CsLanes(Block(stmts));

        // ------------------------------------------------------------------ method

        private CsMethod BuildMethod()
        {
            var parms = _vars.Where(v => v.Role == VarRole.Param).OrderBy(v => v.ParamIndex).ToList();
            var sig = new List<CsParam>();
            var checks = new List<CsStmt>();
            if (_vector)
            {
                _k = Fresh("directions");
                sig.Add(new CsParam(CsType.Int, _k));
                checks.Add(Throws(Bin("<", N(_k), CsLiteral.Int(1)), "new " + Names.ArgumentOutOfRangeException + "(nameof(" + _k + "), " + _k + ", \"At least one direction is needed.\")"));
            }
            // The tangent of this: a second instance holding the direction (first, as in the contract).
            var self = _vars.FirstOrDefault(v => v.Role == VarRole.This);
            string? thisDot = null;
            if (self != null && _vars.Any(v => v.Container == self.Id && v.IsReal && _a.Active[v.Id]))
            {
                thisDot = Fresh("thisDot");
                sig.Add(new CsParam(CsType.OfVar(self), thisDot, self.Storage == Storage.Struct ? "ref" : null));
                checks.Add(new CsRawStmt("global::System.ArgumentNullException.ThrowIfNull(" + thisDot + ");"));
                if (self.Storage == Storage.Struct) checks.RemoveAt(checks.Count - 1);
            }
            var containerDot = new Dictionary<int, string>();
            var outDots = new List<string>();
            foreach (var v in parms)
            {
                sig.Add(new CsParam(CsType.Param(v), v.Name, v.Modifier));
                if (v.Modifier == "out") outDots.Add(v.Name);
                // A ref/out value's tangent is ref/out too (in: by value).
                string? dotModifier = v.Modifier == "in" ? null : v.Modifier;
                if (v.Storage == Storage.Struct)
                {
                    if (!_vars.Any(l => l.Container == v.Id && l.IsReal && !l.NoDiff)) continue;
                    string sd = Fresh(v.Name + "Dot");
                    containerDot[v.Id] = sd;
                    sig.Add(new CsParam(CsType.OfVar(v), sd, dotModifier));
                    if (v.Modifier == "out") outDots.Add(sd);
                    continue;
                }
                if (!v.IsReal || v.NoDiff) continue;
                string dot = Fresh(v.Name + (_vector ? "Dots" : "Dot"));
                _dot[v.Id] = dot;
                if (_vector)
                {
                    sig.Add(new CsParam(v.IsWritableSpan ? CsType.SpanOf(CsType.ElementOf(v)) : CsType.ReadOnlySpanOf(CsType.ElementOf(v)), dot));
                    CsExpr expected = v.IsScalar ? N(_k) : Bin("*", ArrayShapes.Length(v, N(v.Name)), N(_k));
                    checks.Add(Throws(Bin("!=", Member(dot, "Length"), expected), "new " + Names.ArgumentException + "(\"" + dot + " must hold "
                        + (v.IsScalar ? "one tangent per direction" : v.Name + (v.IsList ? ".Count" : ".Length") + " tangents per direction (element i, direction q at i * directions + q)") + "\", nameof(" + dot + "))"));
                }
                else
                {
                    // A multi-dimensional or jagged array's tangent is an array of the same shape.
                    sig.Add(new CsParam(v.IsScalar ? T(v.Elem) : v.IsMultiDim || v.IsList ? CsType.Param(v) : v.Storage == Storage.ReadOnlySpan ? CsType.ReadOnlySpanOf(CsType.ElementOf(v)) : CsType.SpanOf(CsType.ElementOf(v)), dot, v.IsScalar ? dotModifier : null));
                    if (v.IsMultiDim) checks.Add(ArrayShapes.RequireSameShape(v, dot));
                    if (v.Modifier == "out") outDots.Add(dot);
                }
            }
            string? resultDots = null;
            bool realResultSig = _m.ReturnType == Ty.Double || _m.ReturnType == Ty.Float;
            if (_vector && realResultSig)
            {
                resultDots = Fresh("resultDots");
                sig.Add(new CsParam(CsType.SpanOf(T(_m.ReturnType)), resultDots));
                checks.Add(Throws(Bin("!=", Member(resultDots, "Length"), N(_k)), "new " + Names.ArgumentException + "(\"" + resultDots + " must hold one tangent per direction\", nameof(" + resultDots + "))"));
            }
            foreach (var v in _vars)
                if (v.Storage == Storage.Struct && v.Role != VarRole.Param && v.Role != VarRole.This && _vars.Any(l => l.Container == v.Id && _a.Active[l.Id]))
                    containerDot[v.Id] = Fresh(v.Name.TrimStart('_') + "Dot");
            _containerDot = containerDot;
            _thisDot = thisDot;
            foreach (var v in _vars)
            {
                if (v.Role == VarRole.Param || !_a.Active[v.Id]) continue;
                if (v.IsLeaf)
                {
                    // A field's tangent is the same field of the container's tangent (thisDot.T, rDot.X).
                    var c = _vars[v.Container];
                    string? cd = c.Role == VarRole.This ? thisDot : containerDot.TryGetValue(c.Id, out var d) ? d : null;
                    if (cd != null) _dot[v.Id] = v.Accessor == null ? cd + v.Path
                        : c.Role == VarRole.This ? v.Accessor + "(" + cd + ")" + v.Path
                        : v.Accessor.Replace(Lowering.Lowerer.ContainerSlot, cd);
                    continue;
                }
                _dot[v.Id] = Fresh(v.Name.TrimStart('_') + (_vector ? "Dots" : "Dot"));
            }
            if (_vector)
            {
                // A reassigned scalar parameter needs writable lanes: copy its read-only tangents.
                foreach (var v in parms)
                {
                    if (!v.IsScalar || !_dot.ContainsKey(v.Id) || !Walk.Descendants(_body).Any(s => s is Assign a && a.Target is VarRef r && r.Var == v.Id)) continue;
                    string local = Fresh(v.Name + "DotsLocal");
                    _decls.Add(new CsLocal(CsType.ArrayOf(T(v.Elem)), local, Call(Member(_dot[v.Id], "ToArray"))));
                    _dot[v.Id] = local;
                }
            }

            var body = new List<CsStmt>();
            Stmt(_body, body);

            bool realResult = realResultSig && !_vector;
            var ret = _m.ReturnType == Ty.Other ? new CsType("(" + _m.ReturnTypeName + " Value, " + _m.ReturnTypeName + " Tangent)")
                : realResult ? new CsType("(" + CsType.Of(_m.ReturnType).Name + " Value, " + CsType.Of(_m.ReturnType).Name + " Tangent)") : T(_m.ReturnType);
            // After the argument checks: vector mode allocates its scratch lanes between the two.
            checks.AddRange(ArrayShapes.OverlapChecks(parms, v => ArrayShapes.Writes(_body, v.Id, _callees), _m.Name));
            var w = new List<CsStmt>(checks);
            foreach (var kv in containerDot)
                if (_vars[kv.Key].Role != VarRole.Param) w.Add(new CsLocal(CsType.OfVar(_vars[kv.Key]), kv.Value, new CsVerbatim("default")));
            foreach (var v in _vars)
            {
                if (v.Role == VarRole.Param || v.Role == VarRole.This || v.IsLeaf || _counters.Contains(v.Id)) continue;
                if (v.Storage == Storage.Struct) { w.Add(new CsLocal(CsType.OfVar(v), v.Name, new CsVerbatim("default"))); continue; }
                if (v.Elem == Ty.Other) w.Add(new CsLocal(CsType.OfVar(v), v.Name, new CsVerbatim("default!")));
                else if (v.Storage == Storage.Scalar) w.Add(new CsLocal(T(v.Elem), v.Name, Zero(v.Elem)));
                else w.Add(new CsLocal(CsType.OfVar(v), v.Name, ArrayShapes.Empty(v)));
                if (_a.Active[v.Id])
                {
                    if (v.Storage == Storage.Scalar && !_vector) w.Add(new CsLocal(T(v.Elem), _dot[v.Id], Zero(v.Elem)));
                    else if (v.Storage == Storage.Scalar) w.Add(new CsLocal(CsType.ArrayOf(T(v.Elem)), _dot[v.Id], new CsNewArray(T(v.Elem), N(_k))));
                    else w.Add(new CsLocal(CsType.OfVar(v), _dot[v.Id], ArrayShapes.Empty(v)));
                }
            }
            w.AddRange(_decls);
            // An out value and its tangent must be assigned on every path (early returns become flags the compiler
            // cannot follow): both start at zero.
            foreach (var d in outDots) w.Add(Set(N(d), new CsVerbatim("default")));
            w.AddRange(body);
            foreach (var sw in _m.FinalSwaps)
            {
                // The method ends by swapping two array fields; their tangents follow.
                w.Add(Reverse.ReverseTransformer.SwapStmt(N(_vars[sw.A].Name), N(_vars[sw.B].Name)));
                if (thisDot != null) w.Add(Reverse.ReverseTransformer.SwapStmt(N(thisDot + _vars[sw.A].Path), N(thisDot + _vars[sw.B].Path)));
            }
            if (_a.ResultVar >= 0 && _vars[_a.ResultVar].IsContainer)
            {
                var rv = _a.ResultVar;
                w.Add(new CsReturn(new CsVerbatim("(" + _vars[rv].Name + ", " + (containerDot.TryGetValue(rv, out var rcd) ? rcd : "default") + ")")));
            }
            else if (_a.ResultVar >= 0 && _vars[_a.ResultVar].Storage == Storage.Array)
            {
                // An array result comes back with its tangent, an array of the same shape.
                var rv = _vars[_a.ResultVar];
                w.Add(new CsReturn(new CsVerbatim("(" + (_m.ResultAlias ?? rv.Name) + ", " + (_dot.TryGetValue(rv.Id, out var ad) ? ad : CsPrinter.Expr(ArrayShapes.ZerosLike(rv, N(rv.Name)))) + ")")));
            }
            else if (_a.ResultVar >= 0)
            {
                var rv = _a.ResultVar;
                if (realResult)
                {
                    w.Add(new CsReturn(new CsVerbatim("(" + _vars[rv].Name + ", " + (_dot.TryGetValue(rv, out var rd) ? rd : CsPrinter.Expr(Zero(_m.ReturnType))) + ")")));
                }
                else
                {
                    if (resultDots != null)
                    {
                        if (_dot.ContainsKey(rv)) w.Add(Do(Call(Member(new CsCast(CsType.ReadOnlySpanOf(T(_m.ReturnType)), N(_dot[rv])), "CopyTo"), N(resultDots))));
                        else w.Add(Do(Call(Member(resultDots, "Clear"))));
                    }
                    w.Add(new CsReturn(N(_vars[rv].Name)));
                }
            }
            string summary = _vector
                ? "Vector forward mode of <see cref=\"" + _m.Name + "\"/>: one pass carries <c>directions</c> tangents (see docs/generated-code.md)."
                : "Forward-mode derivative of <see cref=\"" + _m.Name + "\"/>: returns its result with the tangent along the given input tangents (see docs/generated-code.md).";
            return new CsMethod(summary, EquatableArray<string>.Empty, _m.IsInstance ? _m.Accessibility : _m.Accessibility + " static", ret,
                _m.Name + (_vector ? "PushforwardVector" : "Pushforward"), sig.ToEquatableArray(), Block(w));
        }

        private static CsStmt Throws(CsExpr condition, string exception) =>
            new CsIf(condition, Block(new CsRawStmt("throw " + exception + ";")), null);


        // ------------------------------------------------------------------ statements

        private void Stmt(Stmt s, List<CsStmt> w)
        {
            switch (s)
            {
                case Block b:
                    foreach (var c in b.Stmts) Stmt(c, w);
                    break;
                case Assign a:
                    {
                        int tv = Analyzer.TargetVar(a.Target);
                        if (!_a.Active[tv])
                        {
                            w.Add(Set(P(a.Target), P(a.Value)));
                            break;
                        }
                        var tan = Tan(a.Value) ?? Zero(a.Target.Type);
                        CsExpr dotTarget = a.Target is VarRef ? DotRef(tv) : DotElem(tv, ((ElemRef)a.Target).Index, ((ElemRef)a.Target).Path);
                        if (Walk.Uses(a.Value, tv))
                        {
                            // The tangent reads the old value, so it is computed before the assignment.
                            string d = Temp();
                            w.Add(Lanes(new CsTangentLocal(T(a.Target.Type), d, tan)));
                            w.Add(Set(P(a.Target), P(a.Value)));
                            w.Add(Lanes(Set(dotTarget, new CsTangent(d, null))));
                        }
                        else
                        {
                            w.Add(Lanes(Set(dotTarget, tan)));
                            w.Add(Set(P(a.Target), P(a.Value)));
                        }
                        break;
                    }
                case Alloc al when _vars[al.Var].IsMultiDim:
                    {
                        // new T[n, m] or new T[n][] (its rows follow), and the same for the tangent.
                        var v = _vars[al.Var];
                        var alloc = new CsNewArray(v.Jagged ? CsType.ArrayOf(T(v.Elem)) : T(v.Elem), P(al.Length));
                        w.Add(Set(N(v.Name), alloc));
                        if (_a.Active[al.Var]) w.Add(Set(N(_dot[al.Var]), alloc));
                        break;
                    }
                case RowAlloc ra:
                    {
                        var v = _vars[ra.Var];
                        var row = new CsNewArray(T(v.Elem), P(ra.Length));
                        w.Add(Set(new CsIndex(N(v.Name), P(ra.Row)), row));
                        if (_a.Active[ra.Var]) w.Add(Set(new CsIndex(N(_dot[ra.Var]), P(ra.Row)), row));
                        break;
                    }
                case Alloc al:
                    {
                        var v = _vars[al.Var];
                        w.Add(Set(N(v.Name), new CsNewArray(CsType.ElementOf(v), P(al.Length))));
                        if (_a.Active[al.Var])
                            w.Add(Set(N(_dot[al.Var]), new CsNewArray(CsType.ElementOf(v), _vector ? Bin("*", Member(v.Name, "Length"), N(_k)) : Member(v.Name, "Length"))));
                        break;
                    }
                case If i:
                    {
                        var then = new List<CsStmt>();
                        Stmt(i.Then, then);
                        var els = new List<CsStmt>();
                        Stmt(i.Else, els);
                        w.Add(new CsIf(P(i.Condition), Block(then), els.Count > 0 ? Block(els) : null));
                        break;
                    }
                case ForLoop l:
                    {
                        foreach (var c in l.Init.Stmts) Stmt(c, w);
                        var i = N(_vars[l.Counter].Name);
                        CsStmt step = l.Step == 1 ? Do(new CsVerbatim(i.Name + "++")) : l.Step == -1 ? Do(new CsVerbatim(i.Name + "--"))
                            : new CsAssign(i, l.Step > 0 ? "+=" : "-=", CsLiteral.Int(System.Math.Abs(l.Step)));
                        var body = new List<CsStmt>();
                        Stmt(l.Body, body);
                        w.Add(new CsFor(new CsLocal(T(_vars[l.Counter].Elem), i.Name, P(l.Start)), P(l.Condition), step, Block(body)));
                        break;
                    }
                case WhileLoop l:
                    {
                        Stmt(l.Init, w);
                        var body = new List<CsStmt>();
                        Stmt(l.Body, body);
                        Stmt(l.Step, body);
                        w.Add(new CsWhile(P(l.Condition), Block(body)));
                        break;
                    }
                case Call c:
                    if (_vector) VectorCall(c, _callees[c.Callee], w);
                    else if (_callees[c.Callee].PushforwardName != null) PushforwardCall(c, _callees[c.Callee], w);
                    else CallThroughPullback(c, _callees[c.Callee], w);
                    break;
                case ForwardOnly t:
                    w.Add(new CsRawStmt(t.Text));
                    break;
            }
        }

        private void PushforwardCall(Call c, Callee callee, List<CsStmt> w)
        {
            var rv = c.ResultVar;
            bool realResult = callee.Return == Ty.Double || callee.Return == Ty.Float || callee.Return == Ty.Other;
            var args = new List<CsArg>();
            if (callee.IsInstance && callee.UsesThis)
            {
                // A struct's pushforwards take ref S thisDot; with no active field here, a zero tangent.
                var self = _vars.First(v => v.Role == VarRole.This);
                if (self.Storage != Storage.Struct)
                    args.Add(_thisDot != null ? N(_thisDot) : (CsExpr)Call(Member(N("this"), "CreateShadow")));
                else if (_thisDot != null)
                    args.Add(Ref(N(_thisDot)));
                else
                {
                    string t = Temp();
                    w.Add(new CsLocal(CsType.OfVar(self), t, new CsVerbatim("default")));
                    args.Add(Ref(N(t)));
                }
            }
            for (int k = 0; k < c.Args.Count; k++)
            {
                var p = callee.Params[k];
                var arg = c.Args[k];
                if (p.Modifier != null)
                {
                    // ref x, ref xDot (out x, out xDot): the callee updates both in place.
                    args.Add(new CsArg(P(arg), p.Modifier));
                    if (!p.HasAdjoint) continue;
                    int rv2 = ((VarRef)arg).Var;
                    if (_dot.ContainsKey(rv2)) args.Add(new CsArg(DotRef(rv2), p.Modifier));
                    else
                    {
                        string t = Temp();
                        w.Add(new CsLocal(T(p.Elem), t, Zero(p.Elem)));
                        args.Add(new CsArg(N(t), p.Modifier));
                    }
                    continue;
                }
                args.Add(P(arg));
                if (!p.HasAdjoint) continue;
                if (p.Storage == Storage.Struct) args.Add(_containerDot.TryGetValue(((VarRef)arg).Var, out var cd) ? N(cd) : (CsExpr)new CsVerbatim("default"));
                else if (p.Storage == Storage.Scalar) args.Add(Tan(arg) ?? Zero(p.Elem));
                else
                {
                    var sv = _vars[((VarRef)arg).Var];
                    args.Add(_dot.TryGetValue(sv.Id, out var d) ? N(d) : ArrayShapes.ZerosLike(sv, N(sv.Name)));
                }
            }
            var call = Call(Target(callee, callee.PushforwardType, callee.PushforwardName!), args.ToArray());
            if (rv >= 0 && realResult)
            {
                string t = Temp();
                w.Add(new CsLocal(CsType.Var, t, call));
                w.Add(Set(N(_vars[rv].Name), Member(t, "Value")));
                if (_dot.ContainsKey(rv)) w.Add(Set(DotRef(rv), Member(t, "Tangent")));
                if (_containerDot.TryGetValue(rv, out var rd)) w.Add(Set(N(rd), Member(t, "Tangent")));
            }
            else if (rv >= 0) w.Add(Set(N(_vars[rv].Name), call));
            else w.Add(Do(call));
        }

        private void VectorCall(Call c, Callee callee, List<CsStmt> w)
        {
            var rv = c.ResultVar;
            bool realResult = callee.Return == Ty.Double || callee.Return == Ty.Float;
            var args = new List<CsArg> { N(_k) };
            for (int k = 0; k < c.Args.Count; k++)
            {
                var p = callee.Params[k];
                var arg = c.Args[k];
                args.Add(P(arg));
                if (!p.HasAdjoint) continue;
                if (p.Storage == Storage.Scalar)
                {
                    // Allocated once for the whole method, refilled at each call.
                    string t = Temp();
                    _decls.Add(new CsLocal(CsType.ArrayOf(T(p.Elem)), t, new CsNewArray(T(p.Elem), N(_k))));
                    w.Add(Lanes(Set(new CsTangent(t, null), Tan(arg) ?? Zero(p.Elem))));
                    args.Add(N(t));
                }
                else
                {
                    var sv = _vars[((VarRef)arg).Var];
                    args.Add(_dot.TryGetValue(sv.Id, out var d) ? N(d) : (CsExpr)new CsNewArray(T(p.Elem), Bin("*", Member(sv.Name, "Length"), N(_k))));
                }
            }
            if (realResult) args.Add(rv >= 0 && _dot.ContainsKey(rv) ? N(_dot[rv]) : (CsExpr)new CsNewArray(T(callee.Return), N(_k)));
            var call = Call(Target(callee, callee.TypeName, callee.Name + "PushforwardVector"), args.ToArray());
            w.Add(rv >= 0 ? Set(N(_vars[rv].Name), call) : Do(call));
        }

        /// <summary>
        /// A callee with only a (hand-written) pullback: its Jacobian-vector product is assembled from
        /// one pullback call per output entry, each seeded with a unit adjoint. Exact, but costs as
        /// many reverse passes as the callee has outputs (register a pushforward to avoid that).
        /// </summary>
        private void CallThroughPullback(Call c, Callee callee, List<CsStmt> outer)
        {
            if (callee.ReturnsArray || callee.Return == Ty.Other)
                throw new System.NotSupportedException("'" + callee.Name + "' has only a hand-written pullback and returns a struct, a tuple or an array: register its pushforward too ([DerivativeOf(…, Kind = DerivativeKind.Pushforward)])");
            if (c.Args.Any(a => a is VarRef r && _vars[r.Var].IsList))
                throw new System.NotSupportedException("'" + callee.Name + "' has only a hand-written pullback and is passed a List<T>: register its pushforward too ([DerivativeOf(…, Kind = DerivativeKind.Pushforward)])");
            if (callee.Params.Any(p => p.Rank > 1))
                throw new System.NotSupportedException("'" + callee.Name + "' has only a hand-written pullback and takes a multi-dimensional or jagged array: register its pushforward too ([DerivativeOf(…, Kind = DerivativeKind.Pushforward)])");
            var w = new List<CsStmt>();
            var rv = c.ResultVar;
            bool realResult = callee.Return == Ty.Double || callee.Return == Ty.Float;
            var inputs = new List<(int K, CalleeParam P)>();
            var outputs = new List<(int K, CalleeParam P)>();
            for (int k = 0; k < c.Args.Count; k++)
            {
                var p = callee.Params[k];
                if (!p.HasAdjoint) continue;
                inputs.Add((k, p));
                if (p.Storage != Storage.Scalar && p.Writes) outputs.Add((k, p));
            }
            CsExpr Copy(Ty elem, CsExpr span) => Call(Member(new CsCast(CsType.ReadOnlySpanOf(T(elem)), span), "ToArray"));
            // Primal inputs as they were before the call: every pullback call re-runs the callee from them.
            var primal = new List<CsExpr>();
            var saved = new Dictionary<int, string>();
            for (int k = 0; k < c.Args.Count; k++)
            {
                var p = callee.Params[k];
                if (p.Storage == Storage.Scalar) { primal.Add(P(c.Args[k])); continue; }
                var sv = _vars[((VarRef)c.Args[k]).Var];
                if (p.Writes)
                {
                    string copy = Temp();
                    w.Add(new CsLocal(CsType.Var, copy, Copy(sv.Elem, N(sv.Name))));
                    saved[k] = copy;
                }
                primal.Add(N(sv.Name));
            }
            // Tangents of the inputs (and of the outputs' entry contents, which in-place callees read).
            var inDot = new Dictionary<int, CsExpr>();
            foreach (var (k, p) in inputs)
            {
                if (p.Storage == Storage.Scalar) inDot[k] = Tan(c.Args[k]) ?? Zero(p.Elem);
                else
                {
                    var sv = _vars[((VarRef)c.Args[k]).Var];
                    if (_dot.TryGetValue(sv.Id, out var d))
                    {
                        string copy = Temp();
                        w.Add(new CsLocal(CsType.Var, copy, Copy(p.Elem, N(d))));
                        inDot[k] = N(copy);
                    }
                }
            }
            // One reverse pass: fresh copies of the inputs, a unit seed, then <bar, inputDot>.
            void Row(int seedParam, CsExpr? seedIndex, CsExpr target, List<CsStmt> into)
            {
                var args = new List<CsArg>();
                var bars = new List<CsArg>();
                CsExpr? dot = null;
                for (int k = 0; k < c.Args.Count; k++)
                {
                    var p = callee.Params[k];
                    if (p.Storage != Storage.Scalar && saved.TryGetValue(k, out var s))
                    {
                        string fresh = Temp();
                        into.Add(new CsLocal(CsType.Var, fresh, Copy(p.Elem, N(s))));
                        args.Add(N(fresh));
                    }
                    else args.Add(primal[k]);
                }
                if (realResult) args.Add(seedParam < 0 ? CsLiteral.One(callee.Return) : Zero(callee.Return));
                foreach (var (k, p) in inputs)
                {
                    string bar = Temp();
                    if (p.Storage == Storage.Scalar)
                    {
                        into.Add(new CsLocal(T(p.Elem), bar, Zero(p.Elem)));
                        bars.Add(Ref(N(bar)));
                    }
                    else
                    {
                        into.Add(new CsLocal(CsType.Var, bar, new CsNewArray(T(p.Elem), Member(_vars[((VarRef)c.Args[k]).Var].Name, "Length"))));
                        if (seedParam == k) into.Add(Set(new CsIndex(N(bar), seedIndex!), CsLiteral.One(p.Elem)));
                        bars.Add(N(bar));
                    }
                    if (!inDot.TryGetValue(k, out var d)) continue;
                    CsExpr term = p.Storage == Storage.Scalar ? Bin("*", N(bar), d) : Call(Member(Names.Helpers, "Dot"), N(bar), d);
                    dot = dot == null ? term : Bin("+", dot, term);
                }
                into.Add(Do(Call(Member(callee.PullbackType!, callee.PullbackName!), args.Concat(bars).ToArray())));
                into.Add(Set(target, dot ?? CsLiteral.Int(0)));
            }
            string? resultTangent = null;
            if (realResult && rv >= 0 && _dot.ContainsKey(rv))
            {
                resultTangent = Temp();
                w.Add(new CsLocal(T(callee.Return), resultTangent, Zero(callee.Return)));
                Row(-1, null, N(resultTangent), w);
            }
            foreach (var (k, p) in outputs)
            {
                var sv = _vars[((VarRef)c.Args[k]).Var];
                if (!_dot.TryGetValue(sv.Id, out var outDot)) continue;
                string j = Temp();
                string dOut = Temp();
                w.Add(new CsLocal(CsType.Var, dOut, new CsNewArray(T(p.Elem), Member(sv.Name, "Length"))));
                var row = new List<CsStmt>();
                Row(k, N(j), new CsIndex(N(dOut), N(j)), row);
                w.Add(new CsFor(new CsLocal(CsType.Int, j, CsLiteral.Int(0)), Bin("<", N(j), Member(sv.Name, "Length")), Do(new CsVerbatim(j + "++")), Block(row)));
                w.Add(Do(Call(Member(new CsCast(CsType.ReadOnlySpanOf(T(p.Elem)), N(dOut)), "CopyTo"), N(outDot))));
            }
            // Finally the primal call itself, which leaves the outputs in place.
            var call = PrimalCall(callee, primal.Select(x => (CsArg)x).ToArray());
            w.Add(rv >= 0 ? Set(N(_vars[rv].Name), call) : Do(call));
            if (resultTangent != null) w.Add(Set(DotRef(rv), N(resultTangent)));
            outer.Add(new CsScope(Block(w)));
        }

        // ------------------------------------------------------------------ tangents

        /// <summary>The tangent of e for one direction, or null when e is inactive (tangent zero).</summary>
        private CsExpr? Tan(Expr e)
        {
            if (!_a.IsActiveExpr(e)) return null;
            switch (e)
            {
                case VarRef v: return DotRef(v.Var);
                case ElemRef el: return DotElem(el.Var, el.Index, el.Path);
                case Unary u when u.Op == UnOp.Neg: return Simplifier.Simplify(Neg(Tan(u.Operand)!));
                case Cast c: return new CsCast(T(c.Type), Tan(c.Operand)!);
                case Binary b: return Sum(new[] { b.Left, b.Right }, DerivativeRules.Partials(b), e.Type);
                case Conditional c: return Sum(new[] { c.WhenTrue, c.WhenFalse }, DerivativeRules.Partials(c), e.Type);
                case MathCall m: return Sum(m.Args.ToArray(), DerivativeRules.Partials(m), e.Type);
                default: return null;
            }
        }

        /// <summary>
        /// Σ ∂e/∂argᵢ · tan(argᵢ). Selections (conditional partials) split the sum: <c>c ? Σ_then : Σ_else</c>,
        /// so min/max/clamp pass one operand's tangent on instead of multiplying by 0 and 1.
        /// </summary>
        private CsExpr? Sum(IReadOnlyList<Expr> args, IReadOnlyList<Expr?> partials, Ty t)
        {
            var split = partials.OfType<Conditional>().FirstOrDefault(p => args.Where((a, i) => partials[i] == p).Any(_a.IsActiveExpr));
            if (split != null)
            {
                var condition = Simplifier.Simplify(P(split.Condition));
                var known = Simplifier.Truth(condition);
                Expr? Resolve(Expr? p, bool branch) => p is Conditional c && c.Condition.Equals(split.Condition) ? (branch ? c.WhenTrue : c.WhenFalse) : p;
                if (known is bool k) return Sum(args, partials.Select(p => Resolve(p, k)).ToList(), t);
                var whenTrue = Sum(args, partials.Select(p => Resolve(p, true)).ToList(), t);
                var whenFalse = Sum(args, partials.Select(p => Resolve(p, false)).ToList(), t);
                if (whenTrue == null && whenFalse == null) return null;
                return new CsConditional(condition, whenTrue ?? Zero(t), whenFalse ?? Zero(t));
            }
            CsExpr? sum = null;
            for (int i = 0; i < args.Count; i++)
            {
                if (partials[i] == null || DerivativeRules.IsZero(partials[i]!)) continue;
                var ta = Tan(args[i]);
                if (ta == null) continue;
                var term = Simplifier.Simplify(Bin("*", ta, P(partials[i]!)));
                sum = sum == null ? term : Simplifier.Simplify(Bin("+", sum, term));
            }
            return sum;
        }
    }
}
