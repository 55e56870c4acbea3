namespace DiffGen;

/// <summary>
/// Marks a <c>static</c> method of a <c>partial</c> type for differentiation. The DiffGen source
/// generator adds <c>{Name}Pullback</c> (reverse mode) to the same type, and the other forms that
/// <see cref="Modes"/> asks for. See docs/generated-code.md for the exact signatures.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class DifferentiableAttribute : Attribute
{
    /// <summary>
    /// The derivative forms to generate. <c>{Name}Pullback</c> is always generated; when this is not
    /// set, the project's MSBuild property <c>DiffGenDerivativeModes</c> decides (e.g.
    /// <c>&lt;DiffGenDerivativeModes&gt;Reverse,Forward&lt;/DiffGenDerivativeModes&gt;</c>; default
    /// <see cref="DerivativeModes.Reverse"/>). A form that a caller's form needs (a caller's pushforward
    /// calls its callees' pushforwards) is generated as well. A requested form the method cannot have
    /// (a dual pullback of float code) is reported as an info diagnostic (DG0300, DG0301).
    /// </summary>
    public DerivativeModes Modes { get; set; } = DerivativeModes.Reverse;
}

/// <summary>The derivative forms the generator adds for a <see cref="DifferentiableAttribute"/> method (flags).</summary>
[Flags]
public enum DerivativeModes
{
    /// <summary><c>{Name}Pullback</c>: reverse mode, vector-Jacobian products (gradients). Always generated.</summary>
    Reverse = 1,

    /// <summary><c>{Name}Pushforward</c>: forward mode, one Jacobian-vector product per call.</summary>
    Forward = 2,

    /// <summary><c>{Name}PushforwardVector</c>: forward mode carrying several tangent directions in one pass.</summary>
    Vector = 4,

    /// <summary><c>{Name}PullbackDual</c>: the pullback on dual numbers (forward over reverse: Hessian-vector products).</summary>
    Dual = 8,

    /// <summary>Every form.</summary>
    All = Reverse | Forward | Vector | Dual,
}

/// <summary>
/// Excludes a parameter of a <see cref="DifferentiableAttribute"/> method from differentiation:
/// it gets no adjoint or tangent and is treated as a constant. On a type (a grid, a boundary, an
/// options class), it makes every value of the type inactive: <c>[Differentiable]</c> methods take
/// such values as parameters and read their fields, properties and methods, and no derivative flows
/// through them. Enums, strings and types that hold no float or double data are inactive without it.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter | AttributeTargets.Struct | AttributeTargets.Class | AttributeTargets.Enum, AllowMultiple = false, Inherited = false)]
public sealed class NoDiffAttribute : Attribute
{
}

/// <summary>Which derivative a <see cref="DerivativeOfAttribute"/> method provides.</summary>
public enum DerivativeKind
{
    /// <summary>A reverse-mode pullback with the signature the generator would emit.</summary>
    Pullback = 0,

    /// <summary>A forward-mode pushforward with the signature the generator would emit.</summary>
    Pushforward = 1,

    /// <summary>
    /// The reverse half of a pullback: the pullback's signature (returning void), called after the target
    /// ran, with its inputs and outputs as the target left them. It propagates adjoints without re-running
    /// the target and must not change the primal state. Generated code calls it for calls outside loops
    /// (running the target itself in its forward sweep), so for a linear solve the pullback costs one
    /// adjoint solve instead of a forward and an adjoint solve. A pullback must be registered as well.
    /// </summary>
    PullbackReverse = 2,
}

/// <summary>
/// Registers the annotated static method as the hand-written derivative of another method, which
/// the generator then calls instead of differentiating that method (or instead of failing on a call
/// it cannot differentiate). The annotated method must have exactly the signature the generator
/// would emit for the target: for <c>R M(p1, …, pn)</c> a pullback is
/// <c>R MPullback(p1, …, pn, R resultBar, adjoints of the active parameters…)</c>. Diagnostic DG0101
/// prints the exact signature to write.
/// </summary>
/// <example>
/// <code>
/// [DerivativeOf(typeof(Math), nameof(Math.Cbrt))]
/// public static double CbrtPullback(double x, double resultBar, ref double xBar)
/// {
///     double y = Math.Cbrt(x);
///     xBar += resultBar / (3 * y * y);
///     return y;
/// }
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
public sealed class DerivativeOfAttribute : Attribute
{
    /// <summary>Registers a derivative of <paramref name="methodName"/> declared on <paramref name="type"/>.</summary>
    /// <param name="type">The type that declares the target method.</param>
    /// <param name="methodName">The target method's name (use <c>nameof</c>).</param>
    public DerivativeOfAttribute(Type type, string methodName)
    {
        Type = type;
        MethodName = methodName;
    }

    /// <summary>The type that declares the target method.</summary>
    public Type Type { get; }

    /// <summary>The target method's name.</summary>
    public string MethodName { get; }

    /// <summary>Pullback (default) or pushforward.</summary>
    public DerivativeKind Kind { get; set; } = DerivativeKind.Pullback;
}
