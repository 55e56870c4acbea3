using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using DiffGen.Generator.Analysis;
using DiffGen.Generator.Emit;
using DiffGen.Generator.Ir;

namespace DiffGen.Generator.Forward
{
    /// <summary>
    /// Builds <c>{Name}Pushforward</c>: the primal code with a tangent computed beside every active
    /// value, in one pass and without a tape. Each assignment computes the tangent of its right-hand
    /// side from the values before the assignment, then assigns both.
    /// </summary>
    internal sealed class PushforwardEmitter
    {
        private readonly MethodModel _m;
        private readonly IReadOnlyList<Var> _vars;
        private readonly IReadOnlyList<Callee> _callees;
        private readonly Block _body;
        private readonly Analyzer _a;
        private readonly ExprPrinter _p;
        private readonly Dictionary<int, string> _dot = new Dictionary<int, string>();
        private readonly NameSet _names;
        private readonly List<string> _decls = new List<string>();
        private int _temp;
        private readonly bool _vector;
        private string _k = "";
        private const string Q = "_q";
        private readonly Dictionary<Ty, string> _scratch = new Dictionary<Ty, string>();

        private PushforwardEmitter(MethodModel m, IReadOnlyList<Callee> callees, MethodAnalysis analysis, bool vector = false)
        {
            _vector = vector;
            _m = m;
            _callees = callees;
            _body = analysis.Body;
            _vars = analysis.Vars;
            _a = analysis.JointAnalyzer;
            _p = new ExprPrinter(_vars);
            _names = new NameSet(_vars.Select(v => v.Name));
            Reverse.PullbackEmitter.CollectCounters(_body, _counters);
        }

        private readonly HashSet<int> _counters = new HashSet<int>();

        /// <summary>Emits the pushforward method (without the surrounding type declarations).</summary>
        public static string Emit(MethodModel m, IReadOnlyList<Callee> callees, MethodAnalysis analysis) => new PushforwardEmitter(m, callees, analysis).EmitMethod();

        /// <summary>
        /// Emits <c>{Name}PushforwardVector</c>: one pass carries K tangent directions (element i of a
        /// span, direction q at index i*K + q), or null when a callee has no vector pushforward.
        /// </summary>
        public static string? EmitVector(MethodModel m, IReadOnlyList<Callee> callees, MethodAnalysis analysis, out string? whyNot)
        {
            var c = callees.FirstOrDefault(x => !x.VectorCapable);
            whyNot = c == null ? null : "it calls '" + c.Name + "', which has no vector pushforward (a hand-written derivative or a method of another assembly)";
            return c == null ? new PushforwardEmitter(m, callees, analysis, vector: true).EmitMethod() : null;
        }

        /// <summary>The tangent of a scalar variable (lane q in vector mode).</summary>
        private string DotRef(int var) => _vector ? _dot[var] + "[" + Q + "]" : _dot[var];

        /// <summary>The tangent of a span element (lane q in vector mode).</summary>
        private string DotElem(int var, Expr index) =>
            _vector ? _dot[var] + "[" + P(index, ExprPrinter.Multiplicative) + " * " + _k + " + " + Q + "]" : _dot[var] + "[" + P(index) + "]";

        private string Scratch(Ty t)
        {
            if (!_scratch.TryGetValue(t, out var name))
            {
                name = Fresh("_lanes" + T(t));
                _scratch[t] = name;
                _decls.Add(T(t) + "[] " + name + " = new " + T(t) + "[" + _k + "];");
            }
            return name;
        }

        /// <summary>Writes one line per lane: a loop over the K directions in vector mode.</summary>
        private void Lanes(CodeWriter w, string line)
        {
            if (!_vector) { w.Line(line); return; }
            w.Line("for (int " + Q + " = 0; " + Q + " < " + _k + "; " + Q + "++) " + line);
        }

        private string Fresh(string hint) => _names.Fresh(hint);

        private string Temp() => Fresh("_d" + (_temp++).ToString(CultureInfo.InvariantCulture));

        private static string T(Ty t) => ExprPrinter.TypeName(t);

        private static string Zero(Ty t) => t == Ty.Float ? "0f" : t == Ty.Double ? "0.0" : t == Ty.Bool ? "false" : t == Ty.Long ? "0L" : "0";

        private string P(Expr e) => _p.Print(e);

        private string P(Expr e, int prec) => _p.Print(e, prec, true);

