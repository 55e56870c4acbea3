using System;

namespace DiffGen.Generator.Ir
{
    /// <summary>Scalar kinds the IR knows. Only Float and Double carry derivatives.</summary>
    internal enum Ty
    {
        Void,
        Bool,
        Int,
        Long,
        Float,
        Double,

        /// <summary>
        /// A value of a type the IR does not model (an enum, a string, a [NoDiff] struct or class):
        /// always inactive, printed by its type name (<see cref="Var.TypeName"/>, <see cref="Opaque.TypeName"/>).
        /// </summary>
        Other,
    }

    /// <summary>How a variable stores its value.</summary>
    internal enum Storage
    {
        Scalar,
        Span,
        ReadOnlySpan,
        Array,

        /// <summary>A struct value (a Vector3, a user's struct) whose float/double fields are its leaves.</summary>
        Struct,

        /// <summary>A reference to an object (<c>this</c>, or an object a field holds) whose fields are its leaves.</summary>
        Object,
    }

    internal enum VarRole
    {
        Param,
        Local,
        Temp,
        Flag,
        Result,

        /// <summary>The instance an instance method runs on.</summary>
        This,

        /// <summary>A field (or auto-property) of a struct or object variable: <see cref="Var.Container"/> and <see cref="Var.Path"/> locate it.</summary>
        Leaf,
    }

    /// <summary>
    /// A variable of the lowered method: a parameter, a (hoisted, uniquely named) local, or a
    /// generator temporary. Elem is the scalar kind (of the elements, for spans and arrays). An array
    /// has Rank dimensions: rectangular (<c>T[,]</c>) or, when Jagged, an array of arrays (<c>T[][]</c>).
    /// IsList marks a <c>List&lt;T&gt;</c> of numbers (Storage.Array, rank 1): indexed and counted like an array,
    /// its contents reached as a span through <c>CollectionsMarshal.AsSpan</c>, its adjoint a list of the same count.
    /// Accessor is the UnsafeAccessor of a leaf of this (<c>Accessor(thisBar)</c> then Path), or, for a leaf of another
    /// struct value, a template of accessor calls with <c>{0}</c> for the container (<c>__M_In_A(ref {0})</c>).
    /// ObjectElements marks an array of class objects (Aggregate): its elements are references, so saving it means
    /// saving the fields of the objects, not the array; ElementFields are the fields that can be saved (null when some
    /// float/double data of the objects cannot be assigned by generated code).
    /// </summary>
    /// <remarks>
    /// Structs and objects are split into their fields (scalar replacement of aggregates): a local
    /// <c>Vector3 r</c> is a container variable (Storage.Struct) and three leaf variables named
    /// <c>r.X</c>, <c>r.Y</c>, <c>r.Z</c>, whose adjoints are the fields of the container's adjoint
    /// (<c>rBar.X</c>). The analyses see only scalars and arrays; generated code reads like the source.
    /// A field of <c>this</c> is a leaf of the This container (<c>this.Temperature</c>, <c>this.Weights</c>).
    /// </remarks>
    internal sealed record Var(int Id, string Name, Ty Elem, Storage Storage, VarRole Role, int ParamIndex, bool NoDiff, string? TypeName = null,
        int Container = -1, string? Path = null, string? Modifier = null, string? Accessor = null, bool Aggregate = false, int Rank = 1, bool Jagged = false,
        bool IsList = false, bool ObjectElements = false, EquatableArray<ObjectField>? ElementFields = null)
    {
        /// <summary>A multi-dimensional or jagged array (not a flat span or <c>T[]</c>).</summary>
        public bool IsMultiDim => Rank > 1;

        /// <summary>Carries derivatives: a float/double value or array, or an array of structs/objects with float/double fields (Aggregate; TypeName is the element type).</summary>
        public bool IsReal => Elem == Ty.Float || Elem == Ty.Double || Aggregate;

        public bool IsScalar => Storage == Storage.Scalar;

        public bool IsWritableSpan => Storage == Storage.Span || Storage == Storage.Array;

        public bool IsContainer => Storage == Storage.Struct || Storage == Storage.Object;

        public bool IsLeaf => Container >= 0;
    }

    /// <summary>An assignable float/double field of the objects of an array of objects (a path below the element: ".Vx", ".Position.X").</summary>
    internal sealed record ObjectField(string Path, Ty Type);

    /// <summary>A source location that holds no Roslyn object (so models cache).</summary>
    internal sealed record LocationInfo(string FilePath, int Start, int Length, int StartLine, int StartColumn, int EndLine, int EndColumn)
    {
        public static readonly LocationInfo None = new LocationInfo("", 0, 0, 0, 0, 0, 0);
    }

    // ---------------------------------------------------------------- expressions

