using Microsoft.CodeAnalysis;

namespace DiffGen.Generator.Diagnostics
{
    /// <summary>All DG diagnostics. Keep docs/diagnostics.md and AnalyzerReleases.*.md in step.</summary>
    internal static class Descriptors
    {
        private const string Category = "DiffGen";

        private static DiagnosticDescriptor Error(string id, string title, string message) =>
            new DiagnosticDescriptor(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
                helpLinkUri: "https://github.com/diffgen/diffgen/blob/main/docs/diagnostics.md#" + id.ToLowerInvariant());

        private static DiagnosticDescriptor Warning(string id, string title, string message) =>
            new DiagnosticDescriptor(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true,
                helpLinkUri: "https://github.com/diffgen/diffgen/blob/main/docs/diagnostics.md#" + id.ToLowerInvariant());

        public static readonly DiagnosticDescriptor NotStatic = Error("DG0001",
            "Instance method in a type that cannot take an instance pullback",
            "[Differentiable] instance method '{0}' is declared in {1}: the generated pullback is an instance method next to it and takes the adjoint of 'this'; make the method static, or declare it in a class or struct");

        public static readonly DiagnosticDescriptor NotPartial = Error("DG0002",
            "Containing type must be partial",
            "Type '{0}' must be declared partial so the generator can add '{1}' to it");

        public static readonly DiagnosticDescriptor UnsupportedParameter = Error("DG0003",
            "Unsupported parameter",
            "Parameter '{0}' of type '{1}' is not supported: use double, float, int, long, bool, Span<T>, ReadOnlySpan<T>, T[], T[,], T[,,] or T[][] (T = double or float; int spans and arrays are inactive), passed by value{2}");

        public static readonly DiagnosticDescriptor UnsupportedReturn = Error("DG0004",
            "Unsupported return type",
            "Return type '{0}' is not supported: return void, a number, a bool, a struct or value tuple of numbers, or an array (T[], T[,], T[][]) of float or double");

        public static readonly DiagnosticDescriptor GenericMethod = Error("DG0005",
            "Generic method",
            "[Differentiable] method '{0}' is generic: write it for double or float (the generator needs concrete types)");

        public static readonly DiagnosticDescriptor NoBody = Error("DG0006",
            "Method has no body",
            "[Differentiable] method '{0}' has no body to differentiate");

        public static readonly DiagnosticDescriptor UnknownMode = Error("DG0007",
            "Unknown derivative mode",
            "'{0}' is not a derivative mode{1}: use Reverse, Forward, Vector, Dual or All (Reverse is always generated)");

        public static readonly DiagnosticDescriptor UnsupportedStatement = Error("DG0100",
            "Unsupported statement",
            "The generator cannot differentiate this statement ({0}): {1}");

        public static readonly DiagnosticDescriptor NoDerivative = Error("DG0101",
            "Call to a method without a derivative",
            "'{0}' has no derivative: mark it [Differentiable], or register a hand-written derivative: [DerivativeOf(typeof({1}), nameof({1}.{2}))] static {3}");

        public static readonly DiagnosticDescriptor UnsupportedExpression = Error("DG0102",
            "Unsupported expression",
            "The generator cannot differentiate this expression ({0}): {1}");

        public static readonly DiagnosticDescriptor UnsupportedLocal = Error("DG0103",
            "Unsupported local variable",
            "Local '{0}' of type '{1}' is not supported: use double, float, int, long, bool, or an array created with 'new T[n]'{2}");

        public static readonly DiagnosticDescriptor CallPlacement = Error("DG0104",
            "Call in an unsupported position",
            "Call of '{0}' {1}: assign its result to a local in a statement before it");

        public static readonly DiagnosticDescriptor UnsupportedMathFunction = Error("DG0105",
            "Unsupported Math function",
            "'{0}' has no built-in derivative; register one with [DerivativeOf(typeof({1}), nameof({1}.{2}))]");

        public static readonly DiagnosticDescriptor ArrayReassignment = Error("DG0106",
            "Array variable reassigned",
            "Array variable '{0}' is reassigned: declare a new array with 'new T[n]' or copy elements in a loop");

        public static readonly DiagnosticDescriptor ParallelConflict = Error("DG0110",
            "Parallel loop with a write conflict",
            "The iterations of this parallel loop cannot be proven independent: {0}; generated code would race, so nothing is generated. Make each iteration write only its own elements (out[i], out[j * w + i]) and keep sums in per-iteration elements, or use a serial for loop");

        public static readonly DiagnosticDescriptor AliasedArguments = Error("DG0107",
            "Array passed twice to a call that writes it",
            "'{0}' is passed as both '{1}' and '{2}' of '{3}', which writes '{4}': its derivative assumes they do not share memory; pass a separate array (a copy, or another output)");

        public static readonly DiagnosticDescriptor NoActiveInputs = Warning("DG0200",
            "Nothing to differentiate",
            "[Differentiable] method '{0}' has no float or double parameter that is not [NoDiff]: its derivatives are all zero");

        public static readonly DiagnosticDescriptor IgnoredNoDiff = Warning("DG0201",
            "[NoDiff] on an inactive parameter",
            "[NoDiff] on '{0}' has no effect: parameters of type '{1}' are never differentiated");
    
        private static DiagnosticDescriptor Info(string id, string title, string message) =>
            new DiagnosticDescriptor(id, title, message, Category, DiagnosticSeverity.Info, isEnabledByDefault: true,
                helpLinkUri: "https://github.com/diffgen/diffgen/blob/main/docs/diagnostics.md#" + id.ToLowerInvariant());

        public static readonly DiagnosticDescriptor NoDualPullback = Info("DG0300",
            "No second-order pullback",
            "'{0}PullbackDual' (Hessian-vector products) is not generated: {1}");

        public static readonly DiagnosticDescriptor NoVectorPushforward = Info("DG0301",
            "No vector pushforward",
            "'{0}PushforwardVector' is not generated: {1}; '{0}Pushforward' is, and handles one direction per call");

        public static readonly DiagnosticDescriptor StaticInput = Info("DG0302",
            "Static input not differentiated",
            "'{0}' is read as a constant input: its gradient is not computed (pass it as a parameter to differentiate with respect to it)");

        public static readonly DiagnosticDescriptor SerialLoop = Info("DG0303",
            "Loop of a [DataParallel] method stays serial",
            "'{0}': the loop '{1}' runs serially in the generated code: {2}");

        public static DiagnosticDescriptor ById(string id)
        {
            switch (id)
            {
                case "DG0001": return NotStatic;
                case "DG0002": return NotPartial;
                case "DG0003": return UnsupportedParameter;
                case "DG0004": return UnsupportedReturn;
                case "DG0005": return GenericMethod;
                case "DG0006": return NoBody;
                case "DG0007": return UnknownMode;
                case "DG0100": return UnsupportedStatement;
                case "DG0101": return NoDerivative;
                case "DG0102": return UnsupportedExpression;
                case "DG0103": return UnsupportedLocal;
                case "DG0104": return CallPlacement;
                case "DG0105": return UnsupportedMathFunction;
                case "DG0106": return ArrayReassignment;
                case "DG0107": return AliasedArguments;
                case "DG0110": return ParallelConflict;
                case "DG0200": return NoActiveInputs;
                case "DG0201": return IgnoredNoDiff;
                case "DG0300": return NoDualPullback;
                case "DG0301": return NoVectorPushforward;
                case "DG0302": return StaticInput;
                case "DG0303": return SerialLoop;
                default: throw new System.ArgumentException("unknown diagnostic id " + id);
            }
        }
    }
}