        private string EmitMethod()
        {
            var parms = _vars.Where(v => v.Role == VarRole.Param).OrderBy(v => v.ParamIndex).ToList();
            var sig = new List<string>();
            var checks = new List<string>();
            if (_vector)
            {
                _k = Fresh("directions");
                sig.Add("int " + _k);
                checks.Add("if (" + _k + " < 1) throw new global::System.ArgumentOutOfRangeException(nameof(" + _k + "), " + _k + ", \"At least one direction is needed.\");");
            }
            foreach (var v in parms)
            {
                sig.Add(ParamType(v, v.Storage) + " " + v.Name);
                if (!v.IsReal || v.NoDiff) continue;
                string dot = Fresh(v.Name + (_vector ? "Dots" : "Dot"));
                _dot[v.Id] = dot;
                if (_vector)
                {
                    sig.Add((v.Storage == Storage.Span || v.Storage == Storage.Array ? "global::System.Span<" : "global::System.ReadOnlySpan<") + T(v.Elem) + "> " + dot);
                    string expected = v.IsScalar ? _k : v.Name + ".Length * " + _k;
                    checks.Add("if (" + dot + ".Length != " + expected + ") throw new global::System.ArgumentException(\"" + dot + " must hold " + (v.IsScalar ? "one tangent per direction" : v.Name + ".Length tangents per direction (element i, direction q at i * directions + q)") + "\", nameof(" + dot + "));");
                }
                else
                {
                    sig.Add((v.IsScalar ? T(v.Elem) : v.Storage == Storage.ReadOnlySpan ? "global::System.ReadOnlySpan<" + T(v.Elem) + ">" : "global::System.Span<" + T(v.Elem) + ">") + " " + dot);
                }
            }
            string? resultDots = null;
            bool realResultSig = _m.ReturnType == Ty.Double || _m.ReturnType == Ty.Float;
            if (_vector && realResultSig)
            {
                resultDots = Fresh("resultDots");
                sig.Add("global::System.Span<" + T(_m.ReturnType) + "> " + resultDots);
                checks.Add("if (" + resultDots + ".Length != " + _k + ") throw new global::System.ArgumentException(\"" + resultDots + " must hold one tangent per direction\", nameof(" + resultDots + "));");
            }
            foreach (var v in _vars)
                if (v.Role != VarRole.Param && _a.Active[v.Id]) _dot[v.Id] = Fresh(v.Name.TrimStart('_') + (_vector ? "Dots" : "Dot"));
            if (_vector)
            {
                // A reassigned scalar parameter needs writable lanes: copy its read-only tangents.
                foreach (var v in parms)
                {
                    if (!v.IsScalar || !_dot.ContainsKey(v.Id) || !AssignsVar(_body, v.Id)) continue;
                    string local = Fresh(v.Name + "DotsLocal");
                    _decls.Add(T(v.Elem) + "[] " + local + " = " + _dot[v.Id] + ".ToArray();");
                    _dot[v.Id] = local;
                }
            }

            var body = new CodeWriter();
            EmitStmt(_body, body);

            bool realResult = realResultSig && !_vector;
            string ret = realResult ? "(" + T(_m.ReturnType) + " Value, " + T(_m.ReturnType) + " Tangent)" : T(_m.ReturnType);
            var w = new CodeWriter();
            if (_vector)
                w.Line("/// <summary>Vector forward mode of <see cref=\"" + _m.Name + "\"/>: one pass carries <c>directions</c> tangents (see docs/generated-code.md).</summary>");
            else
                w.Line("/// <summary>Forward-mode derivative of <see cref=\"" + _m.Name + "\"/>: returns its result with the tangent along the given input tangents (see docs/generated-code.md).</summary>");
            w.Open(_m.Accessibility + " static " + ret + " " + _m.Name + (_vector ? "PushforwardVector(" : "Pushforward(") + string.Join(", ", sig) + ")");
            foreach (var c in checks) w.Line(c);
            foreach (var v in _vars)
            {
                if (v.Role == VarRole.Param || _counters.Contains(v.Id)) continue;
                if (v.Elem == Ty.Other) w.Line(v.TypeName + " " + v.Name + " = default!;");
                else if (v.Storage == Storage.Scalar) w.Line(T(v.Elem) + " " + v.Name + " = " + Zero(v.Elem) + ";");
                else w.Line(T(v.Elem) + "[] " + v.Name + " = global::System.Array.Empty<" + T(v.Elem) + ">();");
                if (_a.Active[v.Id])
                {
                    if (v.Storage == Storage.Scalar && !_vector) w.Line(T(v.Elem) + " " + _dot[v.Id] + " = " + Zero(v.Elem) + ";");
                    else if (v.Storage == Storage.Scalar) w.Line(T(v.Elem) + "[] " + _dot[v.Id] + " = new " + T(v.Elem) + "[" + _k + "];");
                    else w.Line(T(v.Elem) + "[] " + _dot[v.Id] + " = global::System.Array.Empty<" + T(v.Elem) + ">();");
                }
            }
            foreach (var d in _decls) w.Line(d);
            w.Append(body);
            if (_a.ResultVar >= 0)
            {
                var rv = _a.ResultVar;
                if (realResult) w.Line("return (" + _vars[rv].Name + ", " + (_dot.TryGetValue(rv, out var rd) ? rd : Zero(_m.ReturnType)) + ");");
                else
                {
                    if (resultDots != null)
                    {
                        if (_dot.ContainsKey(rv)) w.Line("((global::System.ReadOnlySpan<" + T(_m.ReturnType) + ">)" + _dot[rv] + ").CopyTo(" + resultDots + ");");
                        else w.Line(resultDots + ".Clear();");
                    }
                    w.Line("return " + _vars[rv].Name + ";");
                }
            }
            w.Close();
            return w.ToString();
        }

