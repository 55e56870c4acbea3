using System;

namespace DiffGen.Generator.Pipeline
{
    /// <summary>
    /// The derivative forms of a method, as DiffGen.DerivativeModes in the runtime (same values: the
    /// generator reads the attribute's constant). Reverse ({Name}Pullback) is always emitted.
    /// </summary>
    [Flags]
    internal enum DerivativeModes
    {
        None = 0,
        Reverse = 1,
        Forward = 2,
        Vector = 4,
        Dual = 8,
        All = Reverse | Forward | Vector | Dual,
    }

    internal static class Modes
    {
        /// <summary>The MSBuild property that sets a project's default (a CompilerVisibleProperty).</summary>
        public const string Property = "DiffGenDerivativeModes";

        /// <summary>
        /// Parses the MSBuild property: mode names (Reverse, Forward, Vector, Dual, All; any case) separated
        /// by ',', ';', '|', '+' or spaces. Empty or absent is Reverse. Returns false, with the offending
        /// word, on anything else.
        /// </summary>
        public static bool TryParse(string? text, out DerivativeModes modes, out string bad)
        {
            modes = DerivativeModes.Reverse;
            bad = "";
            if (text == null) return true;
            foreach (var word in text.Split(new[] { ',', ';', '|', '+', ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries))
            {
                switch (word.ToLowerInvariant())
                {
                    case "reverse": modes |= DerivativeModes.Reverse; break;
                    case "forward": modes |= DerivativeModes.Forward; break;
                    case "vector": modes |= DerivativeModes.Vector; break;
                    case "dual": modes |= DerivativeModes.Dual; break;
                    case "all": modes |= DerivativeModes.All; break;
                    default: bad = word; return false;
                }
            }
            return true;
        }
    }
}