    /// <summary>Binary operators of the IR (C#'s, on the IR's scalar types).</summary>
    internal enum BinOp
    {
        Add,
        Sub,
        Mul,
        Div,
        Mod,
        Lt,
        Le,
        Gt,
        Ge,
        Eq,
        Ne,
        LogicalAnd,
        LogicalOr,
        BitAnd,
        BitOr,
        BitXor,
    }

    internal enum UnOp
    {
        Neg,
        Not,
    }

    /// <summary>The System.Math / System.MathF functions the generator differentiates (Rules.DerivativeRules holds their derivatives).</summary>
    internal enum MathFn
    {
        Sin,
        Cos,
        Tan,
        Exp,
        Log,
        Log10,
        Log2,
        Sqrt,
        Cbrt,
        Pow,
        Tanh,
        Sinh,
        Cosh,
        Atan,
        Asin,
        Acos,
        Abs,
        Min,
        Max,
        Clamp,
        Atan2,
        Floor,
        Ceiling,
        Round,
        Truncate,
        Sign,
        FusedMultiplyAdd,
    }

    internal abstract record Expr(Ty Type);

    /// <summary>A literal, printed as written (its Type is the type after implicit conversion context).</summary>
    internal sealed record Lit(string Text, Ty Type) : Expr(Type);

    /// <summary>A scalar variable read.</summary>
    internal sealed record VarRef(int Var, Ty Type) : Expr(Type);

    /// <summary>A span or array element read; Path names a field of a struct or object element (<c>bodies[i].Pos.X</c>).</summary>
    internal sealed record ElemRef(int Var, Expr Index, Ty Type, string? Path = null) : Expr(Type);

    /// <summary>
    /// <c>span.Length</c>; with Dim >= 0 <c>array.GetLength(Dim)</c>; with Row the length of a jagged
    /// array's row, <c>array[Row].Length</c>.
    /// </summary>
    internal sealed record LenRef(int Var, int Dim = -1, Expr? Row = null) : Expr(Ty.Int);

    internal sealed record Unary(UnOp Op, Expr Operand, Ty Type) : Expr(Type);

    internal sealed record Binary(BinOp Op, Expr Left, Expr Right, Ty Type) : Expr(Type);

    internal sealed record Conditional(Expr Condition, Expr WhenTrue, Expr WhenFalse, Ty Type) : Expr(Type);

    /// <summary>A conversion; implicit ones are printed without a cast.</summary>
    internal sealed record Cast(Expr Operand, Ty Type, bool Implicit) : Expr(Type);

    /// <summary>A call of System.Math or System.MathF.</summary>
    internal sealed record MathCall(MathFn Function, bool IsMathF, EquatableArray<Expr> Args, Ty Type) : Expr(Type);

    /// <summary>
    /// An inactive value printed as given: a static readonly field, a member of an inactive value
    /// (<c>grid.Dx</c>: Receiver is <c>grid</c>), an enum constant, or a call whose result carries no
    /// derivative (a static helper on integers, a method of an inactive value). Its receiver and
    /// arguments are analysed like any other reads. TypeName is the type's full name when Type is Other.
    /// </summary>
    /// <remarks>With Indexer, an element of a static array read as a constant input (<c>Weights[i]</c>): Args are its indices.</remarks>
    internal sealed record Opaque(string Callee, bool IsCall, EquatableArray<Expr> Args, Ty Type, Expr? Receiver = null, string? TypeName = null, bool Indexer = false) : Expr(Type);

    /// <summary>
    /// What lowering produces for syntax it reported a diagnostic on: a model with an error node is
    /// never analysed or emitted (the diagnostic stops the method), so no stage after lowering sees one.
    /// </summary>
    internal sealed record ErrorExpr() : Expr(Ty.Void);

    // ---------------------------------------------------------------- statements

    /// <summary>Every statement has a unique id (value equality would otherwise merge identical statements).</summary>
    internal abstract record Stmt(int Id);

    internal sealed record Block(int Id, EquatableArray<Stmt> Stmts) : Stmt(Id);

    /// <summary><c>target = value</c>; Target is a VarRef or an ElemRef.</summary>
    internal sealed record Assign(int Id, Expr Target, Expr Value, bool Declares = false) : Stmt(Id);

    /// <summary><c>var = new T[length]</c> for a local array.</summary>
    internal sealed record Alloc(int Id, int Var, Expr Length) : Stmt(Id);

    internal sealed record If(int Id, Expr Condition, Block Then, Block Else) : Stmt(Id);

    /// <summary>Any loop: a counted <see cref="ForLoop"/> or a general <see cref="WhileLoop"/>.</summary>
    internal abstract record Loop(int Id, Block Init, Expr Condition, Block Body) : Stmt(Id);