        private static bool AssignsVar(Stmt s, int var) =>
            s is Assign a && a.Target is VarRef v && v.Var == var || Structurizer.Children(s).Any(c => AssignsVar(c, var));

        private static string ParamType(Var v, Storage s)
        {
            switch (s)
            {
                case Storage.Span: return "global::System.Span<" + T(v.Elem) + ">";
                case Storage.ReadOnlySpan: return "global::System.ReadOnlySpan<" + T(v.Elem) + ">";
                case Storage.Array: return T(v.Elem) + "[]";
                default: return v.Elem == Ty.Other ? v.TypeName! : T(v.Elem);
            }
        }

        private void EmitStmt(Stmt s, CodeWriter w)
        {
            switch (s)
            {
                case Block b:
                    foreach (var c in b.Stmts) EmitStmt(c, w);
                    break;
                case Assign a:
                    {
                        int tv = Analyzer.TargetVar(a.Target);
                        if (!_a.Active[tv])
                        {
                            w.Line(P(a.Target) + " = " + P(a.Value) + ";");
                            break;
                        }
                        string tan = Tan(a.Value) ?? Zero(a.Target.Type);
                        string dotTarget = a.Target is VarRef ? DotRef(tv) : DotElem(tv, ((ElemRef)a.Target).Index);
                        if (Walk.Uses(a.Value, tv))
                        {
                            // The tangent reads the old value, so it is computed before the assignment.
                            if (_vector)
                            {
                                string lanes = Scratch(a.Target.Type);
                                Lanes(w, lanes + "[" + Q + "] = " + tan + ";");
                                w.Line(P(a.Target) + " = " + P(a.Value) + ";");
                                Lanes(w, dotTarget + " = " + lanes + "[" + Q + "];");
                            }
                            else
                            {
                                string d = Temp();
                                w.Line(T(a.Target.Type) + " " + d + " = " + tan + ";");
                                w.Line(P(a.Target) + " = " + P(a.Value) + ";");
                                w.Line(dotTarget + " = " + d + ";");
                            }
                        }
                        else
                        {
                            Lanes(w, dotTarget + " = " + tan + ";");
                            w.Line(P(a.Target) + " = " + P(a.Value) + ";");
                        }
                        break;
                    }
                case Alloc al:
                    {
                        var v = _vars[al.Var];
                        w.Line(v.Name + " = new " + T(v.Elem) + "[" + P(al.Length) + "];");
                        if (_a.Active[al.Var]) w.Line(_dot[al.Var] + " = new " + T(v.Elem) + "[" + v.Name + ".Length" + (_vector ? " * " + _k : "") + "];");
                        break;
                    }
                case If i:
                    w.Open("if (" + P(i.Condition) + ")");
                    EmitStmt(i.Then, w);
                    w.Close();
                    if (i.Else.Stmts.Count > 0)
                    {
                        w.Open("else");
                        EmitStmt(i.Else, w);
                        w.Close();
                    }
                    break;
                case Loop l:
                    if (l.IsCanonical())
                    {
                        foreach (var c in l.Init.Stmts) EmitStmt(c, w);
                        string i = _vars[l.Counter()].Name;
                        string step = l.StepValue() == 1 ? i + "++" : l.StepValue() == -1 ? i + "--"
                            : l.StepValue() > 0 ? i + " += " + l.StepValue().ToString(CultureInfo.InvariantCulture) : i + " -= " + (-l.StepValue()).ToString(CultureInfo.InvariantCulture);
                        w.Open("for (" + T(_vars[l.Counter()].Elem) + " " + i + " = " + P(l.Start()!) + "; " + P(l.Condition) + "; " + step + ")");
                        EmitStmt(l.Body, w);
                        w.Close();
                    }
                    else
                    {
                        EmitStmt(l.Init, w);
                        w.Open("while (" + P(l.Condition) + ")");
                        EmitStmt(l.Body, w);
                        EmitStmt(l.Step(), w);
                        w.Close();
                    }
                    break;
                case Call c:
                    EmitCall(c, w);
                    break;
                case Throw t:
                    w.Line(t.Text);
                    break;
            }
        }

