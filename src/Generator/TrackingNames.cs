namespace DiffGen.Generator
{
    /// <summary>Names of the tracked incremental steps (tests assert they are cached on unrelated edits).</summary>
    public static class TrackingNames
    {
        /// <summary>Each [Differentiable] method lowered to its IR model.</summary>
        public const string Lowered = "Lowered";

        /// <summary>The [DerivativeOf] registrations of the compilation.</summary>
        public const string Registry = "Registry";

        /// <summary>A method model combined with the registry, ready to emit.</summary>
        public const string Combined = "Combined";
    }
}
