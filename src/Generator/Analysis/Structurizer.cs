using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using DiffGen.Generator.Ir;

namespace DiffGen.Generator.Analysis
{
    /// <summary>
    /// Removes break, continue and return by introducing boolean flags: after a statement that may
    /// exit, the rest of its block runs under <c>if (!flag)</c>, and loop conditions test the flags.
    /// The result has only structured control flow, which the reverse sweep can mirror exactly.
    /// </summary>
    internal sealed class Structurizer
    {
        private readonly List<Var> _vars;
        private readonly HashSet<string> _names;
        private int _nextId;
        private int _retFlag = -1;

        private Structurizer(IEnumerable<Var> vars, int maxId)
        {
            _vars = vars.ToList();
            _names = new HashSet<string>(_vars.Select(v => v.Name));
            _nextId = maxId;
        }

        /// <summary>The id of the variable that holds the returned value (-1 for void methods).</summary>
        public int ResultVar { get; private set; } = -1;

        public IReadOnlyList<Var> Vars => _vars;

        public static (Block Body, IReadOnlyList<Var> Vars, int ResultVar) Run(MethodModel model)
        {
            var s = new Structurizer(model.Vars, MaxId(model.Body));
            if (model.ReturnType == Ty.Other)
                s.ResultVar = model.Vars.First(v => v.Role == VarRole.Result).Id; // a struct result: lowering made its container
            else if (model.ReturnType != Ty.Void)
                s.ResultVar = s.NewVar("result", model.ReturnType, VarRole.Result);
            var stmts = s.StructBlock(model.Body.Stmts.Items, new List<LoopFlags>(), topLevel: true, out _);
            return (new Block(s.NextId(), stmts.ToEquatableArray()), s._vars, s.ResultVar);
        }

        private sealed class LoopFlags
        {
            public int Break = -1;
            public int Continue = -1;
        }

        private int NextId() => ++_nextId;

        private int NewVar(string hint, Ty ty, VarRole role)
        {
            string name;
            for (int i = 0; ; i++)
            {
                name = "_" + hint + (i == 0 ? "" : i.ToString(CultureInfo.InvariantCulture));
                if (!_names.Contains(name)) break;
            }
            _names.Add(name);
            _vars.Add(new Var(_vars.Count, name, ty, Storage.Scalar, role, -1, false));
            return _vars.Count - 1;
        }

        private static int MaxId(Stmt s)
        {
            int max = s.Id;
            foreach (var child in Children(s)) max = System.Math.Max(max, MaxId(child));
            return max;
        }

        internal static IEnumerable<Stmt> Children(Stmt s) => Walk.Children(s);

        private Assign SetFlag(int flag, bool value) =>
            new Assign(NextId(), new VarRef(flag, Ty.Bool), new Lit(value ? "true" : "false", Ty.Bool));

        private static Expr NotAny(IEnumerable<int> flags)
        {
            Expr? e = null;
            foreach (var f in flags.OrderBy(x => x))
            {
                var r = new VarRef(f, Ty.Bool);
                e = e == null ? (Expr)r : new Binary(BinOp.LogicalOr, e, r, Ty.Bool);
            }
            return new Unary(UnOp.Not, e!, Ty.Bool);
        }

        /// <summary>Structurizes a statement list; <paramref name="exits"/> gets the flags it may set.</summary>
        private List<Stmt> StructBlock(IReadOnlyList<Stmt> stmts, List<LoopFlags> loops, bool topLevel, out HashSet<int> exits)
        {
            var result = new List<Stmt>();
            exits = new HashSet<int>();
            for (int i = 0; i < stmts.Count; i++)
            {
                var s = stmts[i];
                bool last = i == stmts.Count - 1;
                if (s is Return ret && topLevel && last)
                {
                    // A return that ends the method needs no flag.
                    if (ret.Value != null && ResultVar >= 0)
                        result.Add(new Assign(ret.Id, new VarRef(ResultVar, _vars[ResultVar].Elem), ret.Value));
                    return result;
                }
                var structured = StructStmt(s, loops, out var sExits, out bool unconditional);
                result.AddRange(structured);
                if (sExits.Count == 0) continue;
                exits.UnionWith(sExits);
                if (unconditional) return result; // what follows is unreachable
                var rest = StructBlock(stmts.Skip(i + 1).ToList(), loops, topLevel, out var restExits);
                exits.UnionWith(restExits);
                if (rest.Count > 0)
                    result.Add(new If(NextId(), NotAny(sExits), new Block(NextId(), rest.ToEquatableArray()), new Block(NextId(), EquatableArray<Stmt>.Empty)));
                return result;
            }
            return result;
        }

