namespace DiffGen.Generator
{
    /// <summary>
    /// Names of the tracked incremental steps, one per stage (tests assert which re-run after an edit).
    /// Lowered and MethodDiagnostics hold source positions; every other step is location-free.
    /// </summary>
    public static class TrackingNames
    {
        /// <summary>Each [Differentiable] method lowered: model, summary and located diagnostics.</summary>
        public const string Lowered = "Lowered";

        /// <summary>Each method's location-free model (IR, callees, names).</summary>
        public const string Model = "Model";

        /// <summary>Each method's summary for the capability table.</summary>
        public const string Summary = "Summary";

        /// <summary>Each method's lowering diagnostics and the locations later diagnostics need.</summary>
        public const string MethodDiagnostics = "MethodDiagnostics";

        /// <summary>The project's default modes (MSBuild property DiffGenDerivativeModes).</summary>
        public const string ProjectModes = "ProjectModes";

        /// <summary>The capability table of the compilation's [Differentiable] methods.</summary>
        public const string Table = "Table";

        /// <summary>The [DerivativeOf] registrations of the compilation.</summary>
        public const string Registry = "Registry";

        /// <summary>Each method ready to render: model, resolved callees, modes.</summary>
        public const string RenderInput = "RenderInput";

        /// <summary>Each method's generated file (or why rendering failed).</summary>
        public const string Rendered = "Rendered";

        /// <summary>The methods whose rendering failed.</summary>
        public const string RenderFailures = "RenderFailures";

        /// <summary>Each method's diagnostics, located, as reported.</summary>
        public const string Diagnostics = "Diagnostics";

        /// <summary>The shadow models (CreateShadow/ZeroAdjoint) of types with differentiated instance state.</summary>
        public const string Shadows = "Shadows";
    }
}
