using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Threading;
using DiffGen.Generator.Diagnostics;
using DiffGen.Generator.Ir;
using DiffGen.Generator.Lowering;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace DiffGen.Generator
{
    /// <summary>
    /// Emits <c>{Name}Pullback</c> for every <c>[Differentiable]</c> method:
    /// ForAttributeWithMetadataName -> Lower (IR model, diagnostics) -> combine with the
    /// [DerivativeOf] registry -> Differentiate and emit. Each stage's model is equatable, so an
    /// unrelated edit re-runs nothing downstream.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class DifferentiableGenerator : IIncrementalGenerator
    {
        /// <inheritdoc />
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var methods = context.SyntaxProvider.ForAttributeWithMetadataName(
                    Lowerer.DifferentiableAttributeName,
                    predicate: static (node, _) => node is MethodDeclarationSyntax,
                    transform: static (ctx, ct) => Lower(ctx, ct))
                .Where(static m => m is not null)
                .Select(static (m, _) => m!)
                .WithTrackingName(TrackingNames.Lowered);

            var registry = context.SyntaxProvider.ForAttributeWithMetadataName(
                    Lowerer.DerivativeOfAttributeName,
                    predicate: static (node, _) => node is MethodDeclarationSyntax,
                    transform: static (ctx, _) => Register(ctx))
                .SelectMany(static (r, _) => r)
                .Collect()
                .Select(static (r, _) => r.OrderBy(x => x.TargetKey, StringComparer.Ordinal).ThenBy(x => x.DerivativeName, StringComparer.Ordinal).ToEquatableArray())
                .WithTrackingName(TrackingNames.Registry);

            var combined = methods.Combine(registry).WithTrackingName(TrackingNames.Combined);
            context.RegisterSourceOutput(combined, static (spc, pair) => Emit(spc, pair.Left, pair.Right));
        }

        private static MethodModel? Lower(GeneratorAttributeSyntaxContext ctx, CancellationToken ct)
        {
            if (!(ctx.TargetNode is MethodDeclarationSyntax syntax) || !(ctx.TargetSymbol is IMethodSymbol method)) return null;
            return Lowerer.Lower(syntax, method, ctx.SemanticModel, ct);
        }

        private static EquatableArray<RegisteredDerivative> Register(GeneratorAttributeSyntaxContext ctx)
        {
            var list = new List<RegisteredDerivative>();
            if (!(ctx.TargetSymbol is IMethodSymbol method)) return list.ToEquatableArray();
            foreach (var attr in ctx.Attributes)
            {
                if (attr.ConstructorArguments.Length != 2) continue;
                if (!(attr.ConstructorArguments[0].Value is ITypeSymbol type) || !(attr.ConstructorArguments[1].Value is string name)) continue;
                int kind = 0;
                foreach (var named in attr.NamedArguments)
                    if (named.Key == "Kind" && named.Value.Value is int k) kind = k;
                list.Add(new RegisteredDerivative(Lowerer.FullName(type) + "." + name, kind,
                    Lowerer.FullName(method.ContainingType), method.Name, method.Parameters.Length));
            }
            return list.ToEquatableArray();
        }

        private static void Emit(SourceProductionContext spc, MethodModel model, EquatableArray<RegisteredDerivative> registry)
        {
            foreach (var d in model.Diagnostics) spc.ReportDiagnostic(d.ToDiagnostic());
            if (model.HasErrors) return;

            var callees = new List<Callee>();
            bool missing = false;
            foreach (var c in model.Callees)
            {
                if (c.PullbackName != null) { callees.Add(c); continue; }
                var pb = registry.FirstOrDefault(r => r.TargetKey == c.Key && r.Kind == 0);
                var pf = registry.FirstOrDefault(r => r.TargetKey == c.Key && r.Kind == 1);
                var rv = registry.FirstOrDefault(r => r.TargetKey == c.Key && r.Kind == 2);
                if (pb == null)
                {
                    string typeShort = c.TypeName.Substring(c.TypeName.LastIndexOf('.') + 1);
                    spc.ReportDiagnostic((DiagnosticInfo.Create(Descriptors.NoDerivative, null, c.DisplaySignature, typeShort, c.Name, c.PullbackSignatureHint)
                        with { Location = c.FirstUse }).ToDiagnostic());
                    missing = true;
                    continue;
                }
                callees.Add(c with
                {
                    PullbackType = pb.DerivativeType,
                    PullbackName = pb.DerivativeName,
                    PushforwardType = pf?.DerivativeType,
                    PushforwardName = pf?.DerivativeName,
                    ReverseType = rv?.DerivativeType,
                    ReverseName = rv?.DerivativeName,
                });
            }
            if (missing) return;

            string source;
            try
            {
                source = Render(model, callees, out var noDual, out var noVector);
                if (noDual != null)
                    spc.ReportDiagnostic((DiagnosticInfo.Create(Descriptors.NoDualPullback, null, model.Name, noDual) with { Location = model.Location }).ToDiagnostic());
                if (noVector != null)
                    spc.ReportDiagnostic((DiagnosticInfo.Create(Descriptors.NoVectorPushforward, null, model.Name, noVector) with { Location = model.Location }).ToDiagnostic());
            }
            catch (Exception ex)
            {
                spc.ReportDiagnostic((DiagnosticInfo.Create(Descriptors.UnsupportedStatement, null, "internal error",
                    "the generator failed while differentiating '" + model.Name + "' (" + ex.GetType().Name + ": " + ex.Message + "); please report it with the method's source")
                    with { Location = model.Location }).ToDiagnostic());
                return;
            }
            spc.AddSource(model.HintName, SourceText.From(source, Encoding.UTF8));
        }

        /// <summary>Renders the generated file for one method (exposed for tests).</summary>
        internal static string Render(MethodModel model, IReadOnlyList<Callee> callees, out string? noDual, out string? noVector)
        {
            var analysis = Analysis.MethodAnalysis.Of(model, callees);
            var (pullbacks, summary) = Reverse.ReverseTransformer.Build(model, callees, analysis);
            var pushforward = Forward.ForwardTransformer.Build(model, callees, analysis);
            var vector = Forward.ForwardTransformer.BuildVector(model, callees, analysis, out noVector);
            var dual = Reverse.ReverseTransformer.BuildDual(model, callees, analysis, out noDual);
            var w = new Emit.CsPrinter();
            w.Line("// <auto-generated/>");
            w.Line("// DiffGen derivatives of " + string.Join(".", model.ContainingTypes.Select(t => t.Name)) + "." + model.Name + " (reverse: " + model.Name + "Pullback, forward: " + model.Name + "Pushforward)");
            foreach (var line in summary) w.Line("// " + line);
            w.Line("#nullable enable");
            w.Line("#pragma warning disable CS0162, CS0168, CS0219");
            foreach (var u in model.Usings) w.Line(u);
            if (model.Usings.Count > 0) w.Line();
            if (model.Namespace != null) w.Open("namespace " + model.Namespace);
            foreach (var t in model.ContainingTypes) w.Open("partial " + t.Keyword + " " + t.Name);
            foreach (var accessor in model.Accessors) w.Line(accessor);
            if (model.Accessors.Count > 0) w.Line();
            var groups = new List<List<Emit.CsMethod>> { pullbacks, new List<Emit.CsMethod> { pushforward } };
            if (vector != null) groups.Add(new List<Emit.CsMethod> { vector });
            if (dual != null) groups.Add(new List<Emit.CsMethod> { dual });
            for (int g = 0; g < groups.Count; g++)
            {
                if (g > 0) w.Line();
                foreach (var m in groups[g]) w.Method(m);
            }
            for (int i = 0; i < model.ContainingTypes.Count; i++) w.Close();
            if (model.Namespace != null) w.Close();
            return w.ToString();
        }
    }
}
