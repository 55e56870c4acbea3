using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Threading;
using DiffGen.Generator.Diagnostics;
using DiffGen.Generator.Ir;
using DiffGen.Generator.Lowering;
using DiffGen.Generator.Pipeline;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace DiffGen.Generator
{
    /// <summary>
    /// Emits the derivatives of every <c>[Differentiable]</c> method. The pipeline (docs/architecture.md):
    /// lower each method (ForAttributeWithMetadataName) into a location-free model, its summary and its
    /// located diagnostics; collect the summaries into the capability table; prepare each method's render
    /// input from its model, its direct callees' table entries and the [DerivativeOf] registry; render it.
    /// Diagnostics go through an output of their own (System.Text.Json's pattern), so a change of
    /// positions alone re-renders nothing, and an edit re-renders only the methods whose model or
    /// callees' capabilities changed.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class DifferentiableGenerator : IIncrementalGenerator
    {
        /// <summary>Runs before each method is rendered (tests make rendering fail with it).</summary>
        internal Action<MethodModel>? BeforeRender { get; set; }

        /// <inheritdoc />
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var lowered = context.SyntaxProvider.ForAttributeWithMetadataName(
                    Lowerer.DifferentiableAttributeName,
                    predicate: static (node, _) => node is MethodDeclarationSyntax || node is OperatorDeclarationSyntax,
                    transform: static (ctx, ct) => Lower(ctx, ct))
                .Where(static m => m is not null)
                .Select(static (m, _) => m!)
                .WithTrackingName(TrackingNames.Lowered);

            var models = lowered.Select(static (m, _) => m.Model).WithTrackingName(TrackingNames.Model);
            var summaries = lowered.Select(static (m, _) => m.Summary).WithTrackingName(TrackingNames.Summary);
            var located = lowered.Select(static (m, _) => m.Diagnostics).WithTrackingName(TrackingNames.MethodDiagnostics);

            var projectModes = context.AnalyzerConfigOptionsProvider
                .Select(static (o, _) => Stages.ReadProjectModes(o.GlobalOptions.TryGetValue("build_property." + Modes.Property, out var v) ? v : null))
                .WithTrackingName(TrackingNames.ProjectModes);

            var table = summaries.Collect().Combine(projectModes)
                .Select(static (p, _) => Stages.Table(p.Left, p.Right))
                .WithTrackingName(TrackingNames.Table);

            var registry = context.SyntaxProvider.ForAttributeWithMetadataName(
                    Lowerer.DerivativeOfAttributeName,
                    predicate: static (node, _) => node is MethodDeclarationSyntax,
                    transform: static (ctx, _) => Register(ctx))
                .SelectMany(static (r, _) => r)
                .Collect()
                .Select(static (r, _) => r.OrderBy(x => x.TargetKey, StringComparer.Ordinal).ThenBy(x => x.DerivativeName, StringComparer.Ordinal).ToEquatableArray())
                .WithTrackingName(TrackingNames.Registry);

            var context2 = table.Combine(registry);
            var inputs = models.Combine(context2)
                .Select(static (p, _) => Stages.Prepare(p.Left, p.Right.Left, p.Right.Right))
                .Where(static r => r is not null)
                .Select(static (r, _) => r!)
                .WithTrackingName(TrackingNames.RenderInput);

            // One shadow file per type with differentiated instance state (every instance method of it carries the same model).
            var shadows = lowered.Where(static m => m.Shadow != null).Select(static (m, _) => m.Shadow!)
                .Collect()
                .Select(static (s, _) => s.GroupBy(x => x.HintName).Select(g => g.First()).OrderBy(x => x.HintName, StringComparer.Ordinal).ToEquatableArray())
                .WithTrackingName(TrackingNames.Shadows);
            context.RegisterSourceOutput(shadows, static (spc, list) =>
            {
                foreach (var s in list) spc.AddSource(s.HintName, SourceText.From(Emit.ShadowEmitter.Render(s), Encoding.UTF8));
            });

            var rendered = inputs.Select((r, _) => Stages.Render(r, BeforeRender)).WithTrackingName(TrackingNames.Rendered);
            context.RegisterSourceOutput(rendered, static (spc, r) =>
            {
                if (r.Source != null) spc.AddSource(r.HintName, SourceText.From(r.Source, Encoding.UTF8));
            });

            var failures = rendered.Where(static r => r.Failure != null)
                .Select(static (r, _) => new RenderFailure(r.HintName, r.Failure!))
                .Collect()
                .Select(static (f, _) => f.OrderBy(x => x.HintName, StringComparer.Ordinal).ToEquatableArray())
                .WithTrackingName(TrackingNames.RenderFailures);

            var diagnostics = located.Combine(context2.Combine(failures))
                .Select(static (p, _) => Stages.Diagnose(p.Left, p.Right.Left.Left, p.Right.Left.Right, p.Right.Right))
                .WithTrackingName(TrackingNames.Diagnostics);
            context.RegisterSourceOutput(diagnostics, static (spc, list) =>
            {
                foreach (var d in list) spc.ReportDiagnostic(d.ToDiagnostic());
            });

            context.RegisterSourceOutput(projectModes, static (spc, m) =>
            {
                if (m.InvalidValue != null)
                    spc.ReportDiagnostic(DiagnosticInfo.Create(Descriptors.UnknownMode, null, m.InvalidWord ?? "",
                        " (MSBuild property " + Modes.Property + " = '" + m.InvalidValue + "'; separate modes with commas)").ToDiagnostic());
            });
        }

        private static LoweredMethod? Lower(GeneratorAttributeSyntaxContext ctx, CancellationToken ct)
        {
            if (!(ctx.TargetNode is BaseMethodDeclarationSyntax syntax) || !(ctx.TargetSymbol is IMethodSymbol method)) return null;
            return Lowerer.Lower(syntax, method, ctx.SemanticModel, ctx.Attributes.FirstOrDefault(), ct);
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

        /// <summary>
        /// Renders the generated file of one method: its pullback, and its pushforward, vector pushforward
        /// and dual pullback when <paramref name="modes"/> asks for them. The capability table only asks
        /// for the forms a method can have; an emitter that declines one anyway is an internal error.
        /// </summary>
        internal static string Render(MethodModel model, IReadOnlyList<Callee> callees, DerivativeModes modes)
        {
            var analysis = Analysis.MethodAnalysis.Of(model, callees);
            var (pullbacks, summary) = Reverse.ReverseTransformer.Build(model, callees, analysis);
            bool forward = (modes & DerivativeModes.Forward) != 0;
            var pushforward = forward ? Forward.ForwardTransformer.Build(model, callees, analysis) : null;
            Emit.CsMethod? vector = null, dual = null;
            if ((modes & DerivativeModes.Vector) != 0)
                vector = Forward.ForwardTransformer.BuildVector(model, callees, analysis, out var noVector)
                    ?? throw new InvalidOperationException("the capability table asked for " + model.Name + "PushforwardVector, which is not generated: " + noVector);
            if ((modes & DerivativeModes.Dual) != 0)
                dual = Reverse.ReverseTransformer.BuildDual(model, callees, analysis, out var noDual)
                    ?? throw new InvalidOperationException("the capability table asked for " + model.Name + "PullbackDual, which is not generated: " + noDual);
            var w = new Emit.CsPrinter();
            w.Line("// <auto-generated/>");
            w.Line("// DiffGen derivatives of " + string.Join(".", model.ContainingTypes.Select(t => t.Name)) + "." + model.Name + " (reverse: " + model.Name + "Pullback"
                + (forward ? ", forward: " + model.Name + "Pushforward" : "") + ")");
            foreach (var line in summary) w.Line("// " + line);
            w.Line("#nullable enable");
            w.Line("#pragma warning disable CS0162, CS0168, CS0219");
            foreach (var u in model.Usings) w.Line(u);
            if (model.Usings.Count > 0) w.Line();
            if (model.Namespace != null) w.Open("namespace " + model.Namespace);
            foreach (var t in model.ContainingTypes) w.Open("partial " + t.Keyword + " " + t.Name);
            foreach (var accessor in model.Accessors) w.Line(accessor);
            if (model.Accessors.Count > 0) w.Line();
            var groups = new List<List<Emit.CsMethod>> { pullbacks };
            if (pushforward != null) groups.Add(new List<Emit.CsMethod> { pushforward });
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