        private void EmitCall(Call c, CodeWriter w)
        {
            var callee = _callees[c.Callee];
            var rv = c.ResultVar;
            bool realResult = callee.Return == Ty.Double || callee.Return == Ty.Float;
            if (_vector)
            {
                EmitVectorCall(c, callee, w);
                return;
            }
            if (callee.PushforwardName != null)
            {
                var args = new List<string>();
                for (int k = 0; k < c.Args.Count; k++)
                {
                    var p = callee.Params[k];
                    var arg = c.Args[k];
                    args.Add(P(arg));
                    if (!p.HasAdjoint) continue;
                    if (p.Storage == Storage.Scalar) args.Add(Tan(arg) ?? Zero(p.Elem));
                    else
                    {
                        var sv = _vars[((VarRef)arg).Var];
                        args.Add(_dot.TryGetValue(sv.Id, out var d) ? d : "new " + T(p.Elem) + "[" + sv.Name + ".Length]");
                    }
                }
                string call = callee.PushforwardType + "." + callee.PushforwardName + "(" + string.Join(", ", args) + ")";
                if (rv >= 0 && realResult)
                {
                    string t = Temp();
                    w.Line("var " + t + " = " + call + ";");
                    w.Line(_vars[rv].Name + " = " + t + ".Value;");
                    if (_dot.TryGetValue(rv, out var rd)) w.Line(rd + " = " + t + ".Tangent;");
                }
                else if (rv >= 0) w.Line(_vars[rv].Name + " = " + call + ";");
                else w.Line(call + ";");
                return;
            }
            EmitCallThroughPullback(c, callee, w);
        }