        private List<Stmt> StructStmt(Stmt s, List<LoopFlags> loops, out HashSet<int> exits, out bool unconditional)
        {
            exits = new HashSet<int>();
            unconditional = false;
            switch (s)
            {
                case Break _:
                    {
                        var lf = loops[loops.Count - 1];
                        if (lf.Break < 0) lf.Break = NewVar("break", Ty.Bool, VarRole.Flag);
                        exits.Add(lf.Break);
                        unconditional = true;
                        return new List<Stmt> { SetFlag(lf.Break, true) };
                    }
                case Continue _:
                    {
                        var lf = loops[loops.Count - 1];
                        if (lf.Continue < 0) lf.Continue = NewVar("continue", Ty.Bool, VarRole.Flag);
                        exits.Add(lf.Continue);
                        unconditional = true;
                        return new List<Stmt> { SetFlag(lf.Continue, true) };
                    }
                case Return r:
                    {
                        if (_retFlag < 0) _retFlag = NewVar("returned", Ty.Bool, VarRole.Flag);
                        var list = new List<Stmt>();
                        // The assignment keeps the return's id: generated code names the source statement it reverses.
                        if (r.Value != null && ResultVar >= 0)
                            list.Add(new Assign(r.Id, new VarRef(ResultVar, _vars[ResultVar].Elem), r.Value));
                        list.Add(SetFlag(_retFlag, true));
                        exits.Add(_retFlag);
                        unconditional = true;
                        return list;
                    }
                case Inlined inl:
                    {
                        // A return inside an inlined body ends that body only: its own flag and result variable,
                        // and loops of the caller are not the body's to break.
                        var (savedFlag, savedResult) = (_retFlag, ResultVar);
                        _retFlag = -1;
                        ResultVar = inl.ResultVar;
                        var inner = StructBlock(inl.Body.Stmts.Items, new List<LoopFlags>(), true, out _);
                        if (_retFlag >= 0) inner.Insert(0, SetFlag(_retFlag, false)); // it may run again (in a loop)
                        (_retFlag, ResultVar) = (savedFlag, savedResult);
                        return new List<Stmt> { new Block(inl.Id, inner.ToEquatableArray()) };
                    }
                case Block b:
                    {
                        var inner = StructBlock(b.Stmts.Items, loops, false, out exits);
                        unconditional = false;
                        return new List<Stmt> { new Block(b.Id, inner.ToEquatableArray()) };
                    }
                case If i:
                    {
                        var then = StructBlock(i.Then.Stmts.Items, loops, false, out var e1);
                        var els = StructBlock(i.Else.Stmts.Items, loops, false, out var e2);
                        exits.UnionWith(e1);
                        exits.UnionWith(e2);
                        return new List<Stmt> { new If(i.Id, i.Condition, new Block(i.Then.Id, then.ToEquatableArray()), new Block(i.Else.Id, els.ToEquatableArray())) };
                    }
                case Loop l:
                    {
                        var lf = new LoopFlags();
                        loops.Add(lf);
                        var body = StructBlock(l.Body.Stmts.Items, loops, false, out var bodyExits);
                        loops.RemoveAt(loops.Count - 1);
                        bool returns = _retFlag >= 0 && bodyExits.Contains(_retFlag);
                        var init = l.Init.Stmts.ToList();
                        var cond = l.Condition;
                        var step = l is WhileLoop wl ? wl.Step.Stmts.ToList() : new List<Stmt>();
                        var stops = new List<int>();
                        if (lf.Break >= 0)
                        {
                            init.Add(SetFlag(lf.Break, false));
                            stops.Add(lf.Break);
                        }
                        if (returns) stops.Add(_retFlag);
                        if (stops.Count > 0)
                        {
                            cond = new Binary(BinOp.LogicalAnd, NotAny(stops), cond, Ty.Bool);
                            // A counted loop's step stays unguarded: the counter is scoped to the loop, so one
                            // extra increment after a break is harmless and keeps the step reconstructible.
                            if (step.Count > 0)
                                step = new List<Stmt> { new If(NextId(), NotAny(stops), new Block(NextId(), step.ToEquatableArray()), new Block(NextId(), EquatableArray<Stmt>.Empty)) };
                        }
                        if (lf.Continue >= 0) body.Insert(0, SetFlag(lf.Continue, false));
                        if (returns) exits.Add(_retFlag);
                        var newInit = new Block(l.Init.Id, init.ToEquatableArray());
                        var newBody = new Block(l.Body.Id, body.ToEquatableArray());
                        return new List<Stmt>
                        {
                            l is ForLoop f
                                ? f with { Init = newInit, Condition = cond, Body = newBody }
                                : ((WhileLoop)l) with { Init = newInit, Condition = cond, Step = new Block(((WhileLoop)l).Step.Id, step.ToEquatableArray()), Body = newBody },
                        };
                    }
                default:
                    return new List<Stmt> { s };
            }
        }
    }
}
