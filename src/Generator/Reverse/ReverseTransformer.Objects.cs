using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using DiffGen.Generator.Emit;
using DiffGen.Generator.Ir;
using static DiffGen.Generator.Emit.Cs;

namespace DiffGen.Generator.Reverse
{
    /// <summary>
    /// Arrays of class objects (<c>Body[] Bodies</c>): the array holds references, and the method changes the
    /// objects' fields, so saving the array's contents means saving those fields. What is saved is every
    /// float/double field path the method assigns on an element (<c>Bodies[i].Vx</c>); the others do not change.
    /// </summary>
    internal sealed partial class ReverseTransformer
    {
        /// <summary>The element field paths (and their types) the method assigns on elements of an array of objects.</summary>
        private List<(string Path, Ty Type)> WrittenObjectFields(Var v)
        {
            foreach (var c in Walk.Descendants(_body).OfType<Call>())
                for (int k = 0; k < c.Args.Count; k++)
                    if (c.Args[k] is VarRef r && r.Var == v.Id && _callees[c.Callee].Params[k].Writes)
                    {
                        // A callee may write any of the objects' fields: save every one generated code can assign.
                        if (!(v.ElementFields is EquatableArray<ObjectField> saveable) || saveable.Count == 0)
                            throw new System.NotSupportedException("an array of objects written by a called method would have to be saved ('"
                                + v.Name + "' passed to '" + _callees[c.Callee].Name + "'), and some of the objects' float/double data cannot be assigned by generated code: pass the values as arrays");
                        return saveable.Select(f => (f.Path, f.Type)).ToList();
                    }
            return Walk.Descendants(_body).OfType<Assign>()
                .Select(a => a.Target).OfType<ElemRef>()
                .Where(e => e.Var == v.Id && !string.IsNullOrEmpty(e.Path))
                .Select(e => (e.Path!, e.Type)).Distinct()
                .OrderBy(x => x.Item1, System.StringComparer.Ordinal).ToList();
        }

        private readonly Dictionary<(string, string), string> _fieldCopies = new Dictionary<(string, string), string>();

        /// <summary>The local holding one field path of every object of a saved array (thisBodiesFinal_Vx).</summary>
        private string FieldCopyName(string final, string path)
        {
            if (!_fieldCopies.TryGetValue((final, path), out var name))
                _fieldCopies[(final, path)] = name = Fresh(final + path.Replace('.', '_'));
            return name;
        }

        private CsExpr Element(Var v, string index, string path) => IrToCs.WithPath(new CsIndex(N(v.Name), N(index)), path);

        private CsFor ElementLoop(Var v, string index, List<CsStmt> body, bool backwards = false) =>
            backwards
                ? new CsFor(new CsLocal(CsType.Int, index, Bin("-", Member(N(v.Name), "Length"), CsLiteral.Int(1))), Bin(">=", N(index), CsLiteral.Int(0)), Do(new CsVerbatim(index + "--")), Block(body))
                : new CsFor(new CsLocal(CsType.Int, index, CsLiteral.Int(0)), Bin("<", N(index), Member(N(v.Name), "Length")), Do(new CsVerbatim(index + "++")), Block(body));

        /// <summary>One array per written field path, filled from the objects (the state a pullback leaves them in).</summary>
        private List<CsStmt> SaveObjectFields(Var v, string final)
        {
            var stmts = new List<CsStmt>();
            var fields = WrittenObjectFields(v);
            string i = Fresh("_o");
            foreach (var (path, ty) in fields)
                stmts.Add(new CsLocal(CsType.Var, FieldCopyName(final, path), NewArray(ty, Member(N(v.Name), "Length"))));
            if (fields.Count > 0)
                stmts.Add(ElementLoop(v, i, fields.Select(f => (CsStmt)Set(new CsIndex(N(FieldCopyName(final, f.Path)), N(i)), Element(v, i, f.Path))).ToList()));
            return stmts;
        }

        private IEnumerable<CsStmt> RestoreObjectFields(Var v, string final)
        {
            var fields = WrittenObjectFields(v);
            if (fields.Count == 0) yield break;
            string i = Fresh("_o");
            yield return ElementLoop(v, i, fields.Select(f => (CsStmt)Set(Element(v, i, f.Path), new CsIndex(N(FieldCopyName(final, f.Path)), N(i)))).ToList());
            if (!_dual)
                foreach (var (path, _) in fields) yield return Do(Call(Member(_tape, "Recycle"), N(FieldCopyName(final, path))));
        }

        /// <summary>Pushes the written fields of every object (element by element) on the value tapes.</summary>
        private CsStmt PushObjectFields(Var v)
        {
            var fields = WrittenObjectFields(v);
            string i = Fresh("_o");
            return ElementLoop(v, i, fields.Select(f => (CsStmt)Do(Push(Tape(f.Type), Element(v, i, f.Path)))).ToList());
        }

        /// <summary>Pops what <see cref="PushObjectFields"/> pushed, in the opposite order.</summary>
        private CsStmt PopObjectFields(Var v)
        {
            var fields = WrittenObjectFields(v);
            string i = Fresh("_o");
            var body = new List<CsStmt>();
            for (int k = fields.Count - 1; k >= 0; k--) body.Add(Set(Element(v, i, fields[k].Path), Pop(Tape(fields[k].Type))));
            return ElementLoop(v, i, body, backwards: true);
        }
    }
}