        private void EmitVectorCall(Call c, Callee callee, CodeWriter w)
        {
            var rv = c.ResultVar;
            bool realResult = callee.Return == Ty.Double || callee.Return == Ty.Float;
            var args = new List<string> { _k };
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
                    _decls.Add(T(p.Elem) + "[] " + t + " = new " + T(p.Elem) + "[" + _k + "];");
                    var tan = Tan(arg);
                    Lanes(w, t + "[" + Q + "] = " + (tan ?? Zero(p.Elem)) + ";");
                    args.Add(t);
                }
                else
                {
                    var sv = _vars[((VarRef)arg).Var];
                    args.Add(_dot.TryGetValue(sv.Id, out var d) ? d : "new " + T(p.Elem) + "[" + sv.Name + ".Length * " + _k + "]");
                }
            }
            if (realResult) args.Add(rv >= 0 && _dot.ContainsKey(rv) ? _dot[rv] : "new " + T(callee.Return) + "[" + _k + "]");
            string call = callee.TypeName + "." + callee.Name + "PushforwardVector(" + string.Join(", ", args) + ")";
            w.Line((rv >= 0 ? _vars[rv].Name + " = " : "") + call + ";");
        }

        /// <summary>
        /// A callee with only a (hand-written) pullback: its Jacobian-vector product is assembled from
        /// one pullback call per output entry, each seeded with a unit adjoint. Exact, but costs as
        /// many reverse passes as the callee has outputs (register a pushforward to avoid that).
        /// </summary>
        private void EmitCallThroughPullback(Call c, Callee callee, CodeWriter w)
        {
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
            w.Open();
            // Primal inputs as they were before the call: every pullback call re-runs the callee from them.
            var primal = new List<string>();
            var saved = new Dictionary<int, string>();
            for (int k = 0; k < c.Args.Count; k++)
            {
                var p = callee.Params[k];
                if (p.Storage == Storage.Scalar) { primal.Add(P(c.Args[k])); continue; }
                var sv = _vars[((VarRef)c.Args[k]).Var];
                if (p.Writes)
                {
                    string copy = Temp();
                    w.Line("var " + copy + " = ((global::System.ReadOnlySpan<" + T(sv.Elem) + ">)" + sv.Name + ").ToArray();");
                    saved[k] = copy;
                }
                primal.Add(sv.Name);
            }
            // Tangents of the inputs (and of the outputs' entry contents, which in-place callees read).
            var inDot = new Dictionary<int, string>();
            foreach (var (k, p) in inputs)
            {
                if (p.Storage == Storage.Scalar) inDot[k] = Tan(c.Args[k]) ?? Zero(p.Elem);
                else
                {
                    var sv = _vars[((VarRef)c.Args[k]).Var];
                    if (_dot.TryGetValue(sv.Id, out var d))
                    {
                        string copy = Temp();
                        w.Line("var " + copy + " = ((global::System.ReadOnlySpan<" + T(p.Elem) + ">)" + d + ").ToArray();");
                        inDot[k] = copy;
                    }
                }
            }
            string? resultTangent = null;
            void Row(string seedLine, string target)
            {
                // One reverse pass: fresh copies of the inputs, a unit seed, then <bar, inputDot>.
                var args = new List<string>();
                var bars = new List<string>();
                var dots = new List<string>();
                for (int k = 0; k < c.Args.Count; k++)
                {
                    var p = callee.Params[k];
                    if (p.Storage != Storage.Scalar && saved.TryGetValue(k, out var s))
                    {
                        string fresh = Temp();
                        w.Line("var " + fresh + " = ((global::System.ReadOnlySpan<" + T(p.Elem) + ">)" + s + ").ToArray();");
                        args.Add(fresh);
                    }
                    else args.Add(primal[k]);
                }
                if (realResult) args.Add(seedLine == "result" ? ExprPrinter.Const(callee.Return, "1") : Zero(callee.Return));
                foreach (var (k, p) in inputs)
                {
                    string bar = Temp();
                    if (p.Storage == Storage.Scalar)
                    {
                        w.Line(T(p.Elem) + " " + bar + " = " + Zero(p.Elem) + ";");
                        bars.Add("ref " + bar);
                    }
                    else
                    {
                        string len = _vars[((VarRef)c.Args[k]).Var].Name + ".Length";
                        w.Line("var " + bar + " = new " + T(p.Elem) + "[" + len + "];");
                        if (seedLine != "result" && seedLine.StartsWith(k.ToString(CultureInfo.InvariantCulture) + ":", System.StringComparison.Ordinal))
                            w.Line(bar + "[" + seedLine.Substring(seedLine.IndexOf(':') + 1) + "] = " + ExprPrinter.Const(p.Elem, "1") + ";");
                        bars.Add(bar);
                    }
                    if (!inDot.TryGetValue(k, out var d)) continue;
                    if (p.Storage == Storage.Scalar) dots.Add(bar + " * " + (d.All(ch => char.IsLetterOrDigit(ch) || ch == '_' || ch == '.') ? d : "(" + d + ")"));
                    else dots.Add("global::DiffGen.CompilerServices.DerivativeHelpers.Dot(" + bar + ", " + d + ")");
                }
                w.Line(callee.PullbackType + "." + callee.PullbackName + "(" + string.Join(", ", args.Concat(bars)) + ");");
                w.Line(target + " = " + (dots.Count > 0 ? string.Join(" + ", dots) : "0") + ";");
            }
            if (realResult && rv >= 0 && _dot.ContainsKey(rv))
            {
                resultTangent = Temp();
                w.Line(T(callee.Return) + " " + resultTangent + " = " + Zero(callee.Return) + ";");
                Row("result", resultTangent);
            }
            foreach (var (k, p) in outputs)
            {
                var sv = _vars[((VarRef)c.Args[k]).Var];
                if (!_dot.TryGetValue(sv.Id, out var outDot)) continue;
                string j = Temp();
                string dOut = Temp();
                w.Line("var " + dOut + " = new " + T(p.Elem) + "[" + sv.Name + ".Length];");
                w.Open("for (int " + j + " = 0; " + j + " < " + sv.Name + ".Length; " + j + "++)");
                Row(k.ToString(CultureInfo.InvariantCulture) + ":" + j, dOut + "[" + j + "]");
                w.Close();
                w.Line("((global::System.ReadOnlySpan<" + T(p.Elem) + ">)" + dOut + ").CopyTo(" + outDot + ");");
            }
            // Finally the primal call itself, which leaves the outputs in place.
            string call = callee.TypeName + "." + callee.Name + "(" + string.Join(", ", primal) + ")";
            if (rv >= 0) w.Line(_vars[rv].Name + " = " + call + ";");
            else w.Line(call + ";");
            if (resultTangent != null) w.Line(_dot[rv] + " = " + resultTangent + ";");
            w.Close();
        }

        // ------------------------------------------------------------------ tangents

        /// <summary>A name, a member access or an element access: safe as an operand without parentheses.</summary>
        private static bool IsSimple(string s)
        {
            int bracket = s.IndexOf('[');
            string head = bracket < 0 ? s : s.Substring(0, bracket);
            if (head.Length == 0 || !head.All(ch => char.IsLetterOrDigit(ch) || ch == '_' || ch == '.')) return false;
            if (bracket < 0) return true;
            int depth = 0;
            for (int i = bracket; i < s.Length; i++)
            {
                if (s[i] == '[') depth++;
                else if (s[i] == ']' && --depth == 0 && i != s.Length - 1) return false;
            }
            return s.EndsWith("]", System.StringComparison.Ordinal) && depth == 0;
        }

        private static string Par(string s) => IsSimple(s) ? s : "(" + s + ")";

        /// <summary>The tangent of e as a C# expression, or null when e is inactive (tangent zero).</summary>
        private string? Tan(Expr e)
        {
            if (!_a.IsActiveExpr(e)) return null;
            var ty = e.Type;
            string M = ExprPrinter.MathType(ty);
            string C(string v) => ExprPrinter.Const(ty, v);
            switch (e)
            {
                case VarRef v: return DotRef(v.Var);
                case ElemRef el: return DotElem(el.Var, el.Index);
                case Unary u when u.Op == UnOp.Neg: return "-" + Par(Tan(u.Operand)!);
                case Cast c: return "(" + T(c.Type) + ")" + Par(Tan(c.Operand)!);
                case Conditional c:
                    return "(" + P(c.Condition, ExprPrinter.ConditionalPrec - 1) + " ? " + (Tan(c.WhenTrue) ?? C("0")) + " : " + (Tan(c.WhenFalse) ?? C("0")) + ")";
                case Binary b:
                    {
                        string? tl = Tan(b.Left), tr = Tan(b.Right);
                        string L = P(b.Left, ExprPrinter.Multiplicative), R = P(b.Right, ExprPrinter.Multiplicative);
                        switch (b.Op)
                        {
                            case BinOp.Add: return tl == null ? tr : tr == null ? tl : tl + " + " + tr;
                            case BinOp.Sub: return tr == null ? tl : tl == null ? "-" + Par(tr) : tl + " - " + Par(tr);
                            case BinOp.Mul:
                                if (tl == null) return L + " * " + Par(tr!);
                                if (tr == null) return Par(tl) + " * " + R;
                                return Par(tl) + " * " + R + " + " + L + " * " + Par(tr);
                            case BinOp.Div:
                                if (tr == null) return Par(tl!) + " / " + R;
                                return "(" + (tl == null ? "" : Par(tl) + " * " + R + " ") + "- " + L + " * " + Par(tr) + ") / (" + R + " * " + R + ")";
                            case BinOp.Mod:
                                return (tl ?? C("0")) + (tr == null ? "" : " - " + Par(tr) + " * " + M + ".Truncate(" + P(b.Left) + " / " + R + ")");
                        }
                        return null;
                    }
                case MathCall m:
                    {
                        string A(int i) => P(m.Args[i]);
                        string Ap(int i) => P(m.Args[i], ExprPrinter.Multiplicative);
                        string? t0 = Tan(m.Args[0]);
                        string T0 = Par(t0 ?? C("0"));
                        switch (m.Function)
                        {
                            case MathFn.Sin: return T0 + " * " + M + ".Cos(" + A(0) + ")";
                            case MathFn.Cos: return "-" + T0 + " * " + M + ".Sin(" + A(0) + ")";
                            case MathFn.Tan: return T0 + " / (" + M + ".Cos(" + A(0) + ") * " + M + ".Cos(" + A(0) + "))";
                            case MathFn.Exp: return T0 + " * " + M + ".Exp(" + A(0) + ")";
                            case MathFn.Log: return T0 + " / " + Ap(0);
                            case MathFn.Log10: return T0 + " / (" + Ap(0) + " * " + C("2.302585092994046") + ")";
                            case MathFn.Log2: return T0 + " / (" + Ap(0) + " * " + C("0.6931471805599453") + ")";
                            case MathFn.Sqrt: return T0 + " / (" + C("2") + " * " + M + ".Sqrt(" + A(0) + "))";
                            case MathFn.Cbrt: return T0 + " / (" + C("3") + " * " + M + ".Cbrt(" + A(0) + ") * " + M + ".Cbrt(" + A(0) + "))";
                            case MathFn.Tanh: return T0 + " * (" + C("1") + " - " + M + ".Tanh(" + A(0) + ") * " + M + ".Tanh(" + A(0) + "))";
                            case MathFn.Sinh: return T0 + " * " + M + ".Cosh(" + A(0) + ")";
                            case MathFn.Cosh: return T0 + " * " + M + ".Sinh(" + A(0) + ")";
                            case MathFn.Atan: return T0 + " / (" + C("1") + " + " + Ap(0) + " * " + Ap(0) + ")";
                            case MathFn.Asin: return T0 + " / " + M + ".Sqrt(" + C("1") + " - " + Ap(0) + " * " + Ap(0) + ")";
                            case MathFn.Acos: return "-" + T0 + " / " + M + ".Sqrt(" + C("1") + " - " + Ap(0) + " * " + Ap(0) + ")";
                            case MathFn.Abs: return T0 + " * " + M + ".Sign(" + A(0) + ")";
                            case MathFn.Min:
                            case MathFn.Max:
                                return "(" + P(m.Args[0], ExprPrinter.Relational - 1) + (m.Function == MathFn.Min ? " <= " : " >= ") + P(m.Args[1], ExprPrinter.Relational - 1)
                                    + " ? " + (t0 ?? C("0")) + " : " + (Tan(m.Args[1]) ?? C("0")) + ")";
                            case MathFn.Clamp:
                                return "(" + Ap(0) + " < " + Ap(1) + " ? " + (Tan(m.Args[1]) ?? C("0")) + " : " + Ap(0) + " > " + Ap(2) + " ? " + (Tan(m.Args[2]) ?? C("0")) + " : " + (t0 ?? C("0")) + ")";
                            case MathFn.Atan2:
                                {
                                    string? t1 = Tan(m.Args[1]);
                                    return "(" + Ap(1) + " * " + T0 + " - " + Ap(0) + " * " + Par(t1 ?? C("0")) + ") / (" + Ap(0) + " * " + Ap(0) + " + " + Ap(1) + " * " + Ap(1) + ")";
                                }
                            case MathFn.Pow:
                                {
                                    string? t1 = Tan(m.Args[1]);
                                    var parts = new List<string>();
                                    if (t0 != null) parts.Add(T0 + " * " + Ap(1) + " * " + M + ".Pow(" + A(0) + ", " + P(m.Args[1], ExprPrinter.Additive) + " - " + C("1") + ")");
                                    if (t1 != null) parts.Add("(" + Ap(0) + " > " + C("0") + " ? " + Par(t1) + " * " + M + ".Pow(" + A(0) + ", " + A(1) + ") * " + M + ".Log(" + A(0) + ") : " + C("0") + ")");
                                    return string.Join(" + ", parts);
                                }
                            case MathFn.FusedMultiplyAdd:
                                {
                                    var parts = new List<string>();
                                    if (t0 != null) parts.Add(T0 + " * " + Ap(1));
                                    var t1 = Tan(m.Args[1]);
                                    if (t1 != null) parts.Add(Ap(0) + " * " + Par(t1));
                                    var t2 = Tan(m.Args[2]);
                                    if (t2 != null) parts.Add(t2);
                                    return string.Join(" + ", parts);
                                }
                        }
                        return null;
                    }
            }
            return null;
        }
    }
}
