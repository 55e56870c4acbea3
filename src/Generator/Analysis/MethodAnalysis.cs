using System.Collections.Generic;
using DiffGen.Generator.Ir;

namespace DiffGen.Generator.Analysis
{
    /// <summary>
    /// A method ready to differentiate: its structurized body, variables and analysis, computed once
    /// and shared by every emitter (pullback, pushforward, vector pushforward, dual pullback).
    /// </summary>
    internal sealed class MethodAnalysis
    {
        private MethodAnalysis(Block body, IReadOnlyList<Var> vars, Analyzer analyzer)
        {
            Body = body;
            Vars = vars;
            Analyzer = analyzer;
        }

        public Block Body { get; }

        public IReadOnlyList<Var> Vars { get; }

        public Analyzer Analyzer { get; }

        public static MethodAnalysis Of(MethodModel model, IReadOnlyList<Callee> callees)
        {
            var (body, vars, resultVar) = Structurizer.Run(model);
            return new MethodAnalysis(body, vars, new Analyzer(vars, callees, body, resultVar));
        }
    }

    /// <summary>Fresh identifiers that collide neither with the method's names nor with each other.</summary>
    internal sealed class NameSet
    {
        private readonly HashSet<string> _names;

        public NameSet(IEnumerable<string> taken) => _names = new HashSet<string>(taken);

        public string Fresh(string hint)
        {
            string name = hint;
            for (int i = 2; _names.Contains(name); i++) name = hint + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            _names.Add(name);
            return name;
        }
    }
}