    /// <summary>
    /// A counted loop: <c>Init; for (Counter = Start; Condition; Counter += Step) Body</c>. The counter is
    /// declared by the loop, changed only by its step, and reconstructed in the reverse sweep instead of
    /// being taped. Init holds the header's other initialisers. Parallel marks a loop whose iterations are
    /// independent and run on several threads in generated code (a <c>Parallel.For</c>, or an outer loop of
    /// a [DataParallel] method; see Analysis/ParallelLoops.cs); Threads caps its threads (a
    /// <c>ParallelOptions.MaxDegreeOfParallelism</c>).
    /// </summary>
    internal sealed record ForLoop(int Id, Block Init, int Counter, Expr Start, Expr Condition, int Step, Block Body, bool Parallel = false, Expr? Threads = null) : Loop(Id, Init, Condition, Body);

    /// <summary>A general loop: <c>Init; while (Condition) { Body; Step; }</c> (for loops with another shape, while, do).</summary>
    internal sealed record WhileLoop(int Id, Block Init, Expr Condition, Block Step, Block Body) : Loop(Id, Init, Condition, Body);

    /// <summary>
    /// A call of a differentiable method (generated or hand-written derivative). A struct argument is the
    /// VarRef of a struct container; ResultVar may be a container (a struct result); Receiver is the
    /// container an instance method runs on (this), or -1 for a static method.
    /// </summary>
    internal sealed record Call(int Id, int Callee, EquatableArray<Expr> Args, int ResultVar, int Receiver = -1) : Stmt(Id);

    /// <summary>
    /// A statement that cannot change an active value and runs in the forward sweep only: a throw, an
    /// argument guard, an assertion, logging. Printed as written, with the generated names of its variables;
    /// DualText is the same with double values cast out of DiffGen.Dual for the dual pullback (null when the
    /// statement cannot run on dual numbers).
    /// </summary>
    internal sealed record ForwardOnly(int Id, string Text, string? DualText) : Stmt(Id);

    // Removed by the structurizer before analysis:
    internal sealed record Break(int Id) : Stmt(Id);

    internal sealed record Continue(int Id) : Stmt(Id);

    internal sealed record Return(int Id, Expr? Value) : Stmt(Id);

    // ---------------------------------------------------------------- calls

    /// <summary>One parameter of a callee, as the caller sees it.</summary>
    /// <remarks>Modifier is "ref" or "out" for a scalar passed by reference: the call reads (ref) and writes the argument variable.</remarks>
    internal sealed record CalleeParam(string Name, Ty Elem, Storage Storage, bool NoDiff, bool Reads, bool Writes, string? TypeName = null, bool Aggregate = false, int Rank = 1, bool Jagged = false,
        string? Modifier = null)
    {
        public bool HasAdjoint => !NoDiff && (Elem == Ty.Float || Elem == Ty.Double || Storage == Storage.Struct || Aggregate);
    }

    /// <summary>
    /// A method called from differentiable code. PullbackType/PullbackName are set when the derivative
    /// is known at lowering time (a [Differentiable] callee or a [DerivativeOf] on the callee's type);
    /// otherwise the registry of [DerivativeOf] methods of the compilation is consulted at emit time
    /// by Key, and DG0101 is reported if none is found. Signature identifies the method in the
    /// capability table (<see cref="Analysis.CapabilityTable"/>): for a [Differentiable] method of this
    /// compilation, the table supplies DualCapable, VectorCapable, SplitCapable, HasParallel and the params'
    /// Reads/Writes at emit time; lowering leaves the conservative answers (a method of another
    /// assembly or a hand-written derivative keeps them). A struct or tuple result has Return Other and
    /// ReturnTypeName; an array result also has ReturnElem, ReturnRank and ReturnJagged. DeviceClass names the
    /// callee's ILGPU forms (generated, or a hand-written <c>{Name}Device</c>); DeviceRecord says it is a generated
    /// composite's, with <c>Record</c> (its forward appending its reverse actions to a caller's list).
    /// </summary>
    internal sealed record Callee(
        string Key,
        string Signature,
        string TypeName,
        string Name,
        EquatableArray<CalleeParam> Params,
        Ty Return,
        string? PullbackType,
        string? PullbackName,
        string? PushforwardType,
        string? PushforwardName,
        string DisplaySignature,
        string PullbackSignatureHint,
        bool DualCapable = false,
        bool VectorCapable = false,
        bool SplitCapable = false,
        string? ReverseType = null,
        string? ReverseName = null,
        bool IsInstance = false,
        string? ReturnTypeName = null,
        string? Operator = null,
        bool UsesThis = false,
        bool HasParallel = false,
        string? DeviceClass = null,
        Ty ReturnElem = Ty.Void,
        int ReturnRank = 0,
        bool ReturnJagged = false,
        bool DeviceRecord = false)
    {
        /// <summary>Whether the callee returns an array (<c>T[]</c>, <c>T[,]</c>, <c>T[][]</c> of ReturnElem): Return is Other, ReturnTypeName its type.</summary>
        public bool ReturnsArray => ReturnRank > 0;
    }
}
